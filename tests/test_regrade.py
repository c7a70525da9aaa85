"""Grading again keeps people's marks, and regrading an exam after a key fix, on SQLite and
PostgreSQL: the dry run lists what the real run then does, manual slots untouched."""

from typing import Any

from sqlalchemy import func, select
from support import ITEMS, PASSWORD, World

from exam_server.db import session_scope
from exam_server.services import attempts
from exam_server.services.scan_apply import apply_page
from models import (
    AnswerCrop,
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    AuditEvent,
    PaperSlot,
    ScanBatch,
    ScanPage,
    StepKind,
)

ESSAY = 5  # the essay slot (10 points); slot 0 is a 2-point single choice keyed "B"


def _sit(world: World, student: str, choice: str, essay: str) -> int:
    attempt_id: int = world.start(student)["attempt_id"]
    slots = world.ids["slots"]
    assert world.save(student, attempt_id, slots[0], choice, 1).status_code == 200
    assert world.save(student, attempt_id, slots[ESSAY], essay, 2).status_code == 200
    world.ok("POST", f"/api/attempts/{attempt_id}/submit", student)
    return attempt_id


def _mark_essay(world: World, score: float) -> None:
    """A single-marked unit; the marker m1 marks the first essay in the queue."""
    user_id = world.ok("POST", "/api/users", "admin", json={
        "username": "m1", "password": PASSWORD, "display_name": "m1", "role": "marker",
        "school_id": world.ids["school"]})["id"]
    world.ok("POST", f"/api/exams/{world.ids['exam']}/staff", "teacher", json={"user_id": user_id, "duty": "marker"})
    world.login("m1")
    unit = world.ok("POST", f"/api/exams/{world.ids['exam']}/marking/units", "teacher", json={"mode": "single"})[0]
    token = world.ok("POST", f"/api/marking/units/{unit['id']}/batch", "m1", json={"n": 1})["tasks"][0]["token"]
    world.ok("POST", f"/api/marking/tasks/{token}/mark", "m1", json={"score": score})


def _state(world: World) -> dict[str, Any]:
    slots = world.ids["slots"]
    with session_scope(world.runtime.session_factory) as session:
        rows = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        return {
            "attempts": [(a.id, a.state, a.score, a.needs_manual_grading) for a in rows],
            "fractions": [(a.attempt_id, a.slot_id, a.fraction, a.grading_state) for a in session.scalars(
                select(AttemptAnswer).order_by(AttemptAnswer.attempt_id, AttemptAnswer.slot_id))],
            "regraded": session.scalar(select(func.count()).select_from(AttemptStep)
                                       .where(AttemptStep.kind == StepKind.REGRADED)),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "attempt.regraded")),
            "slot0_item": session.scalar(select(PaperSlot.item_id).where(PaperSlot.id == slots[0])),
            "essay": [(a.attempt_id, a.fraction) for a in session.scalars(
                select(AttemptAnswer).where(AttemptAnswer.slot_id == slots[ESSAY]).order_by(AttemptAnswer.attempt_id))],
        }


def _grade_again(world: World, attempt_id: int) -> None:
    """What a second scanned page does: the attempt goes back to submitted and is graded again."""
    with session_scope(world.runtime.session_factory) as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        attempt.state = AttemptState.SUBMITTED
        session.flush()
        attempts.grade(session, attempt_id, world.clock())


def test_grading_again_keeps_the_manual_mark(world: World) -> None:
    a1 = _sit(world, "s1", "B", "first essay")
    _mark_essay(world, 6)
    before = _state(world)
    assert before["attempts"][0] == (a1, AttemptState.GRADED, 8.0, False)
    assert (a1, 0.6) in before["essay"]
    _grade_again(world, a1)
    after = _state(world)
    assert after["attempts"][0] == (a1, AttemptState.GRADED, 8.0, False), "the marked essay's 6 points survive"
    assert after["fractions"] == before["fractions"]


def test_a_later_scanned_page_keeps_the_marked_crop(world: World) -> None:
    """A page applied after the essay's crop was marked: graded again, the mark and the total stay."""
    w = world
    a1 = _sit(w, "s1", "A", "first essay")  # wrong on slot 0 online; the scanned sheet says B
    _mark_essay(w, 6)
    now = w.clock()
    with session_scope(w.runtime.session_factory) as session:
        attempt = session.get(Attempt, a1)
        assert attempt is not None and attempt.score == 6.0
        batch = ScanBatch(exam_id=w.ids["exam"], uploaded_by=attempt.user_id, status="running", input_dir="-",
                          created_at=now)
        session.add(batch)
        session.flush()
        pages = [ScanPage(batch_id=batch.id, exam_id=w.ids["exam"], content_hash=str(n) * 64, source=f"p#{n}",
                          status="read", created_at=now,
                          reading={"fields": {"1": {"kind": "single", "value": "B"}}, "crops": []})
                 for n in (1, 2)]
        session.add_all(pages)
        session.flush()
        session.add(AnswerCrop(exam_id=w.ids["exam"], user_id=attempt.user_id, slot_id=w.ids["slots"][ESSAY],
                               scan_page_id=pages[0].id, region_id="essay", kind="subjective",
                               image_sha256="0" * 64, created_at=now))
        session.flush()
        assert apply_page(session, pages[1], attempt.user_id, None, now) == []
        session.refresh(attempt)
        assert (attempt.state, attempt.score, attempt.needs_manual_grading) == (AttemptState.GRADED, 8.0, False)
        essay = session.get(AttemptAnswer, (a1, w.ids["slots"][ESSAY]))
        assert essay is not None and essay.fraction == 0.6


def test_regrade_dry_run_equals_the_real_run(world: World) -> None:
    w = world
    a1 = _sit(w, "s1", "B", "first essay")   # right under the old key
    a2 = _sit(w, "s2", "A", "second essay")  # right under the corrected key
    _mark_essay(w, 6)  # s1's essay (the first task); s2's essay still waits for a marker
    start = _state(w)
    assert start["attempts"] == [(a1, "graded", 8.0, False), (a2, "submitted", 0.0, True)]
    old_item = w.ids["items"][0]
    _, stem, definition, _ = ITEMS[0]
    fixed = w.ok("PUT", f"/api/items/{old_item}", "teacher",
                 json={"type": "single_choice", "stem": stem, "definition": {**definition, "correct": "A"}})
    assert fixed["id"] != old_item, "a frozen item's edit is its next version"

    url = f"/api/exams/{w.ids['exam']}/regrade"
    assert w.call("POST", f"{url}?dry_run=true", "s1").status_code == 403
    dry = w.ok("POST", f"{url}?dry_run=true", "teacher")
    assert _state(w) == start, "a dry run changes nothing"
    assert dry["attempts_checked"] == 2 and dry["skipped"] == []
    assert dry["corrected_slots"] == {str(w.ids["slots"][0]): [old_item, fixed["id"]]}
    summary = [(c["attempt_id"], c["old_total"], c["new_total"],
                [(s["slot_id"], s["old_fraction"], s["new_fraction"], s["old_score"], s["new_score"])
                 for s in c["slots"]]) for c in dry["changed"]]
    slot0 = w.ids["slots"][0]
    assert summary == [(a1, 8.0, 6.0, [(slot0, 1.0, 0.0, 2.0, 0.0)]),
                       (a2, 0.0, 2.0, [(slot0, 0.0, 1.0, 0.0, 2.0)])]

    real = w.ok("POST", f"{url}?dry_run=false", "teacher")
    assert {**real, "dry_run": True} == dry, "the real run does what the dry run listed"
    end = _state(w)
    assert end["attempts"] == [(a1, "graded", 6.0, False), (a2, "submitted", 2.0, True)]
    assert end["regraded"] == 2 and end["audit"] == 2
    assert end["essay"] == start["essay"], "manual slots are untouched"
    assert end["slot0_item"] == fixed["id"]

    _grade_again(w, a1)  # a later grading keeps the corrected key and the mark
    assert _state(w)["attempts"][0] == (a1, "graded", 6.0, False)
    again = w.ok("POST", f"{url}?dry_run=true", "teacher")
    assert again["changed"] == [] and again["corrected_slots"] == {}
