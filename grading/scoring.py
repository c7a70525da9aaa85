"""Scoring a whole attempt: per-slot outcomes weighted by slot points.

Negatively marked items (``penalty``, see :mod:`grading.types_choice`) can score below 0. Their
group of slots stops going down at a floor, 扣完为止: each slot names its ``group`` (a paper
section's key; ungrouped slots form the group ``""``, the rest of the paper), and a group's total
is ``max(sum of its slot scores, floor * group max points)``. The floor is 0 by default (a section
never goes below zero) and may be set per group in ``floors`` down to -1 (for example -0.25: the
section may cost at most a quarter of its points). Slot scores stay as graded; the points the
floors add back are ``AttemptScore.floor_adjustment``, already included in ``auto_score``. A group
with a slot still waiting for a human is not floored yet (its total is not known):
:func:`floored_sum` gives the final total once every mark is in.
"""

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
    group: str = ""  # the floor group (a paper section); "" is the ungrouped rest of the paper


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
    floor_adjustment: float = 0.0  # points added back by group floors, included in auto_score


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


def floored_sum(scores: Sequence[float], max_points: float, floor: float = 0.0) -> float:
    """A group's total: the sum of its slot scores, never below ``floor * max_points``."""
    _check_floor(floor, "floor")
    return round(max(float(sum(scores)), floor * max_points), _SCORE_DIGITS) + 0.0


def _check_floor(floor: float, where: str) -> None:
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not -1.0 <= floor <= 0.0:
        raise GradingError(f"{where}: a floor is a fraction of the group's points between -1 and 0, got {floor!r}")


def _floor_adjustment(slots: Sequence[SlotToScore], scored: Sequence[SlotScore],
                      floors: Mapping[str, float]) -> float:
    for group, floor in floors.items():
        _check_floor(floor, f"floors[{group!r}]")
    totals: dict[str, list[float | None]] = {}
    maxima: dict[str, float] = {}
    for slot, slot_score in zip(slots, scored, strict=True):
        totals.setdefault(slot.group, []).append(slot_score.score)
        maxima[slot.group] = maxima.get(slot.group, 0.0) + slot.points
    adjustment = 0.0
    for group, scores in totals.items():
        known = [score for score in scores if score is not None]
        lowest = floors.get(group, 0.0) * maxima[group]
        # A group waiting for a human is floored once its marks are in (floored_sum).
        if len(known) == len(scores) and sum(known) < lowest:
            adjustment += lowest - sum(known)
    return round(adjustment, _SCORE_DIGITS) + 0.0


def score_attempt(slots: Sequence[SlotToScore], responses: Mapping[int, Any],
                  floors: Mapping[str, float] | None = None) -> AttemptScore:
    """Grade every slot; a slot with no entry in `responses` counts as blank. ``floors`` maps a
    group to its floor (default 0 for every group; see the module doc)."""
    _check_slots(slots)
    scored = tuple(score_slot(slot, responses.get(slot.slot_id)) for slot in slots)
    auto = sum(s.score for s in scored if s.score is not None)
    adjustment = _floor_adjustment(slots, scored, floors or {})
    return AttemptScore(
        slots=scored,
        auto_score=round(auto + adjustment, _SCORE_DIGITS),
        max_score=round(sum(s.points for s in scored), _SCORE_DIGITS),
        needs_manual=any(s.score is None for s in scored),
        floor_adjustment=adjustment,
    )
