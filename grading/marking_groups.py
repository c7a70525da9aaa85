"""Marking units over a group of blanks: one mark per blank, and each slot's share of the final.

A unit may cover several slots (all blanks of one question, or the blanks of consecutive
questions). The marker gives one mark per blank; the marks are the unit's rubric criteria (one
:class:`~grading.marks.Criterion` per blank, its points the slot's points shared evenly), so
double marking, tolerance, third marks and arbitration of :mod:`grading.marking` apply unchanged
to the unit's total. What each slot gets is taken from the marks that made the final:

* single or arbitrated: that one mark's blanks;
* agreed: the mean of the two marks, blank by blank;
* resolved: the mean of the third mark and the earlier mark within tolerance of it (the closer
  one; equally close: the third mark averaged with the mean of the first two), as the total was.

A slot's score is the sum of its blanks' marks; it is rounded to 0.0001 and kept in [0, points].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grading.marking import Mark, Outcome, TaskState, TaskStatus, UnitRules
from grading.marks import Criterion

_DIGITS = 4


@dataclass(frozen=True)
class GroupSlot:
    slot_id: int
    label: str  # the question as printed ("4")
    points: float
    blanks: int  # how many blanks (marks) the slot has


def blank_criteria(slots: Sequence[GroupSlot]) -> tuple[Criterion, ...]:
    """One criterion per blank, named "4.1", "4.2" …; the last blank of a slot takes the rounding
    remainder so a slot's blanks add up to its points exactly."""
    out: list[Criterion] = []
    for slot in slots:
        n = max(1, slot.blanks)
        share = round(slot.points / n, _DIGITS)
        for b in range(n):
            points = share if b < n - 1 else round(slot.points - share * (n - 1), _DIGITS)
            out.append(Criterion(f"{slot.label}.{b + 1}" if n > 1 else slot.label, points))
    return tuple(out)


def _within(a: float, b: float, tolerance: float) -> bool:
    return round(abs(a - b), _DIGITS) <= round(tolerance, _DIGITS)


def deciding_marks(rules: UnitRules, state: TaskState) -> list[tuple[Mark, float]]:
    """The marks the final score came from, with their weights (summing to 1)."""
    if state.status != TaskStatus.DONE or not state.marks:
        raise ValueError(f"task is {state.status}: it has no final score yet")
    marks = state.marks
    if state.outcome in (Outcome.SINGLE, Outcome.ARBITRATED):
        return [(marks[-1], 1.0)]
    if state.outcome == Outcome.AGREED:
        return [(marks[0], 0.5), (marks[1], 0.5)]
    a, b, c = marks[0], marks[1], marks[2]
    near_a, near_b = _within(a.score, c.score, rules.tolerance), _within(b.score, c.score, rules.tolerance)
    if near_a and near_b:
        da, db = round(abs(a.score - c.score), _DIGITS), round(abs(b.score - c.score), _DIGITS)
        if da == db:
            return [(c, 0.5), (a, 0.25), (b, 0.25)]
        return [(c, 0.5), (a if da < db else b, 0.5)]
    return [(c, 0.5), (a if near_a else b, 0.5)]


def per_blank(rules: UnitRules, state: TaskState) -> tuple[float, ...]:
    """The final mark of every blank (the deciding marks' blanks, weighted)."""
    deciding = deciding_marks(rules, state)
    n = len(rules.criteria)
    if any(m.criteria is None or len(m.criteria) != n for m, _ in deciding):
        raise ValueError(f"every deciding mark needs {n} blank marks")
    return tuple(round(sum(w * (m.criteria or ())[i] for m, w in deciding), _DIGITS) for i in range(n))


def slot_scores(slots: Sequence[GroupSlot], blank_marks: Sequence[float]) -> dict[int, float]:
    """Each slot's score: the sum of its blanks' marks, kept in [0, points]."""
    expected = sum(max(1, s.blanks) for s in slots)
    if len(blank_marks) != expected:
        raise ValueError(f"expected {expected} blank marks, got {len(blank_marks)}")
    out: dict[int, float] = {}
    at = 0
    for slot in slots:
        n = max(1, slot.blanks)
        total = round(sum(blank_marks[at:at + n]), _DIGITS)
        out[slot.slot_id] = min(max(total, 0.0), slot.points)
        at += n
    return out
