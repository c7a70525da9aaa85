"""The thin slice over HTTP on a real database (SQLite and PostgreSQL)."""

import json

import pytest
from support import ITEMS, World

FULL_MARKS = ["B", ["A", "C"], True, ["北京"], 56]


def test_whole_slice_scores_objective_items_and_releases_result(world: World) -> None:
    attempt = world.start("s1")
    assert attempt["state"] == "in_progress"
    slots = world.ids["slots"]
    responses = ["A", ["A"], True, ["北京"], "56", "我的作文"]  # wrong, half (gaokao), right, right, right, essay
    for seq, (slot, response) in enumerate(zip(slots, responses, strict=True), start=1):
        assert world.save("s1", attempt["attempt_id"], slot, response, seq).status_code == 200
    done = world.ok("POST", f"/api/attempts/{attempt['attempt_id']}/submit", "s1")
    assert done["state"] == "submitted" and done["finish_reason"] == "submitted"

    blocked = world.call("GET", f"/api/attempts/{attempt['attempt_id']}/result", "s1")
    assert blocked.status_code == 403 and blocked.json()["error"] == "Forbidden"
    unreleased = world.ok("GET", f"/api/exams/{world.ids['exam']}", "s1")["my_attempt"]
    assert unreleased["state"] == "submitted" and unreleased["score"] is None

    world.ok("POST", f"/api/exams/{world.ids['exam']}/release", "teacher")
    result = world.ok("GET", f"/api/attempts/{attempt['attempt_id']}/result", "s1")
    assert result["score"] == pytest.approx(0 + 2 + 1 + 3 + 5)  # multiple choice: 1 of 2 correct -> half of 4
    assert result["max_score"] == pytest.approx(sum(points for *_, points in ITEMS))
    assert result["needs_manual_grading"] is True
    by_slot = {s["slot_id"]: s for s in result["slots"]}
    assert by_slot[slots[1]]["fraction"] == pytest.approx(0.5)
    assert by_slot[slots[5]]["grading_state"] == "needs_manual"

    listed = world.ok("GET", "/api/exams", "s1")
    assert listed[0]["my_attempt"]["attempt_id"] == attempt["attempt_id"]
    assert listed[0]["my_attempt"]["score"] == pytest.approx(11)
    assert world.ok("GET", "/api/exams", "s2")[0]["my_attempt"] is None

    table = world.ok("GET", f"/api/exams/{world.ids['exam']}/results", "teacher")
    assert {row["username"]: row["score"] for row in table} == {"s1": pytest.approx(11), "s2": None}


def test_start_is_resume_and_keeps_the_deadline(world: World) -> None:
    first = world.start("s1")
    world.save("s1", first["attempt_id"], world.ids["slots"][0], "B", 1)
    world.clock.advance(minutes=3)
    again = world.start("s1")
    assert again["attempt_id"] == first["attempt_id"]
    assert again["deadline"] == first["deadline"]
    assert [(a["slot_id"], a["response"]) for a in again["answers"]] == [(world.ids["slots"][0], "B")]


def test_stale_save_never_overwrites_a_newer_one(world: World) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    slot = world.ids["slots"][0]
    assert world.save("s1", attempt_id, slot, "B", 5).status_code == 200
    stale = world.save("s1", attempt_id, slot, "A", 3)
    assert stale.status_code == 409
    assert stale.json()["error"] == "StaleSave" and stale.json()["current_seq"] == 5
    assert stale.json()["current_response"] == "B"
    replay = world.save("s1", attempt_id, slot, "B", 5)  # a retried request is accepted, changes nothing
    assert replay.status_code == 200
    same_seq_other_answer = world.save("s1", attempt_id, slot, "A", 5)
    assert same_seq_other_answer.status_code == 409
    answers = world.ok("GET", f"/api/attempts/{attempt_id}", "s1")["answers"]
    assert [(a["response"], a["client_seq"]) for a in answers] == [("B", 5)]


def test_save_after_deadline_is_refused_and_saved_answers_survive(world: World) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    slots = world.ids["slots"]
    world.save("s1", attempt_id, slots[0], "B", 1)
    world.save("s1", attempt_id, slots[4], 56, 2)
    world.clock.advance(minutes=31)
    world.refresh("s1")
    world.refresh("teacher")
    late = world.save("s1", attempt_id, slots[2], True, 3)
    assert late.status_code == 409
    assert late.json()["error"] == "AttemptClosed"
    assert "deadline passed" in late.json()["detail"] and "kept" in late.json()["detail"]
    view = world.ok("GET", f"/api/attempts/{attempt_id}", "s1")
    assert {a["slot_id"]: a["response"] for a in view["answers"]} == {slots[0]: "B", slots[4]: 56}
    # submitting late closes it at the deadline, scoring what was saved
    done = world.ok("POST", f"/api/attempts/{attempt_id}/submit", "s1")
    assert done["finish_reason"] == "deadline" and done["finished_at"] == view["deadline"]
    world.ok("POST", f"/api/exams/{world.ids['exam']}/release", "teacher")
    assert world.ok("GET", f"/api/attempts/{attempt_id}/result", "s1")["score"] == pytest.approx(7)


def test_submit_is_idempotent(world: World) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    first = world.ok("POST", f"/api/attempts/{attempt_id}/submit", "s1")
    world.clock.advance(minutes=1)
    second = world.ok("POST", f"/api/attempts/{attempt_id}/submit", "s1")
    assert first == second
    closed = world.save("s1", attempt_id, world.ids["slots"][0], "B", 1)
    assert closed.status_code == 409 and closed.json()["error"] == "AttemptClosed"


def test_student_cannot_read_another_attempt_or_any_key(world: World) -> None:
    mine = world.start("s1")
    other = world.start("s2")
    world.save("s2", other["attempt_id"], world.ids["slots"][0], "B", 1)
    for method, url in [("GET", f"/api/attempts/{other['attempt_id']}"),
                        ("GET", f"/api/attempts/{other['attempt_id']}/result"),
                        ("POST", f"/api/attempts/{other['attempt_id']}/submit")]:
        r = world.call(method, url, "s1")
        assert r.status_code == 404, (url, r.text)
    assert world.save("s1", other["attempt_id"], world.ids["slots"][0], "A", 9).status_code == 404
    for url in [f"/api/items/{world.ids['items'][0]}", "/api/items", f"/api/papers/{world.ids['paper']}",
                f"/api/exams/{world.ids['exam']}/results"]:
        assert world.call("GET", url, "s1").status_code == 403, url

    world.ok("POST", f"/api/attempts/{mine['attempt_id']}/submit", "s1")
    world.ok("POST", f"/api/exams/{world.ids['exam']}/release", "teacher")
    seen = [mine, world.start("s1"), world.ok("GET", f"/api/attempts/{mine['attempt_id']}", "s1"),
            world.ok("GET", f"/api/attempts/{mine['attempt_id']}/result", "s1"), world.ok("GET", "/api/exams", "s1")]
    text = json.dumps(seen, ensure_ascii=False)
    for forbidden in ['"correct"', '"answers": [{"text"', "SECRET-REFERENCE-TEXT", "北京", '"reference_answer"']:
        assert forbidden not in text, forbidden


def test_not_on_roster_cannot_start(world: World) -> None:
    world.ok("POST", "/api/users", "admin", json={"username": "outsider", "password": "pass-word-1",
                                                  "display_name": "x", "role": "student"})
    world.login("outsider")
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/attempt", "outsider")
    assert r.status_code == 403 and "roster" in r.json()["detail"]


def test_exam_closed_window_refuses_new_attempts(world: World) -> None:
    world.clock.advance(hours=4)
    world.login("s1")
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/attempt", "s1")
    assert r.status_code == 409 and r.json()["error"] == "ExamNotOpen"


def test_shuffled_exam_gives_each_candidate_a_stable_variant_scored_on_the_canonical_key(world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from exam_server.db import session_scope
    from item_bank.variants import variant_view
    from models import Attempt

    exam = world.ok("POST", "/api/exams", "teacher", json={
        "title": "乱序卷 shuffled", "paper_id": world.ids["paper"], "class_id": world.ids["klass"],
        "opens_at": world.clock().isoformat(), "closes_at": (world.clock() + timedelta(hours=2)).isoformat(),
        "duration_minutes": 30, "shuffle_items": True, "shuffle_options": True})
    first = world.ok("POST", f"/api/exams/{exam['id']}/attempt", "s1")
    again = world.ok("POST", f"/api/exams/{exam['id']}/attempt", "s1")
    assert first["paper"] == again["paper"]  # a reload shows the same arrangement
    with session_scope(world.runtime.session_factory) as session:
        seed = session.scalars(select(Attempt.variant_seed).where(Attempt.id == first["attempt_id"])).one()
    canonical = world.runtime.paper_views[world.ids["paper"]]
    assert first["paper"] == json_roundtrip(variant_view(canonical, seed, True, True))
    slots = [s for section in first["paper"]["sections"] for s in section["slots"]]
    assert sorted(s["slot_id"] for s in slots) == sorted(world.ids["slots"])
    choice = next(s for s in slots if s["type"] == "single_choice")
    assert [o["label"] for o in choice["content"]["options"]] == ["A", "B"]
    # answering by canonical id scores on the canonical key whatever the letters shown
    world.save("s1", first["attempt_id"], choice["slot_id"], "B", 1)
    world.ok("POST", f"/api/attempts/{first['attempt_id']}/submit", "s1")
    result = world.ok("GET", f"/api/attempts/{first['attempt_id']}/result", "teacher")
    assert result["score"] == pytest.approx(2)


def json_roundtrip(value: object) -> object:
    return json.loads(json.dumps(value))
