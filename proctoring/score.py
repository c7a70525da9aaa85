"""The transparent risk score of one proctoring session: a weighted sum anyone can recompute.

    score = sum over rules of  weight(rule) * minutes in violation      (rules with a duration)
                             + weight(rule) * occurrences                 (instant rules: copy/paste,
                                                                           devtools, second login, IP change)

Minutes are the flags' lengths (an open flag counts up to ``now``); an occurrence is one flag (a
burst of copies within the debounce window is one flag). Flags a reviewer **dismissed** count zero;
open and confirmed flags count. The weights are per exam (``proctor_settings.weights``), default
:data:`DEFAULT_WEIGHTS`. The score ranks nothing and decides nothing: it orders the review list by
evidence and comes with its explanation (rule, flags, minutes or occurrences, weight, points).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proctoring.rules import INSTANT_RULES, Rule, utc

# Points per minute in violation, or per occurrence for instant rules. Why these: see
# docs/proctoring-rules.md ("Risk score").
DEFAULT_WEIGHTS: dict[str, float] = {
    Rule.FACE_ABSENT: 2.0,
    Rule.MULTIPLE_FACES: 5.0,
    Rule.FACE_MISMATCH: 5.0,
    Rule.LOOKING_AWAY: 0.5,
    Rule.TAB_HIDDEN: 3.0,
    Rule.WINDOW_BLUR: 1.0,
    Rule.FULLSCREEN_EXIT: 1.0,
    Rule.SECOND_SCREEN: 3.0,
    Rule.NETWORK_DROP: 0.2,
    Rule.COPY_PASTE: 2.0,
    Rule.DEVTOOLS: 5.0,
    Rule.SECOND_LOGIN: 10.0,
    Rule.IP_CHANGE: 2.0,
}
MAX_WEIGHT = 1000.0


class WeightError(ValueError):
    """A weight names an unknown rule or is not a finite number in [0, MAX_WEIGHT]."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"weights.{rule}: {reason}")
        self.rule, self.reason = rule, reason


def validate_weights(raw: Mapping[str, Any]) -> dict[str, float]:
    """Every rule's weight: the given ones checked, the others their defaults."""
    known = {r.value for r in Rule}
    out = {str(k): v for k, v in DEFAULT_WEIGHTS.items()}
    for rule, value in raw.items():
        if rule not in known:
            raise WeightError(rule, f"unknown rule; known: {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise WeightError(rule, "must be a number")
        if not 0 <= value <= MAX_WEIGHT:
            raise WeightError(rule, f"must be between 0 and {MAX_WEIGHT:g}")
        out[rule] = float(value)
    return out


@dataclass(frozen=True)
class FlagSpan:
    flag_id: int
    rule: str
    started_at: datetime
    ended_at: datetime | None
    status: str  # open, confirmed, dismissed


@dataclass(frozen=True)
class RuleLine:
    rule: str
    unit: str  # per_minute, per_occurrence
    weight: float
    flags: int  # flags that count (not dismissed)
    dismissed: int
    minutes: float
    occurrences: int
    points: float
    flag_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "unit": self.unit, "weight": self.weight, "flags": self.flags,
                "dismissed": self.dismissed, "minutes": self.minutes, "occurrences": self.occurrences,
                "points": self.points, "flag_ids": list(self.flag_ids)}


@dataclass(frozen=True)
class Explanation:
    total: float
    lines: tuple[RuleLine, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "lines": [line.as_dict() for line in self.lines],
                "formula": "sum(weight * minutes) + sum(weight * occurrences); dismissed flags count 0"}


def _minutes(flag: FlagSpan, now: datetime) -> float:
    end = utc(flag.ended_at) if flag.ended_at is not None else utc(now)
    return max(0.0, (end - utc(flag.started_at)).total_seconds() / 60.0)


def _line(rule: str, flags: list[FlagSpan], weight: float, now: datetime) -> RuleLine:
    counted = [f for f in flags if f.status != "dismissed"]
    instant = rule in INSTANT_RULES
    minutes = round(sum(_minutes(f, now) for f in counted), 3)
    occurrences = len(counted) if instant else 0
    points = round(weight * (occurrences if instant else minutes), 3)
    return RuleLine(rule, "per_occurrence" if instant else "per_minute", weight, len(counted),
                    len(flags) - len(counted), minutes, occurrences, points, tuple(f.flag_id for f in counted))


def explain(flags: Iterable[FlagSpan], weights: Mapping[str, float], now: datetime) -> Explanation:
    """The score and, per rule with any flag, how it was reached."""
    by_rule: dict[str, list[FlagSpan]] = {}
    for flag in flags:
        by_rule.setdefault(flag.rule, []).append(flag)
    lines = tuple(_line(rule, fs, float(weights.get(rule, DEFAULT_WEIGHTS.get(rule, 0.0))), now)
                  for rule, fs in sorted(by_rule.items()))
    return Explanation(round(sum(line.points for line in lines), 2), lines)
