"""What a result says while marking goes on: per question final or still being marked, and a total
that is called final only once nothing waits for a person.

An answer waits for a person while its ``grading_state`` is ``needs_manual`` (an essay not yet
marked, a double mark not yet agreed, a task in arbitration or in the problem queue). Results may
be released before every answer is marked (a teacher releases the multiple-choice part early, or
one problem script holds up the rest). Then a student sees:

* the **score so far**, labelled provisional: the points of every final answer (the attempt's
  running ``score``), out of the paper's maximum;
* per question, in the order and numbering of *their* paper (their form, their variant), its
  points and either its score or "being marked";
* the **final total** (``final_score``) only once no answer waits; until then it is ``null``.

Staff see the same, and per exam and per candidate how many answers wait for marking.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grading.outcome import GradingState
from models import Attempt, AttemptAnswer, AttemptState

FINISHED = (AttemptState.SUBMITTED, AttemptState.GRADED)


def _status(answer: AttemptAnswer | None, finished: bool) -> str:
    if answer is not None and answer.grading_state == GradingState.NEEDS_MANUAL:
        return "being_marked"
    if answer is None or answer.response is None:
        return "unanswered" if finished else "in_progress"
    return "final" if answer.fraction is not None else "in_progress"


def _score(answer: AttemptAnswer | None, points: float, status: str) -> float | None:
    if status in ("being_marked", "in_progress"):
        return None
    if answer is None or answer.fraction is None:
        return 0.0
    return round(float(answer.fraction) * points, 4) + 0.0


def slot_results(sections: list[dict[str, Any]], answers: dict[int, AttemptAnswer], finished: bool
                 ) -> list[dict[str, Any]]:
    """One line per question of the candidate's paper view (numbered as they saw it)."""
    out = []
    number = 0
    for section in sections:
        for slot in section["slots"]:
            number += 1
            answer = answers.get(int(slot["slot_id"]))
            points = float(slot.get("points") or 0)
            status = _status(answer, finished)
            out.append({"slot_id": int(slot["slot_id"]), "number": number, "points": points, "status": status,
                        "score": _score(answer, points, status),
                        "fraction": answer.fraction if answer is not None else None,
                        "grading_state": answer.grading_state if answer is not None else None})
    return out


def summary(attempt: Attempt, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The total: provisional while any answer is being marked, final after."""
    pending = [line["number"] for line in lines if line["status"] == "being_marked"]
    provisional = bool(pending) or attempt.needs_manual_grading
    final = attempt.state == AttemptState.GRADED and not provisional
    return {"provisional": provisional, "pending": len(pending), "pending_numbers": pending,
            "final_score": attempt.score if final else None}


def pending_by_attempt(session: Session, exam_id: int) -> dict[int, int]:
    """attempt id -> answers waiting for marking, for the exam's finished attempts that have any."""
    rows = session.execute(
        select(AttemptAnswer.attempt_id, func.count()).join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(Attempt.exam_id == exam_id, Attempt.state.in_(FINISHED),
               AttemptAnswer.grading_state == GradingState.NEEDS_MANUAL)
        .group_by(AttemptAnswer.attempt_id))
    return {int(attempt_id): int(count) for attempt_id, count in rows}


def pending_by_exam(session: Session, exam_ids: Iterable[int]) -> dict[int, int]:
    """exam id -> answers waiting for marking (finished attempts only)."""
    ids = list(exam_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Attempt.exam_id, func.count()).join(AttemptAnswer, AttemptAnswer.attempt_id == Attempt.id)
        .where(Attempt.exam_id.in_(ids), Attempt.state.in_(FINISHED),
               AttemptAnswer.grading_state == GradingState.NEEDS_MANUAL)
        .group_by(Attempt.exam_id))
    return {int(exam_id): int(count) for exam_id, count in rows}
