"""Marking units over several slots and over scanned blanks (see :mod:`grading.marking_groups`).

A **blank unit** covers fill-in slots (fill_blank, numeric, inline choice with gaps) of a scanned
paper exam: one mark per blank, given as the unit's criteria. Any other unit covers exactly one
slot and is marked as before (a total, or one mark per rubric criterion of the item).

:func:`plan_units` says which slots become units: every manual slot on its own; fill-in slots only
when the exam's answers were scanned (there are blank crops, or answer sheets were printed), one
unit per question by default, or consecutive fill-in slots of a section grouped together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grading import is_manual
from grading.marking import MarkingMode, TaskState, UnitRules
from grading.marking_groups import GroupSlot, blank_criteria, per_blank, slot_scores
from grading.marks import STORED_STEP, Criterion
from models import AnswerCrop, AnswerSheet, Attempt, Item, MarkingUnit, PaperSection, PaperSlot

BLANK_TYPES = frozenset({"fill_blank", "numeric", "inline_choice"})
CROP_KINDS = ("subjective", "blank")
MAX_GROUP = 20  # slots in one group of blanks


@dataclass(frozen=True)
class PaperEntry:
    slot: PaperSlot
    item: Item
    number: int  # 1-based, as printed
    section_id: int


def paper_entries(session: Session, paper_id: int) -> list[PaperEntry]:
    rows = session.execute(
        select(PaperSlot, Item).join(PaperSection, PaperSection.id == PaperSlot.section_id)
        .join(Item, Item.id == PaperSlot.item_id).where(PaperSection.paper_id == paper_id)
        .order_by(PaperSection.position, PaperSlot.position))
    return [PaperEntry(slot, item, n, slot.section_id) for n, (slot, item) in enumerate(rows, start=1)]


def blanks_of(item: Item) -> int:
    definition = item.definition or {}
    if item.type == "fill_blank":
        return max(1, len(definition.get("blanks") or []))
    if item.type == "inline_choice":
        return max(1, len(definition.get("gaps") or []))
    return 1


def is_blank_entry(entry: PaperEntry) -> bool:
    return entry.item.type in BLANK_TYPES and not is_manual(entry.item.type)


def plan_units(session: Session, exam_id: int, paper_id: int, group_blanks: bool) -> list[list[PaperEntry]]:
    """The slots of each unit to have, in paper order."""
    entries = paper_entries(session, paper_id)
    scanned = session.scalar(select(AnswerSheet.id).where(AnswerSheet.exam_id == exam_id).limit(1)) is not None
    cropped = set(session.scalars(select(AnswerCrop.slot_id).where(AnswerCrop.exam_id == exam_id,
                                                                   AnswerCrop.kind == "blank").distinct()))
    plan: list[list[PaperEntry]] = []
    for entry in entries:
        if is_manual(entry.item.type):
            plan.append([entry])
        elif is_blank_entry(entry) and (scanned or entry.slot.id in cropped):
            last = plan[-1] if plan else None
            if (group_blanks and last and is_blank_entry(last[-1]) and last[-1].section_id == entry.section_id
                    and last[-1].number == entry.number - 1 and len(last) < MAX_GROUP):
                last.append(entry)
            else:
                plan.append([entry])
    return plan


def unit_name(group: Sequence[PaperEntry]) -> str:
    first, last = group[0].number, group[-1].number
    return f"Q{first}" if first == last else f"Q{first}-{last}"


def unit_entries(session: Session, unit: MarkingUnit) -> list[PaperEntry]:
    """The unit's slots with their items, in the unit's order."""
    rows = {slot.id: (slot, item) for slot, item in session.execute(
        select(PaperSlot, Item).join(Item, Item.id == PaperSlot.item_id).where(PaperSlot.id.in_(unit.slot_ids)))}
    numbers = _numbers(session, unit)
    return [PaperEntry(rows[s][0], rows[s][1], numbers.get(s, i + 1), rows[s][0].section_id)
            for i, s in enumerate(unit.slot_ids) if s in rows]


def _numbers(session: Session, unit: MarkingUnit) -> dict[int, int]:
    slot = session.get(PaperSlot, unit.slot_ids[0])
    section = session.get(PaperSection, slot.section_id) if slot is not None else None
    if section is None:
        return {}
    return {e.slot.id: e.number for e in paper_entries(session, section.paper_id)}


def is_blank_unit(entries: Sequence[PaperEntry]) -> bool:
    return bool(entries) and all(is_blank_entry(e) for e in entries)


def group_slots(entries: Sequence[PaperEntry]) -> list[GroupSlot]:
    return [GroupSlot(e.slot.id, str(e.number), float(e.slot.points), blanks_of(e.item)) for e in entries]


def step_of(item: Item) -> float:
    step = (item.definition or {}).get("score_step")
    return float(step) if isinstance(step, int | float) and not isinstance(step, bool) else STORED_STEP


def rules_of(unit: MarkingUnit, entries: Sequence[PaperEntry]) -> UnitRules:
    """The unit's rules: per-blank criteria for a blank unit, else the item's rubric criteria."""
    if is_blank_unit(entries):
        criteria = blank_criteria(group_slots(entries))
    else:
        criteria = tuple(Criterion(str(c["name"]), float(c["max_points"]))
                         for c in (entries[0].item.definition or {}).get("criteria") or ())
    return UnitRules(MarkingMode(unit.mode), float(unit.points), float(unit.tolerance), float(unit.score_step),
                     criteria)


def blank_slot_finals(rules: UnitRules, state: TaskState, entries: Sequence[PaperEntry]
                      ) -> tuple[dict[int, float], tuple[float, ...]]:
    """Each slot's final score of a finished blank-unit task, and the final mark of every blank."""
    blanks = per_blank(rules, state)
    return slot_scores(group_slots(entries), blanks), blanks


def blank_answers(entries: Sequence[PaperEntry]) -> list[dict[str, Any]]:
    """What a marker of a blank unit sees per blank: its question and the accepted answers."""
    out: list[dict[str, Any]] = []
    for entry, criterion in zip(_per_blank(entries), blank_criteria(group_slots(entries)), strict=True):
        item, index = entry
        definition = item.definition or {}
        accepted: list[str] = []
        if item.type == "fill_blank":
            blanks = definition.get("blanks") or []
            if index < len(blanks):
                accepted = [str(a.get("text")) for a in blanks[index].get("answers") or []]
        elif item.type == "numeric":
            accepted = [_number(a) for a in definition.get("answers") or []]
        out.append({"label": criterion.name, "points": criterion.max_points, "accepted": accepted})
    return out


def _per_blank(entries: Sequence[PaperEntry]) -> list[tuple[Item, int]]:
    return [(e.item, b) for e in entries for b in range(blanks_of(e.item))]


def task_crops(session: Session, unit: MarkingUnit, attempt_id: int) -> list[AnswerCrop]:
    """The scanned crops of this candidate for the unit's slots, in the unit's order (slot,
    then blank)."""
    user_id = session.scalar(select(Attempt.user_id).where(Attempt.id == attempt_id))
    crops = list(session.scalars(select(AnswerCrop).where(
        AnswerCrop.exam_id == unit.exam_id, AnswerCrop.user_id == user_id, AnswerCrop.slot_id.in_(unit.slot_ids),
        AnswerCrop.kind.in_(CROP_KINDS))))
    order = {slot_id: i for i, slot_id in enumerate(unit.slot_ids)}
    return sorted(crops, key=lambda c: (order.get(c.slot_id or 0, 0), blank_index(c.field), c.id))


def blank_index(field: str | None) -> int:
    """0-based blank of a crop's field: "13" -> 0, "13.2" -> 1."""
    _, _, tail = (field or "").partition(".")
    return int(tail) - 1 if tail.isdigit() and int(tail) >= 1 else 0


def _number(answer: dict[str, Any]) -> str:
    value, tolerance = answer.get("value"), answer.get("tolerance") or 0
    if not isinstance(value, int | float) or not isinstance(tolerance, int | float):
        return str(value)
    return f"{value:g} ± {tolerance:g}" if tolerance else f"{value:g}"
