"""Over HTTP, on both databases: ordering entries and matching choices reach each candidate in an
order drawn for their attempt, even when the exam does not shuffle options; answers in canonical
ids score on the key whatever order was shown."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import PASSWORD, World

from exam_server.db import session_scope
from item_bank.variants import variant_view
from models import Attempt

ENTRIES = [{"id": x, "text": t} for x, t in [("a", "播种 sow"), ("b", "浇水 water"), ("c", "除草 weed"),
                                              ("d", "收获 harvest")]]
ORDERING = {"items": ENTRIES, "correct_order": ["a", "b", "c", "d"]}  # authored in key order, as usual
MATCHING = {"prompts": [{"id": "p1", "text": "中国"}, {"id": "p2", "text": "日本"}, {"id": "p3", "text": "法国"}],
            "choices": [{"id": "c1", "text": "北京"}, {"id": "c2", "text": "东京"}, {"id": "c3", "text": "巴黎"},
                        {"id": "c4", "text": "罗马"}],
            "correct": {"p1": "c1", "p2": "c2", "p3": "c3"}}
CANDIDATES = 12


def _exam(world: World) -> tuple[int, int]:
    """An exam of one ordering and one matching item, options NOT shuffled; returns (exam id, paper id)."""
    items = [world.ok("POST", "/api/items", "teacher", json={"type": t, "stem": t, "definition": d})["id"]
             for t, d in (("ordering", ORDERING), ("matching", MATCHING))]
    paper = world.ok("POST", "/api/papers", "teacher", json={"title": "结构 structured", "sections": [
        {"title": "一", "slots": [{"item_id": i, "points": 4} for i in items]}]})
    exam = world.ok("POST", "/api/exams", "teacher", json={
        "title": "不乱序 unshuffled", "paper_id": paper["id"], "class_id": world.ids["klass"],
        "opens_at": world.clock().isoformat(), "closes_at": (world.clock() + timedelta(hours=2)).isoformat(),
        "duration_minutes": 30, "shuffle_items": False, "shuffle_options": False})
    return exam["id"], paper["id"]


def _slots(attempt: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["type"]: s for section in attempt["paper"]["sections"] for s in section["slots"]}


def test_each_attempt_gets_its_own_order_of_ordering_entries_and_matching_choices(world: World) -> None:
    names = [f"k{n}" for n in range(CANDIDATES)]
    world.ok("POST", f"/api/classes/{world.ids['klass']}/students", "admin",
             json=[{"username": n, "password": PASSWORD, "display_name": n} for n in names])
    exam_id, paper_id = _exam(world)
    orders, choices = set(), set()
    for name in names:
        world.login(name)
        attempt = world.ok("POST", f"/api/exams/{exam_id}/attempt", name)
        assert world.ok("POST", f"/api/exams/{exam_id}/attempt", name)["paper"] == attempt["paper"]  # reload
        with session_scope(world.runtime.session_factory) as session:
            seed = session.scalars(select(Attempt.variant_seed).where(Attempt.id == attempt["attempt_id"])).one()
        expected = variant_view(world.runtime.paper_views[paper_id], seed, False, False)
        assert attempt["paper"]["sections"][0]["slots"] == expected["sections"][0]["slots"]
        slots = _slots(attempt)
        orders.add(tuple(i["id"] for i in slots["ordering"]["content"]["items"]))
        choices.add(tuple(c["id"] for c in slots["matching"]["content"]["choices"]))
        assert "correct" not in str(slots) and "correct_order" not in str(slots)
    # 12 draws from 24 orders: fewer than 3 distinct ones has probability below 1e-10
    assert len(orders) >= 3 and len(choices) >= 3


def _stored_ids(world: World, text_to_id: list[dict[str, Any]]) -> dict[str, str]:
    """Authored id -> the id the server issued, found through the entry texts."""
    by_text = {e["text"]: e["id"] for e in text_to_id}
    authored = {e["text"]: e["id"] for e in ENTRIES + MATCHING["choices"]}
    return {authored[t]: i for t, i in by_text.items() if t in authored}


def test_authored_ids_in_key_order_are_replaced(world: World) -> None:
    exam_id, _ = _exam(world)
    slots = _slots(world.ok("POST", f"/api/exams/{exam_id}/attempt", "s1"))
    shown = [i["id"] for i in slots["ordering"]["content"]["items"]]
    choices = [c["id"] for c in slots["matching"]["content"]["choices"]]
    assert not {"a", "b", "c", "d", "c1", "c2", "c3", "c4"} & set(shown + choices), "authored ids spell the key"
    assert [p["id"] for p in slots["matching"]["content"]["prompts"]] == ["p1", "p2", "p3"], "prompts keep theirs"


def test_canonical_answers_score_on_the_key_whatever_was_shown(world: World) -> None:
    exam_id, _ = _exam(world)
    attempt = world.ok("POST", f"/api/exams/{exam_id}/attempt", "s1")
    slots = _slots(attempt)
    ids = _stored_ids(world, slots["ordering"]["content"]["items"] + slots["matching"]["content"]["choices"])
    key = [ids[x] for x in ("a", "b", "c", "d")]
    assert world.save("s1", attempt["attempt_id"], slots["ordering"]["slot_id"], key, 1).status_code == 200
    assert world.save("s1", attempt["attempt_id"], slots["matching"]["slot_id"],
                      {"p1": ids["c1"], "p2": ids["c2"], "p3": ids["c4"]}, 1).status_code == 200
    world.ok("POST", f"/api/attempts/{attempt['attempt_id']}/submit", "s1")
    result = world.ok("GET", f"/api/attempts/{attempt['attempt_id']}/result", "teacher")
    assert result["score"] == pytest.approx(4 + 4 * 2 / 3, abs=1e-3)  # scores are stored to 4 places
