"""Regrading an exam after a key or rule change.

Items used by an exam are frozen: correcting a key (``PUT /api/items/{id}``) stores the edit as
the item's next version and leaves the paper pointing at the old one. :func:`regrade_exam` scores
every finished attempt (submitted or graded) again from its latest responses with the latest
version of each slot's item, and lists per attempt and slot the old and new fraction and the old
and new total. A dry run changes nothing. The real run computes the same plan, then repoints the
exam's paper slots to the latest versions (so later grading, such as a late scanned page, keeps
the corrected key), writes the new fractions, a ``regraded`` step per changed slot and one audit
record per changed slot score, and recomputes each changed attempt's total.

Slots marked by a person are never touched: manual item types, and any slot with a
``manually_graded`` step or a ``machine_graded`` one (an OCR-scored scanned blank). A new version
of another type than the slot's item is refused for that slot (listed in ``skipped``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import grading
from exam_server.errors import NotFound
from exam_server.services import audit
from exam_server.services.attempts import lock_attempt, marked_fractions, paper_id_for
from exam_server.services.marking import recompute_total
from models import (
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    Exam,
    ExamForm,
    Item,
    PaperSection,
    PaperSlot,
    StepKind,
    User,
)

_EPS = 1e-7


@dataclass(frozen=True)
class SlotChange:
    slot_id: int
    old_item_id: int
    new_item_id: int
    old_fraction: float | None
    new_fraction: float | None
    old_score: float | None
    new_score: float | None


@dataclass(frozen=True)
class AttemptChange:
    attempt_id: int
    user_id: int
    old_total: float | None
    new_total: float
    slots: tuple[SlotChange, ...]


@dataclass(frozen=True)
class RegradeReport:
    exam_id: int
    dry_run: bool
    attempts_checked: int
    changed: tuple[AttemptChange, ...]
    corrected_slots: dict[int, tuple[int, int]] = field(default_factory=dict)  # slot -> (old item, new item)
    skipped: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["corrected_slots"] = {str(k): list(v) for k, v in self.corrected_slots.items()}
        return out


@dataclass(frozen=True)
class _Slot:
    slot: PaperSlot
    old: Item
    new: Item


def _exam_papers(session: Session, exam: Exam) -> list[int]:
    forms = session.scalars(select(ExamForm.paper_id).where(ExamForm.exam_id == exam.id)).all()
    return sorted({exam.paper_id, *forms})


def _slots(session: Session, paper_ids: list[int], skipped: list[str]) -> dict[int, dict[int, _Slot]]:
    """paper -> slot id -> (slot, its item, the latest version of that item) for automatic slots."""
    rows = session.execute(
        select(PaperSection.paper_id, PaperSlot, Item).join(PaperSection, PaperSection.id == PaperSlot.section_id)
        .join(Item, Item.id == PaperSlot.item_id).where(PaperSection.paper_id.in_(paper_ids))
        .order_by(PaperSlot.id)).all()
    latest = {item.family_id: item for item in session.scalars(select(Item).where(
        Item.family_id.in_({item.family_id for _, _, item in rows}), Item.is_latest.is_(True)))}
    out: dict[int, dict[int, _Slot]] = {}
    for paper_id, slot, item in rows:
        new = latest.get(item.family_id, item)
        if grading.is_manual(item.type) or grading.is_manual(new.type):
            continue
        if new.type != item.type:
            skipped.append(f"slot {slot.id}: item {item.id} ({item.type}) has a newer version {new.id} of another "
                           f"type ({new.type}); not regraded")
            new = item
        out.setdefault(paper_id, {})[slot.id] = _Slot(slot, item, new)
    return out


def _score(fraction: float | None, points: float) -> float | None:
    return None if fraction is None else round(fraction * points, 4)


def _total(session: Session, attempt: Attempt, fractions: dict[int, float | None]) -> float:
    """The attempt's total as :func:`marking.recompute_total` computes it, with some fractions replaced."""
    rows = session.execute(
        select(AttemptAnswer.slot_id, AttemptAnswer.fraction, AttemptAnswer.grading_state, PaperSlot.points)
        .join(PaperSlot, PaperSlot.id == AttemptAnswer.slot_id).where(AttemptAnswer.attempt_id == attempt.id)).all()
    total, pending = 0.0, False
    for slot_id, fraction, state, points in rows:
        if slot_id in fractions:
            fraction = fractions[slot_id]
        elif state == grading.GradingState.NEEDS_MANUAL:
            pending = True
        if fraction is not None:
            total += round(fraction * float(points), 4)
    total = round(total, 4)
    return (total if pending else max(total, 0.0)) + 0.0


def _plan(session: Session, exam: Exam, skipped: list[str]) -> tuple[list[AttemptChange], int, dict[int, _Slot]]:
    by_paper = _slots(session, _exam_papers(session, exam), skipped)
    attempts = session.scalars(select(Attempt).where(
        Attempt.exam_id == exam.id, Attempt.state.in_([AttemptState.SUBMITTED, AttemptState.GRADED]))
        .order_by(Attempt.id)).all()
    changes: list[AttemptChange] = []
    corrected: dict[int, _Slot] = {s.slot.id: s for slots in by_paper.values() for s in slots.values()
                                    if s.new.id != s.old.id}
    for attempt in attempts:
        slots = by_paper.get(paper_id_for(session, exam.id, attempt.user_id), {})
        manual = marked_fractions(session, attempt.id)  # a person's or the machine's mark of a scanned blank
        answers = {a.slot_id: a for a in session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}
        slot_changes = []
        for slot_id, info in slots.items():
            answer = answers.get(slot_id)
            if slot_id in manual or answer is None:  # no row: blank, 0 under any key
                continue
            try:
                outcome = grading.grade(info.new.type, info.new.definition, answer.response)
            except grading.GradingError as exc:
                skipped.append(f"attempt {attempt.id}, slot {slot_id}: {exc}; kept as it was")
                continue
            old = answer.fraction
            if (old is None) != (outcome.fraction is None) or (
                    old is not None and outcome.fraction is not None and abs(old - outcome.fraction) > _EPS):
                points = float(info.slot.points)
                slot_changes.append(SlotChange(slot_id, info.old.id, info.new.id, old, outcome.fraction,
                                               _score(old, points), _score(outcome.fraction, points)))
        if slot_changes:
            new_total = _total(session, attempt, {c.slot_id: c.new_fraction for c in slot_changes})
            changes.append(AttemptChange(attempt.id, attempt.user_id, attempt.score, new_total, tuple(slot_changes)))
    return changes, len(attempts), corrected


def regrade_exam(session: Session, exam_id: int, actor: User, dry_run: bool, now: datetime) -> RegradeReport:
    """Re-score the exam's finished attempts with the latest item versions (see the module doc).
    The caller checks that ``actor`` manages the exam and commits."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    skipped: list[str] = []
    changes, checked, corrected = _plan(session, exam, skipped)
    report = RegradeReport(exam.id, dry_run, checked, tuple(changes),
                           {slot_id: (s.old.id, s.new.id) for slot_id, s in corrected.items()}, tuple(skipped))
    if dry_run:
        return report
    for slot_id, info in corrected.items():
        info.slot.item_id = info.new.id
        info.new.frozen = True
        audit.record(session, actor.id, "exam.slot_item_corrected", "paper_slot", slot_id,
                     {"exam_id": exam.id, "old_item_id": info.old.id, "new_item_id": info.new.id}, now)
    for change in changes:
        attempt = lock_attempt(session, change.attempt_id)
        item_of: dict[int, tuple[str, dict[str, Any]]] = {}
        for slot in change.slots:
            answer = session.get(AttemptAnswer, (attempt.id, slot.slot_id))
            assert answer is not None
            outcome = grading.grade(*item_of.setdefault(slot.slot_id, _item(session, slot.new_item_id)),
                                    answer.response)
            answer.fraction, answer.grading_state, answer.feedback = outcome.fraction, outcome.state, outcome.feedback
            session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.REGRADED, slot_id=slot.slot_id,
                                    actor_id=actor.id, created_at=now, data={
                                        "old_fraction": slot.old_fraction, "fraction": slot.new_fraction,
                                        "old_item_id": slot.old_item_id, "item_id": slot.new_item_id}))
            audit.record(session, actor.id, "attempt.regraded", "attempt", attempt.id, {
                "exam_id": exam.id, "slot_id": slot.slot_id, "old_score": slot.old_score,
                "new_score": slot.new_score, "old_fraction": slot.old_fraction, "new_fraction": slot.new_fraction}, now)
        session.flush()
        recompute_total(session, attempt)
    session.flush()
    return report


def _item(session: Session, item_id: int) -> tuple[str, dict[str, Any]]:
    item = session.get(Item, item_id)
    assert item is not None
    return item.type, item.definition
