"""The result of grading one response.

A fraction is in [0, 1] except for items with negative marking (``penalty`` on single_choice and
true_false, see :mod:`grading.types_choice`), whose wrong answers score down to -1 (Moodle's
"fraction in [min, 1]"). A blank response is always 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Fractions are rounded like Moodle does, so 1/3 + 1/3 + 1/3 sums back to 1.
_FRACTION_DIGITS = 7


class GradingState(StrEnum):
    GRADED = "graded"
    NEEDS_MANUAL = "needs_manual"


@dataclass(frozen=True)
class Outcome:
    """``fraction`` is in [minimum, 1] (minimum 0 unless negatively marked, never below -1), or None
    while a human still has to grade."""

    fraction: float | None
    state: GradingState
    feedback: dict[str, Any] = field(default_factory=dict)


def graded(fraction: float, feedback: dict[str, Any] | None = None, minimum: float = 0.0) -> Outcome:
    """An automatic outcome, clamped to [minimum, 1] so no rule can leak out of range;
    ``minimum`` is 0 unless the item is negatively marked, and never below -1."""
    clamped = min(1.0, max(max(minimum, -1.0), fraction))
    # + 0.0 turns -0.0 (a clamp at a minimum of -0.0) into 0.0, so JSON never shows "-0.0".
    return Outcome(round(clamped, _FRACTION_DIGITS) + 0.0, GradingState.GRADED, feedback or {})


def blank() -> Outcome:
    """A blank response is worth nothing, for every type (manual ones included)."""
    return Outcome(0.0, GradingState.GRADED, {"blank": True})


def needs_manual() -> Outcome:
    return Outcome(None, GradingState.NEEDS_MANUAL, {})
