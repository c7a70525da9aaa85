"""The result of grading one response."""

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
    """``fraction`` is in [0, 1], or None while a human still has to grade."""

    fraction: float | None
    state: GradingState
    feedback: dict[str, Any] = field(default_factory=dict)


def graded(fraction: float, feedback: dict[str, Any] | None = None) -> Outcome:
    """An automatic outcome, clamped to [0, 1] so no rule can leak out of range."""
    clamped = min(1.0, max(0.0, fraction))
    return Outcome(round(clamped, _FRACTION_DIGITS), GradingState.GRADED, feedback or {})


def blank() -> Outcome:
    """A blank response is worth nothing, for every type (manual ones included)."""
    return Outcome(0.0, GradingState.GRADED, {"blank": True})


def needs_manual() -> Outcome:
    return Outcome(None, GradingState.NEEDS_MANUAL, {})
