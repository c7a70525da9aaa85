"""Marking across the forms (A卷/B卷) of a joint exam: the matching rule as a table, then a two-form
joint exam over HTTP on SQLite and PostgreSQL where one unit holds "the essay" of both forms, each
candidate's task shows their own form's question, and the final score lands in their own slot."""

from typing import Any

import pytest
from joint_world import build_joint
from sqlalchemy import select
from support import PASSWORD, World

from exam_server.db import session_scope
from exam_server.services import marking
from exam_server.services.marking_forms import FormSlot, match_forms
from models import AttemptAnswer, AttemptStep, AuditEvent, Exam, MarkingUnit, StepKind, User


def _s(slot_id: int, section: int, position: int, item: int, points: float = 10, step: float = 1,
       criteria: tuple[tuple[str, float], ...] = ()) -> FormSlot:
    return FormSlot(slot_id, section, position, item, points, step, criteria)


A = [_s(1, 1, 5, item=100), _s(2, 2, 1, item=200), _s(3, 2, 2, item=300, points=6)]

CASES: list[tuple[str, list[tuple[str, list[FormSlot]]], list[tuple[str, tuple[int, ...]]]]] = [
    ("no other form", [], [("Q1", (1,)), ("Q2", (2,)), ("Q3", (3,))]),
    ("same items shuffled into other places: matched by item id",
     [("B", [_s(11, 1, 1, item=300, points=6), _s(12, 2, 1, item=100), _s(13, 2, 2, item=200)])],
     [("Q1", (1, 12)), ("Q2", (2, 13)), ("Q3", (3, 11))]),
    ("parallel form with other items: matched by section and position",
     [("B", [_s(11, 1, 5, item=101), _s(12, 2, 1, item=201), _s(13, 2, 2, item=301, points=6)])],
     [("Q1", (1, 11)), ("Q2", (2, 12)), ("Q3", (3, 13))]),
    ("item id wins over place; the place's other occupant has no match left",
     [("B", [_s(11, 1, 5, item=555), _s(12, 3, 1, item=100)])],
     [("Q1", (1, 12)), ("Q2", (2,)), ("Q3", (3,)), ("B·Q1", (11,))]),
    ("other points, step or rubric: a unit of its own",
     [("B", [_s(11, 1, 5, item=100, points=8), _s(12, 2, 1, item=201, step=0.5),
             _s(13, 2, 2, item=301, points=6, criteria=(("内容", 6.0),))])],
     [("Q1", (1,)), ("Q2", (2,)), ("Q3", (3,)), ("B·Q1", (11,)), ("B·Q2", (12,)), ("B·Q3", (13,))]),
    ("two other forms, each matched on its own; the same item twice goes to one slot only",
     [("B", [_s(11, 1, 5, item=100), _s(12, 1, 6, item=100)]), ("C", [_s(21, 2, 1, item=200)])],
     [("Q1", (1, 11)), ("Q2", (2, 21)), ("Q3", (3,)), ("B·Q2", (12,))]),
]


@pytest.mark.parametrize(("others", "expected"), [(o, e) for _, o, e in CASES], ids=[c[0] for c in CASES])
def test_the_matching_rule(others: list[tuple[str, list[FormSlot]]],
                           expected: list[tuple[str, tuple[int, ...]]]) -> None:
    got = [(q.name, tuple(s.slot_id for s in q.slots)) for q in match_forms(A, others)]
    assert got == expected


# ---- a two-form joint exam over HTTP ------------------------------------------------------------

def _two_forms(world: World) -> dict[str, Any]:
    """Form A is the world's paper (its essay, 10 points, in section 二). Form B has another essay
    in the same place (matched by place) and the world's essay again at 5 points (another scale:
    a unit of its own)."""
    j = build_joint(world)
    e, ids = j["exam"], world.ids
    essay_b = world.ok("POST", "/api/items", "teacher", json={
        "type": "essay", "stem": "B卷作文 essay B", "definition": {"reference_answer": "REFERENCE-B"}})["id"]
    paper_b = world.ok("POST", "/api/papers", "teacher", json={"title": "B卷", "sections": [
        {"title": "一", "slots": [{"item_id": ids["items"][0], "points": 2}]},
        {"title": "二", "slots": [{"item_id": essay_b, "points": 10}]},
        {"title": "三", "slots": [{"item_id": ids["items"][5], "points": 5}]}]})
    world.ok("POST", f"/api/centre/exams/{e}/forms", "centre", json={"label": "A", "paper_id": ids["paper"]})
    world.ok("POST", f"/api/centre/exams/{e}/forms", "centre", json={"label": "B", "paper_id": paper_b["id"]})
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    rows = world.ok("GET", f"/api/centre/exams/{e}/candidates", "centre")
    on = {label: next(r["username"] for r in rows if r["form_label"] == label) for label in ("A", "B")}
    b_slots = [s["slot_id"] for sec in paper_b["sections"] for s in sec["slots"]]
    return {"exam": e, "on": on, "a_essay": ids["slots"][5], "b_slots": b_slots}


def _sit(world: World, exam: int, who: str, answers: dict[int, Any]) -> int:
    attempt_id: int = world.ok("POST", f"/api/exams/{exam}/attempt", who)["attempt_id"]
    for seq, (slot, response) in enumerate(answers.items(), start=1):
        assert world.save(who, attempt_id, slot, response, seq).status_code == 200
    world.ok("POST", f"/api/attempts/{attempt_id}/submit", who)
    return attempt_id


def _marker_on(world: World, exam: int) -> None:
    world.ok("POST", "/api/users", "admin", json={"username": "m1", "password": PASSWORD, "display_name": "m1",
                                                  "role": "marker", "school_id": world.ids["school"]})
    world.login("m1")
    marker = world.ok("GET", "/api/auth/me", "m1")["id"]
    world.ok("POST", f"/api/exams/{exam}/staff", "admin", json={"user_id": marker, "duty": "marker"})


def test_one_unit_per_question_across_forms_and_scores_in_the_right_slot(world: World) -> None:
    f = _two_forms(world)
    e, a_essay, (b_choice, b_essay, b_short) = f["exam"], f["a_essay"], f["b_slots"]
    a_attempt = _sit(world, e, f["on"]["A"], {world.ids["slots"][0]: "B", a_essay: "A卷答案 A-ANSWER"})
    b_attempt = _sit(world, e, f["on"]["B"], {b_choice: "B", b_essay: "B卷答案 B-ANSWER", b_short: "B-SHORT"})
    _marker_on(world, e)
    units = world.ok("POST", f"/api/exams/{e}/marking/units", "admin", json={"mode": "single"})
    assert [(u["name"], u["slot_ids"], u["tasks"]) for u in units] == [
        ("Q1", [a_essay, b_essay], 2), ("B·Q2", [b_short], 1)]
    again = world.ok("POST", f"/api/exams/{e}/marking/units", "admin", json={"mode": "single"})
    assert [(u["id"], u["tasks"]) for u in again] == [(u["id"], u["tasks"]) for u in units], "idempotent"

    batch = world.ok("POST", f"/api/marking/units/{units[0]['id']}/batch", "m1", json={"n": 10})
    assert batch["unit"]["reference_answer"] == "SECRET-REFERENCE-TEXT"
    tasks = {t["response"].split()[1]: t for t in batch["tasks"]}
    assert set(tasks) == {"A-ANSWER", "B-ANSWER"}
    assert "question" not in tasks["A-ANSWER"], "the unit's own question: nothing to override"
    assert tasks["B-ANSWER"]["question"]["reference_answer"] == "REFERENCE-B", "form B's marker sees B's key"
    assert tasks["B-ANSWER"]["question"]["stem"] == "B卷作文 essay B"
    for answer, score in (("A-ANSWER", 7), ("B-ANSWER", 4)):
        world.ok("POST", f"/api/marking/tasks/{tasks[answer]['token']}/mark", "m1", json={"score": score})

    a_result = world.ok("GET", f"/api/attempts/{a_attempt}/result", "admin")
    assert (a_result["state"], a_result["score"]) == ("graded", 2 + 7)
    b_result = world.ok("GET", f"/api/attempts/{b_attempt}/result", "admin")
    assert (b_result["state"], b_result["score"], b_result["needs_manual_grading"]) == ("submitted", 2 + 4, True)
    assert (b_result["pending_numbers"], b_result["final_score"]) == ([3], None), "numbered as on form B"
    assert [(s["number"], s["status"], s["score"]) for s in b_result["slots"]] == [
        (1, "final", 2), (2, "final", 4), (3, "being_marked", None)]
    short = world.ok("POST", f"/api/marking/units/{units[1]['id']}/batch", "m1", json={"n": 10})["tasks"]
    assert [t["response"] for t in short] == ["B-SHORT"] and "question" not in short[0]
    world.ok("POST", f"/api/marking/tasks/{short[0]['token']}/mark", "m1", json={"score": 2})
    b_result = world.ok("GET", f"/api/attempts/{b_attempt}/result", "admin")
    assert (b_result["state"], b_result["score"]) == ("graded", 2 + 4 + 2)
    with session_scope(world.runtime.session_factory) as session:
        steps = session.execute(select(AttemptStep.attempt_id, AttemptStep.slot_id).where(
            AttemptStep.kind == StepKind.MANUALLY_GRADED).order_by(AttemptStep.id)).all()
        assert sorted(steps) == sorted([(a_attempt, a_essay), (b_attempt, b_essay), (b_attempt, b_short)])
        assert session.get(AttemptAnswer, (b_attempt, b_essay)).fraction == 0.4  # type: ignore[union-attr]
        assert session.get(AttemptAnswer, (a_attempt, b_essay)) is None, "nothing written into another form"


def test_a_form_added_after_the_units_joins_them(world: World) -> None:
    """A unit made when the exam had one form (its essay alone) gains form B's essay, audited."""
    f = _two_forms(world)
    with session_scope(world.runtime.session_factory) as session:
        exam = session.get(Exam, f["exam"])
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        assert exam is not None
        old = MarkingUnit(exam_id=exam.id, name="Q1", slot_ids=[f["a_essay"]], points=10, mode="single",
                          tolerance=0, score_step=0.0001, created_by=admin.id, created_at=world.clock())
        session.add(old)
        session.flush()
        units = marking.create_units(session, admin, exam, marking.UnitSettings(), world.clock())
        assert [(u.id, u.slot_ids) for u in units] == [(old.id, [f["a_essay"], f["b_slots"][1]]),
                                                       (units[1].id, [f["b_slots"][2]])]
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "marking.unit_slots_added")).all() == ["marking.unit_slots_added"]
