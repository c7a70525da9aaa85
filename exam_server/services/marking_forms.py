"""Marking units across the forms (A卷/B卷) of a joint exam: "question 13" whatever form it was on.

A joint exam's forms are papers of their own (``exam_forms``; ``Exam.paper_id`` is the default
form). Markers mark a question, not a form, so one unit holds the default form's slot *and* the
matching slot of every other form (``MarkingUnit.slot_ids``, the default form's first). A
candidate answers exactly one of them: the one on their form's paper, found by :func:`slot_on_paper`.

The rule (:func:`match_forms`, pure), per other form and per manual slot of it:

1. **Same item:** the default form's manual slot holding the same item id (forms that shuffle
   the same questions into another order) is its match.
2. **Same place:** otherwise the default form's manual slot at the same section and position
   (parallel forms with different questions in the same place), if that one is not matched yet.
3. Either match also needs the same points, score step and rubric criteria, because the unit
   has one scale; a slot that fails this, or has no match, becomes a unit of its own named
   ``"<form>·Q<n>"`` (n counts that form's manual slots), so no answer is ever left unmarked.

Each default slot takes at most one slot per form. Per-candidate variants (items and options
shuffled per attempt, ``item_bank.variants``) never change slot ids, so they need no mapping:
answers and scanned crops are stored against the slot, and so are the marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.services.attempts import paper_id_for
from grading import is_manual
from grading.marks import STORED_STEP
from models import Attempt, Exam, ExamForm, Item, MarkingUnit, PaperSection, PaperSlot


@dataclass(frozen=True)
class FormSlot:
    """One manual slot of a form's paper, with what decides whether two slots share a scale."""

    slot_id: int
    section: int
    position: int
    item_id: int
    points: float
    step: float
    criteria: tuple[tuple[str, float], ...] = ()

    def same_scale(self, other: FormSlot) -> bool:
        return (self.points, self.step, [c[1] for c in self.criteria]) == (
            other.points, other.step, [c[1] for c in other.criteria])


@dataclass(frozen=True)
class Question:
    """A marking unit to be: its name and its slots (the first one's item is the unit's)."""

    name: str
    slots: tuple[FormSlot, ...]


def match_forms(default: list[FormSlot], others: list[tuple[str, list[FormSlot]]]) -> list[Question]:
    """The questions of the default form with their matches on the other forms, then the other
    forms' unmatched slots as questions of their own (see the module's rule)."""
    matched: dict[int, list[FormSlot]] = {s.slot_id: [s] for s in default}
    extra: list[Question] = []
    for label, slots in others:
        found = _match_one_form(default, slots)
        for number, slot in enumerate(slots, start=1):
            target = found.get(slot.slot_id)
            if target is None:
                extra.append(Question(f"{label}·Q{number}", (slot,)))
            elif slot.slot_id != target.slot_id:
                matched[target.slot_id].append(slot)
    own = [Question(f"Q{n}", tuple(matched[s.slot_id])) for n, s in enumerate(default, start=1)]
    return own + extra


def _match_one_form(default: list[FormSlot], slots: list[FormSlot]) -> dict[int, FormSlot]:
    """slot id of this form -> the default slot it marks with (item id first, then place)."""
    taken: set[int] = set()
    out: dict[int, FormSlot] = {}
    by_item = {s.item_id: s for s in reversed(default)}  # the first default slot of an item wins
    for slot in slots:
        target = by_item.get(slot.item_id)
        if target is not None and target.slot_id not in taken and target.same_scale(slot):
            out[slot.slot_id] = target
            taken.add(target.slot_id)
    by_place = {(s.section, s.position): s for s in default}
    for slot in slots:
        if slot.slot_id in out:
            continue
        target = by_place.get((slot.section, slot.position))
        if target is not None and target.slot_id not in taken and target.same_scale(slot):
            out[slot.slot_id] = target
            taken.add(target.slot_id)
    return out


# ---- from the database -------------------------------------------------------------------------

def _step(item: Item) -> float:
    step = (item.definition or {}).get("score_step")
    return float(step) if isinstance(step, int | float) and not isinstance(step, bool) else STORED_STEP


def manual_form_slots(session: Session, paper_id: int) -> list[FormSlot]:
    """The manual slots of a paper in paper order."""
    rows = session.execute(
        select(PaperSlot, PaperSection.position, Item).join(PaperSection, PaperSection.id == PaperSlot.section_id)
        .join(Item, Item.id == PaperSlot.item_id).where(PaperSection.paper_id == paper_id)
        .order_by(PaperSection.position, PaperSlot.position))
    out = []
    for slot, section, item in rows:
        if not is_manual(item.type):
            continue
        criteria = tuple((str(c.get("name")), float(c.get("max_points") or 0))
                         for c in (item.definition or {}).get("criteria") or () if isinstance(c, dict))
        out.append(FormSlot(slot.id, section, slot.position, item.id, float(slot.points), _step(item), criteria))
    return out


def exam_questions(session: Session, exam: Exam) -> list[Question]:
    """The exam's questions to mark: every form's manual slots matched to the default form's."""
    forms = session.execute(select(ExamForm.label, ExamForm.paper_id).where(ExamForm.exam_id == exam.id)
                            .order_by(ExamForm.label)).all()
    others = [(label, manual_form_slots(session, paper_id)) for label, paper_id in forms
              if paper_id != exam.paper_id]
    return match_forms(manual_form_slots(session, exam.paper_id), others)


def slot_on_paper(session: Session, unit: MarkingUnit, attempt: Attempt) -> int:
    """The unit's slot that is on this attempt's paper (its form's), else the unit's first."""
    if len(unit.slot_ids) == 1:
        return unit.slot_ids[0]
    paper_id = paper_id_for(session, attempt.exam_id, attempt.user_id)
    found = session.scalar(
        select(PaperSlot.id).join(PaperSection, PaperSection.id == PaperSlot.section_id)
        .where(PaperSection.paper_id == paper_id, PaperSlot.id.in_(unit.slot_ids))
        .order_by(PaperSection.position, PaperSlot.position).limit(1))
    return int(found) if found is not None else unit.slot_ids[0]


def form_question(session: Session, unit: MarkingUnit, slot_id: int) -> dict[str, Any]:
    """For a task on another form whose item differs from the unit's (matched by place): that
    item's stem, reference answer and rubric, which the marker must use instead of the unit's."""
    rows = session.execute(select(PaperSlot.id, Item).join(Item, Item.id == PaperSlot.item_id)
                           .where(PaperSlot.id.in_([unit.slot_ids[0], slot_id])))
    items = {row_slot: item for row_slot, item in rows}
    mine, own = items.get(slot_id), items.get(unit.slot_ids[0])
    if mine is None or own is None or mine.id == own.id:
        return {}
    definition = mine.definition or {}
    return {"question": {"stem": mine.stem, "reference_answer": definition.get("reference_answer"),
                         "rubric": definition.get("rubric"), "criteria": definition.get("criteria")}}
