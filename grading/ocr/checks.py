"""Machine readings as a check on people, blank by blank (score boxes: :func:`decide.check_human_score`).

A blank the machine read with confidence has a machine score: its fraction of the blank's points
when the reading matched an accepted answer, 0 when the box was empty or the confident reading
matched nothing. A human mark is flagged for the lead (listed, never blocked) when it differs from
the machine score by more than the unit's tolerance, or when the machine accepted the answer and
the human gave 0. An unsure or failed reading checks nothing.
"""

from __future__ import annotations

import math

from grading.ocr.decide import ScoreCheck
from grading.ocr.reader import RouteReason

_EPS = 1e-9


def machine_blank_score(decision: str, reason: str | None, fraction: float | None, points: float
                        ) -> float | None:
    """The machine's score of one blank from its stored decision, or None when it is not sure."""
    if decision == "scored" and fraction is not None:
        return round(fraction * points, 4)
    if decision == "blank" or (decision == "person" and reason == RouteReason.NO_MATCH.value):
        return 0.0
    return None


def check_blank_mark(human: float, machine: float | None, tolerance: float, reason: str | None = None) -> ScoreCheck:
    """Compare a marker's mark for one blank with the machine's score of it."""
    if not math.isfinite(human) or not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"check_blank_mark: human={human!r}, tolerance={tolerance!r} must be finite, tolerance >= 0")
    if machine is None:
        known = {r.value for r in RouteReason}
        why = RouteReason(reason) if reason is not None and reason in known else RouteReason.LOW_CONFIDENCE
        return ScoreCheck(False, None, why, "no confident machine reading")
    gap = abs(human - machine)
    far = gap > tolerance + _EPS
    zeroed = machine > _EPS and abs(human) <= _EPS
    detail = f"human {human:g}, machine {machine:g}, gap {gap:g}"
    if zeroed:
        detail += ": the machine accepted the answer, the human gave 0"
    elif far:
        detail += f" > tolerance {tolerance:g}"
    return ScoreCheck(far or zeroed, machine, None, detail)
