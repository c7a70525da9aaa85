"""Human marks: scores on a step, rounding of proposed scores, and rubric points per criterion.

The stored unit stays the fraction (``attempt_answers.fraction``, like an automatic outcome); a
mark is checked in points, where people think, and handed back as a fraction of the slot.

* A score is valid when it is a finite number in [0, points] and a multiple of the item's
  ``score_step`` (the stored precision 0.0001 without one). The slot's points must themselves be a
  multiple of the step, or full marks could not be given. A valid score ``s`` is stored as
  ``s / points`` (0 for a 0-point slot); ``fraction * points`` rounded to 4 places gives ``s``
  back (see :mod:`grading.scoring`).
* A machine-proposed score (an OCR reading, a suggestion) is rounded to the nearest multiple of
  the step, halves up (四舍五入: 2.25 on a 0.5 step is 2.5, 2.2499 is 2.0), then clamped to
  [0, points]. Rounding is never applied to a human's mark: an off-step human mark is an error.
* An item with ``criteria`` (a rubric) is marked with one score per criterion, in the criteria's
  order, each on the step within 0..max_points. The item's scale is the rubric's own: the
  fraction is ``sum(marks) / sum(max_points)``, normalised, so the slot's points need not equal
  the rubric total (a 10-point rubric on a 20-point slot doubles). When they are equal, as they
  usually are, the slot score is exactly the sum of the criterion marks. A single total score is
  refused for such an item, so the per-criterion record is never skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grading.errors import GradingError, InvalidMark

# Scores are stored as NUMERIC(…, 4): the finest step there is.
STORED_STEP = 0.0001
_FRACTION_DIGITS = 7
_SCORE_DIGITS = 4
_EPSILON = 1e-9


def fmt(value: float) -> str:
    """Points as people write them: 7, 2.5, 0.0001 (no trailing .0, no float noise)."""
    text = repr(round(float(value), 10))
    return text[:-2] if text.endswith(".0") else text


def is_multiple(value: float, step: float) -> bool:
    """True if value is a whole number of steps, allowing for binary floating point (0.1 * 3)."""
    quotient = value / step
    return abs(quotient - round(quotient)) <= _EPSILON * max(1.0, abs(quotient))


def _number(value: Any, where: str) -> float:
    # bool is an int subclass; a checkbox value is never a score.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidMark(f"{where}: expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidMark(f"{where}: {value!r} is not a finite number")
    return float(value)


def check_points(points: float, step: float) -> None:
    """The slot's points must be a finite number >= 0 and a whole number of steps."""
    if isinstance(points, bool) or not isinstance(points, int | float) or not math.isfinite(points) or points < 0:
        raise GradingError(f"points: must be a finite number >= 0, got {points!r}")
    if not is_multiple(points, step):
        raise GradingError(f"points: the slot's {fmt(points)} points are not a multiple of the score step {fmt(step)}, "
                           "so full marks could not be given")


def validate_score(score: Any, maximum: float, step: float = STORED_STEP, where: str = "score") -> float:
    """A human's score in points: checked, never rounded; returns it as a float."""
    value = _number(score, where)
    if value < 0:
        raise InvalidMark(f"{where}: {fmt(value)} is below 0")
    if value > maximum + _EPSILON * max(1.0, maximum):
        raise InvalidMark(f"{where}: {fmt(value)} is above the maximum of {fmt(maximum)} points")
    if not is_multiple(value, step):
        lower = math.floor(value / step) * step
        raise InvalidMark(f"{where}: {fmt(value)} is not a multiple of the score step {fmt(step)} "
                          f"(nearest allowed: {fmt(lower)} or {fmt(lower + step)})")
    return round(value, _SCORE_DIGITS)


def score_fraction(score: Any, points: float, step: float = STORED_STEP) -> float:
    """Validate a human's score out of the slot's points; returns the fraction to store."""
    check_points(points, step)
    value = validate_score(score, points, step)
    return round(value / points, _FRACTION_DIGITS) if points else 0.0


def round_to_step(proposed: Any, points: float, step: float = STORED_STEP) -> float:
    """Round a machine-proposed score to the nearest step (halves up), clamped to [0, points]."""
    check_points(points, step)
    value = _number(proposed, "proposed")
    steps = math.floor(value / step + 0.5 + _EPSILON)
    top = math.floor(points / step + _EPSILON)
    return round(min(max(steps, 0), top) * step, _SCORE_DIGITS) + 0.0


@dataclass(frozen=True)
class Criterion:
    name: str
    max_points: float


@dataclass(frozen=True)
class RubricMark:
    """One human's rubric marking: the marks per criterion, their sum and the fraction to store."""

    marks: tuple[float, ...]
    total: float
    max_points: float
    fraction: float


def mark_rubric(criteria: Sequence[Criterion], marks: Any, step: float = STORED_STEP) -> RubricMark:
    """Check one mark per criterion (in order) and sum them; the fraction is normalised."""
    if not isinstance(marks, list | tuple):
        raise InvalidMark(f"marks: expected a list with one mark per criterion, got {type(marks).__name__}")
    if len(marks) != len(criteria):
        names = ", ".join(repr(c.name) for c in criteria)
        raise InvalidMark(f"marks: expected {len(criteria)} marks (one per criterion: {names}), got {len(marks)}")
    checked = tuple(
        validate_score(mark, c.max_points, step, f"marks[{i}] (criterion {c.name!r})")
        for i, (mark, c) in enumerate(zip(marks, criteria, strict=True))
    )
    total, maximum = round(sum(checked), _SCORE_DIGITS), round(sum(c.max_points for c in criteria), _SCORE_DIGITS)
    return RubricMark(checked, total, maximum, round(total / maximum, _FRACTION_DIGITS))
