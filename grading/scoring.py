"""Scoring a whole attempt: per-slot outcomes weighted by slot points."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grading.errors import GradingError
from grading.outcome import Outcome
from grading.registry import grade

# Scores are stored as NUMERIC(…, 4); rounding here keeps sums reproducible.
_SCORE_DIGITS = 4


@dataclass(frozen=True)
class SlotToScore:
    slot_id: int
    item_type: str
    definition: dict[str, Any]
    points: float


@dataclass(frozen=True)
class SlotScore:
    slot_id: int
    outcome: Outcome
    points: float
    score: float | None  # None while the slot waits for manual grading


@dataclass(frozen=True)
class AttemptScore:
    slots: tuple[SlotScore, ...]
    auto_score: float
    max_score: float
    needs_manual: bool


def score_slot(slot: SlotToScore, response: Any) -> SlotScore:
    outcome = grade(slot.item_type, slot.definition, response)
    score = None if outcome.fraction is None else round(outcome.fraction * slot.points, _SCORE_DIGITS)
    return SlotScore(slot.slot_id, outcome, slot.points, score)


def _check_slots(slots: Sequence[SlotToScore]) -> None:
    seen: set[int] = set()
    for index, slot in enumerate(slots):
        if slot.slot_id in seen:
            raise GradingError(f"slots[{index}].slot_id: duplicate slot id {slot.slot_id}")
        seen.add(slot.slot_id)
        if isinstance(slot.points, bool) or not math.isfinite(slot.points) or slot.points < 0:
            raise GradingError(f"slots[{index}].points: must be a finite number >= 0, got {slot.points!r}")


def score_attempt(slots: Sequence[SlotToScore], responses: Mapping[int, Any]) -> AttemptScore:
    """Grade every slot; a slot with no entry in `responses` counts as blank."""
    _check_slots(slots)
    scored = tuple(score_slot(slot, responses.get(slot.slot_id)) for slot in slots)
    auto = sum(s.score for s in scored if s.score is not None)
    return AttemptScore(
        slots=scored,
        auto_score=round(auto, _SCORE_DIGITS),
        max_score=round(sum(s.points for s in scored), _SCORE_DIGITS),
        needs_manual=any(s.score is None for s in scored),
    )
