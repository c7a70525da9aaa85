"""Paper assembly over HTTP on a real bank: preview, parallel forms, infeasible explanations,
and saving the chosen form as a paper an exam can use."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> Iterator[tuple[World, dict[str, int]]]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    world = build_world(make_client(runtime), runtime, clock, students=1)
    points = {name: world.ok("POST", "/api/knowledge-points/path", "teacher", json={"path": ["数学", name]})["id"]
              for name in ("二次函数", "几何", "概率")}
    for n in range(36):
        topic = list(points)[n % 3]
        item_type = "single_choice" if n % 4 else "true_false"
        definition: dict[str, Any] = (
            {"options": [{"id": "A", "text": "甲"}, {"id": "B", "text": "乙"}], "correct": "A"}
            if item_type == "single_choice" else {"correct": True})
        world.ok("POST", "/api/items", "teacher", json={
            "type": item_type, "stem": f"{topic} 第{n}题", "definition": definition, "status": "reviewed",
            "difficulty_estimate": 0.3 + 0.5 * (n % 7) / 6, "knowledge_point_ids": [points[topic]],
            "time_seconds": 60})
    yield world, points
    runtime.engine.dispose()


def _blueprint(points: dict[str, int], **changes: Any) -> dict[str, Any]:
    blueprint: dict[str, Any] = {
        "sections": [{"name": "一、选择题", "count": 6, "types": ["single_choice"], "points_per_item": 5},
                     {"name": "二、判断题", "count": 3, "types": ["true_false"], "points_per_item": 2}],
        "knowledge_points": [{"node": points["二次函数"], "min_count": 3}, {"node": points["几何"], "max_count": 2}],
        "difficulty": {"mean": 0.55, "tolerance": 0.05},
        "max_time_seconds": 20 * 60,
    }
    blueprint.update(changes)
    return blueprint


def test_preview_meets_every_requirement_and_saves_as_a_paper(bank: tuple[World, dict[str, int]]) -> None:
    world, points = bank
    out = world.ok("POST", "/api/assembly/preview", "teacher", json={"blueprint": _blueprint(points)})
    form = out["forms"][0]
    assert form["violations"] == [] and form["status"] in {"optimal", "feasible"}
    assert form["gap"] <= 0.01 + 1e-9 and form["bound"] <= form["objective"] + 1e-9
    sections = form["sections"]
    assert [len(s["items"]) for s in sections] == [6, 3]
    assert {i["type"] for i in sections[0]["items"]} == {"single_choice"}
    chosen = [i for s in sections for i in s["items"]]
    topics = [i["knowledge_point_ids"][0] for i in chosen]
    assert topics.count(points["二次函数"]) >= 3 and topics.count(points["几何"]) <= 2
    assert abs(sum(i["difficulty"] for i in chosen) / len(chosen) - 0.55) <= 0.05 + 1e-9
    assert all(i["item_id"] not in world.ids["items"] for i in chosen)  # drafts are left out: reviewed only

    paper = world.ok("POST", "/api/papers", "teacher", json={"title": "组卷 A", "sections": [
        {"title": s["name"], "slots": [{"item_id": i["item_id"], "points": i["points"]} for i in s["items"]]}
        for s in sections]})
    assert paper["max_score"] == pytest.approx(6 * 5 + 3 * 2)
    exam = world.ok("POST", "/api/exams", "teacher", json={
        "title": "组卷考试", "paper_id": paper["id"], "class_id": world.ids["klass"],
        "opens_at": world.clock().isoformat(), "closes_at": (world.clock() + timedelta(hours=1)).isoformat(),
        "duration_minutes": 20})
    # used by this class now: the next assembly for the class avoids these items
    again = world.ok("POST", "/api/assembly/preview", "teacher",
                     json={"blueprint": _blueprint(points), "class_id": world.ids["klass"]})
    reused = {i["item_id"] for s in again["forms"][0]["sections"] for i in s["items"]} & {i["item_id"] for i in chosen}
    assert exam["id"] and reused == set()


def test_parallel_forms_share_no_item(bank: tuple[World, dict[str, int]]) -> None:
    world, points = bank
    blueprint = _blueprint(points, difficulty={"mean": 0.55, "tolerance": 0.1}, knowledge_points=[])
    out = world.ok("POST", "/api/assembly/preview", "teacher", json={"blueprint": blueprint, "forms": 2})
    assert len(out["forms"]) == 2 and out["overlap"] == 0
    ids = [{i["item_id"] for s in f["sections"] for i in s["items"]} for f in out["forms"]]
    assert not ids[0] & ids[1]
    assert all(f["violations"] == [] for f in out["forms"])


def test_infeasible_blueprint_is_explained_in_both_languages(bank: tuple[World, dict[str, int]]) -> None:
    world, points = bank
    blueprint = _blueprint(points, knowledge_points=[{"node": points["概率"], "min_count": 9,
                                                      "types": ["true_false"]}])
    r = world.call("POST", "/api/assembly/preview", "teacher", json={"blueprint": blueprint})
    assert r.status_code == 422 and r.json()["error"] == "Infeasible"
    explanations = r.json()["explanations"]
    assert explanations and any("概率" in e["zh"] for e in explanations)
    assert any("knowledge_points[0]" in e["constraint"] for e in explanations)


def test_malformed_blueprint_names_the_field(bank: tuple[World, dict[str, int]]) -> None:
    world, points = bank
    r = world.call("POST", "/api/assembly/preview", "teacher",
                   json={"blueprint": _blueprint(points, sections=[{"name": "x", "count": 0}])})
    assert r.status_code == 422 and "count" in r.json()["detail"]
    assert world.call("POST", "/api/assembly/preview", "s1", json={"blueprint": _blueprint(points)}).status_code == 403
