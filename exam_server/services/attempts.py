"""The attempt lifecycle: start -> save responses -> submit or close at the deadline -> grade.

State machine (illegal transitions raise AttemptClosed):

    in_progress --submit--> submitted --grade--> graded
    in_progress --a proctor ends it--> submitted (the proctor and the reason on the step)
    in_progress --deadline job--> submitted (finished_at = deadline)

Every change appends an ``attempt_steps`` row; ``attempt_answers`` holds the latest accepted
response per slot. Closing is a compare-and-set UPDATE, so a deadline job that runs twice (or on
two workers at once) closes an attempt exactly once.
"""

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import grading
from exam_server.db import enqueue_after_commit
from exam_server.errors import AnswerTooLarge, AttemptClosed, BadRequest, ExamNotOpen, Forbidden, NotFound, StaleSave
from item_bank.papers import load_paper, paper_items
from models import (
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    Exam,
    ExamCandidate,
    ExamForm,
    ExamSitting,
    FinishReason,
    Item,
    PaperSection,
    PaperSlot,
    StepKind,
)


def _step(session: Session, attempt_id: int, kind: StepKind, now: datetime, **fields: Any) -> None:
    session.add(AttemptStep(attempt_id=attempt_id, kind=kind, created_at=now, **fields))


def find_attempt(session: Session, exam_id: int, user_id: int) -> Attempt | None:
    return session.scalars(select(Attempt).where(Attempt.exam_id == exam_id, Attempt.user_id == user_id)).first()


def start_or_resume(session: Session, exam: Exam, user_id: int, now: datetime) -> Attempt:
    """Return the candidate's attempt, creating it if the exam window is open."""
    existing = find_attempt(session, exam.id, user_id)
    if existing is not None:
        return existing
    candidate = session.get(ExamCandidate, (exam.id, user_id))
    if candidate is None:
        raise Forbidden(f"exam {exam.id}: you are not on this exam's roster")
    if candidate.absent:
        raise Forbidden(f"exam {exam.id}: you are marked absent (缺考); ask the exam centre staff")
    opens_at, closes_at, where = _window(session, exam, candidate)
    if now < opens_at:
        raise ExamNotOpen(f"{where} opens at {opens_at.isoformat()}")
    if now >= closes_at:
        raise ExamNotOpen(f"{where} closed at {closes_at.isoformat()}")
    # start + duration + the candidate's extra time, capped by the end of their window
    deadline = min(now + timedelta(minutes=exam.duration_minutes + candidate.extra_minutes), closes_at)
    attempt = Attempt(
        exam_id=exam.id, user_id=user_id, state=AttemptState.IN_PROGRESS, started_at=now,
        deadline=deadline, max_score=_paper_max_score(session, paper_id_for(session, exam.id, user_id)),
        variant_seed=secrets.randbelow(2**31),
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # A second click raced us to create it: resume the one that won.
        winner = find_attempt(session, exam.id, user_id)
        assert winner is not None
        return winner
    _step(session, attempt.id, StepKind.STARTED, now, actor_id=user_id)
    enqueue_after_commit(session, "close_attempt", attempt.id, delay_seconds=(deadline - now).total_seconds())
    return attempt


def _window(session: Session, exam: Exam, candidate: ExamCandidate) -> tuple[datetime, datetime, str]:
    """The candidate's sitting window if they have one (joint exams), else the exam's."""
    sitting = session.get(ExamSitting, candidate.sitting_id) if candidate.sitting_id is not None else None
    if sitting is not None:
        return sitting.opens_at, sitting.closes_at, f"exam {exam.id}, your sitting {sitting.name!r},"
    return exam.opens_at, exam.closes_at, f"exam {exam.id}"


def _paper_max_score(session: Session, paper_id: int) -> float:
    points = session.scalars(
        select(PaperSlot.points).join(PaperSection).where(PaperSection.paper_id == paper_id)
    )
    return float(sum(points))


def lock_attempt(session: Session, attempt_id: int) -> Attempt:
    """Load an attempt holding its row lock, so saves, submit and close serialise per attempt."""
    attempt = session.scalars(select(Attempt).where(Attempt.id == attempt_id).with_for_update()).first()
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    return attempt


def _ensure_open(attempt: Attempt, now: datetime) -> None:
    if attempt.state != AttemptState.IN_PROGRESS:
        raise AttemptClosed(f"attempt {attempt.id} is {attempt.state}; your saved answers are kept")
    if now >= attempt.deadline:
        raise AttemptClosed(
            f"attempt {attempt.id}: the deadline passed at {attempt.deadline.isoformat()}; "
            "answers saved before it are kept"
        )


class SlotCatalog:
    """slot id -> (item type, definition) per paper, loaded once in one query.

    Safe to keep for the life of the process: an exam's papers (its own and its forms') and items
    are frozen when it is scheduled, and edits to a frozen item become a new item row. An exam with
    forms (A/B卷) looks up the candidate's form on each save (a primary-key read).
    """

    def __init__(self) -> None:
        self._by_paper: dict[int, dict[int, tuple[str, dict[str, Any]]]] = {}
        self._exam_paper: dict[int, int | None] = {}  # exam -> its paper, None when it has forms
        self._lock = threading.Lock()

    def item_for(self, session: Session, attempt: Attempt, slot_id: int) -> tuple[str, dict[str, Any]]:
        paper_id = self._paper_of(session, attempt)
        slots = self._by_paper.get(paper_id)
        if slots is None:
            slots = self._load(session, paper_id)
            with self._lock:
                self._by_paper[paper_id] = slots
        if slot_id not in slots:
            raise NotFound(f"slot {slot_id} is not part of attempt {attempt.id}'s paper")
        return slots[slot_id]

    def _paper_of(self, session: Session, attempt: Attempt) -> int:
        if attempt.exam_id not in self._exam_paper:
            exam = session.get(Exam, attempt.exam_id)
            assert exam is not None
            has_forms = session.scalar(select(ExamForm.id).where(ExamForm.exam_id == exam.id).limit(1)) is not None
            with self._lock:
                self._exam_paper[attempt.exam_id] = None if has_forms else exam.paper_id
        known = self._exam_paper[attempt.exam_id]
        return known if known is not None else paper_id_for(session, attempt.exam_id, attempt.user_id)

    @staticmethod
    def _load(session: Session, paper_id: int) -> dict[int, tuple[str, dict[str, Any]]]:
        rows = session.execute(
            select(PaperSlot.id, Item.type, Item.definition)
            .join(PaperSection, PaperSection.id == PaperSlot.section_id)
            .join(Item, Item.id == PaperSlot.item_id)
            .where(PaperSection.paper_id == paper_id)
        )
        return {slot_id: (item_type, definition) for slot_id, item_type, definition in rows}


@dataclass(frozen=True)
class AnswerLimits:
    """Per-type response limits and the cap on all stored answers of one attempt (JSON characters)."""

    per_type: grading.ResponseLimits = field(default_factory=grading.ResponseLimits)
    attempt_chars: int = 500_000


def paper_id_for(session: Session, exam_id: int, user_id: int) -> int:
    """The paper a candidate sits: their form's (joint exams with A/B卷), else the exam's."""
    form_paper = session.scalar(
        select(ExamForm.paper_id).join(ExamCandidate, (ExamCandidate.exam_id == ExamForm.exam_id)
                                       & (ExamCandidate.form_label == ExamForm.label))
        .where(ExamCandidate.exam_id == exam_id, ExamCandidate.user_id == user_id))
    if form_paper is not None:
        return int(form_paper)
    paper_id = session.scalar(select(Exam.paper_id).where(Exam.id == exam_id))
    if paper_id is None:
        raise NotFound(f"exam {exam_id} does not exist")
    return int(paper_id)


def save_response(
    session: Session, attempt: Attempt, slot_id: int, raw_response: Any, client_seq: int, now: datetime,
    catalog: SlotCatalog | None = None, limits: AnswerLimits | None = None,
) -> AttemptAnswer:
    """Store one response unless a newer one (higher client_seq) is already stored.

    Re-sending the same (slot, client_seq, response) is a no-op that succeeds (idempotent retry).
    """
    _ensure_open(attempt, now)
    limits = limits or AnswerLimits()
    item_type, definition = (catalog or SlotCatalog()).item_for(session, attempt, slot_id)
    try:
        response = grading.validate_response(item_type, definition, raw_response, limits.per_type)
    except grading.ResponseTooLarge as exc:
        raise AnswerTooLarge(f"slot {slot_id}: {exc}") from exc
    except grading.InvalidResponse as exc:
        raise BadRequest(f"slot {slot_id}: {exc}") from exc
    _check_attempt_total(session, attempt.id, slot_id, response, limits.attempt_chars)
    current = session.get(AttemptAnswer, (attempt.id, slot_id))
    if current is not None and current.client_seq >= client_seq:
        if current.client_seq == client_seq and current.response == response:
            return current
        raise StaleSave(
            f"slot {slot_id}: client_seq {client_seq} is not newer than the stored {current.client_seq}; "
            "the newer answer was kept",
            current_seq=current.client_seq, current_response=current.response,
        )
    if current is None:
        current = AttemptAnswer(attempt_id=attempt.id, slot_id=slot_id, response=response,
                                client_seq=client_seq, saved_at=now)
        session.add(current)
    else:
        current.response, current.client_seq, current.saved_at = response, client_seq, now
    _step(session, attempt.id, StepKind.RESPONSE_SAVED, now, slot_id=slot_id, client_seq=client_seq,
          data={"response": response}, actor_id=attempt.user_id)
    session.flush()
    return current


def _check_attempt_total(session: Session, attempt_id: int, slot_id: int, response: Any, limit: int) -> None:
    """The attempt's stored answers (other slots) plus this one must fit the per-attempt cap."""
    size = len(json.dumps(response, ensure_ascii=False, separators=(",", ":")))
    if size <= 2:  # null, "" or []: never refused, so a candidate can always clear an answer
        return
    others = session.scalar(
        select(func.coalesce(func.sum(func.length(cast(AttemptAnswer.response, Text))), 0))
        .where(AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.slot_id != slot_id))
    if int(others or 0) + size > limit:
        raise AnswerTooLarge(f"slot {slot_id}: this answer ({size} characters) would bring the attempt's stored "
                             f"answers to {int(others or 0) + size} characters; the limit per attempt is {limit}")


def submit(session: Session, attempt: Attempt, now: datetime) -> Attempt:
    """Finish the attempt. Idempotent: submitting a finished attempt returns it unchanged."""
    if attempt.state != AttemptState.IN_PROGRESS:
        return attempt
    if now >= attempt.deadline:
        _close(session, attempt, now)
        return attempt
    attempt.state, attempt.finished_at, attempt.finish_reason = (
        AttemptState.SUBMITTED, now, FinishReason.SUBMITTED)
    _step(session, attempt.id, StepKind.SUBMITTED, now, actor_id=attempt.user_id)
    grade(session, attempt.id, now)
    return attempt


def end_by_proctor(session: Session, attempt: Attempt, now: datetime, proctor_id: int,
                   why: dict[str, Any]) -> bool:
    """A proctor ends the attempt (监考终止): submitted with what was saved, the proctor and the reason
    on its step. After the deadline it closes at the deadline instead. False if already finished."""
    if attempt.state != AttemptState.IN_PROGRESS:
        return False
    if now >= attempt.deadline:
        _close(session, attempt, now)
        return True
    attempt.state, attempt.finished_at, attempt.finish_reason = (
        AttemptState.SUBMITTED, now, FinishReason.SUBMITTED)
    _step(session, attempt.id, StepKind.SUBMITTED, now, actor_id=proctor_id, data={"ended_by_proctor": True, **why})
    grade(session, attempt.id, now)
    return True


def close_if_overdue(session: Session, attempt_id: int, now: datetime) -> bool:
    """Close an overdue attempt with what was saved. True only for the one call that closed it."""
    closed = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.state == AttemptState.IN_PROGRESS, Attempt.deadline <= now)
        .values(state=AttemptState.SUBMITTED, finish_reason=FinishReason.DEADLINE, finished_at=Attempt.deadline)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _step(session, attempt_id, StepKind.CLOSED_AT_DEADLINE, now)
    session.flush()
    grade(session, attempt_id, now)
    return True


def _close(session: Session, attempt: Attempt, now: datetime) -> None:
    close_if_overdue(session, attempt.id, now)
    session.refresh(attempt)


def overdue_attempt_ids(session: Session, now: datetime, limit: int = 1000) -> list[int]:
    query = (
        select(Attempt.id)
        .where(Attempt.state == AttemptState.IN_PROGRESS, Attempt.deadline <= now)
        .order_by(Attempt.deadline)
        .limit(limit)
    )
    return list(session.scalars(query))


def grade(session: Session, attempt_id: int, now: datetime) -> None:
    """Auto-grade a submitted attempt from its saved responses (replayable, so safe to repeat)."""
    attempt = session.get(Attempt, attempt_id, populate_existing=True)
    if attempt is None or attempt.state != AttemptState.SUBMITTED:
        return
    paper = load_paper(session, paper_id_for(session, attempt.exam_id, attempt.user_id))
    if paper is None:
        raise NotFound(f"attempt {attempt_id}: its paper no longer exists")
    items = paper_items(session, paper)
    slots = [
        grading.SlotToScore(slot.id, items[slot.item_id].type, items[slot.item_id].definition, slot.points)
        for section in paper.sections for slot in section.slots
    ]
    stored = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
    answers = {a.slot_id: a for a in stored}
    manual = marked_fractions(session, attempt_id)
    result = grading.score_attempt(slots, {slot_id: a.response for slot_id, a in answers.items()})
    scores: dict[int, float | None] = {}
    for slot_score in result.slots:
        answer = answers.get(slot_score.slot_id)
        if slot_score.slot_id in manual:  # a person's mark wins over the machine, whatever arrives later
            fraction = manual[slot_score.slot_id]
            scores[slot_score.slot_id] = round(fraction * slot_score.points, 4)
            if answer is not None:
                answer.fraction, answer.grading_state = fraction, grading.GradingState.GRADED
            continue
        scores[slot_score.slot_id] = slot_score.score
        if answer is not None:
            answer.fraction = slot_score.outcome.fraction
            answer.grading_state = slot_score.outcome.state
            answer.feedback = slot_score.outcome.feedback
    pending = any(score is None for score in scores.values())
    total = round(sum(score for score in scores.values() if score is not None), 4)
    if not manual:
        total = result.auto_score
    elif not pending:
        total = max(total, 0.0) + 0.0  # as marking.recompute_total: the paper floored at 0 once complete
    attempt.score, attempt.max_score = total, result.max_score
    attempt.needs_manual_grading = pending
    if not pending:
        attempt.state = AttemptState.GRADED
    _step(session, attempt_id, StepKind.AUTO_GRADED, now, data={
        "score": total, "max_score": result.max_score,
        "slots": {str(slot_id): score for slot_id, score in scores.items()},
        "manual_slots": sorted(manual),
    })
    session.flush()


def manual_fractions(session: Session, attempt_id: int, kind: StepKind = StepKind.MANUALLY_GRADED
                     ) -> dict[int, float]:
    """slot id -> the latest fraction a person gave (replayed from the MANUALLY_GRADED steps)."""
    steps = session.scalars(
        select(AttemptStep).where(AttemptStep.attempt_id == attempt_id, AttemptStep.kind == kind,
                                  AttemptStep.slot_id.is_not(None))
        .order_by(AttemptStep.id))
    out: dict[int, float] = {}
    for step in steps:
        fraction = (step.data or {}).get("fraction")
        if step.slot_id is not None and isinstance(fraction, int | float) and not isinstance(fraction, bool):
            out[step.slot_id] = float(fraction)
        elif step.slot_id is not None and (step.data or {}).get("withdrawn"):
            out.pop(step.slot_id, None)  # the machine took its score back (a new image it could not score)
    return out


def marked_fractions(session: Session, attempt_id: int) -> dict[int, float]:
    """slot id -> the fraction that stands over auto-grading: a person's mark, else the machine's
    reading of a scanned blank (MACHINE_GRADED). A person always wins over the machine."""
    return {**manual_fractions(session, attempt_id, StepKind.MACHINE_GRADED), **manual_fractions(session, attempt_id)}
