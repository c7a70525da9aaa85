"""What to do with a machine reading: score it, or send it to a person with a reason.

The machine never scores against doubt: only a confident reading that matches an accepted answer of
the fill-in blank (the blank's own matching, :func:`grading.types_text.blank_fraction`) is scored; a
blank box is scored 0 and listed for audit; everything else goes to a person. Handwritten score boxes
are a check on people, never the final score: :func:`check_human_score` flags a human mark far from
the machine's reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grading.ocr.reader import OcrReading, ReadingStatus, RouteReason
from grading.types_text import Blank, blank_fraction

# Chosen on the calibration split of bench/ocr.py (MNIST digits 250 <= k < 350 of each label, never its
# test crops): with the two-reader rule of read_digits (PP-OCR and the digit classifier must agree on
# every digit) no wrong reading was accepted at 0.9991 on seeds 101 and 2027 (300 strings each), one
# was at 0.99915 on seed 8: 0.9995 leaves a margin above it.
DEFAULT_THRESHOLD = 0.9995


class Action(StrEnum):
    SCORE = "score"  # the machine's fraction stands
    PERSON = "person"  # a marker decides


@dataclass(frozen=True)
class Decision:
    action: Action
    fraction: float | None  # set when action is SCORE
    reason: RouteReason | None  # why a person sees it, or BLANK for an automatic 0 listed for audit
    audit: bool = False  # scored automatically but listed for a person to glance at
    detail: str = ""


def decide_blank(reading: OcrReading, blank: Blank | dict[str, Any], threshold: float = DEFAULT_THRESHOLD) -> Decision:
    """Score one fill-in blank from its reading, or route it. ``blank`` is the blank's definition
    (``{"answers": [{"text": ..., "fraction": ...}], "case_sensitive": ...}``)."""
    spec = blank if isinstance(blank, Blank) else Blank.model_validate(blank)
    if reading.status is ReadingStatus.BLANK:
        return Decision(Action.SCORE, 0.0, RouteReason.BLANK, audit=True, detail=reading.detail)
    if reading.status is ReadingStatus.FAILED:
        return Decision(Action.PERSON, None, reading.reason or RouteReason.MODEL_FAILURE, detail=reading.detail)
    if not _confident(reading, threshold):
        return Decision(Action.PERSON, None, RouteReason.LOW_CONFIDENCE, detail=_why(reading, threshold))
    fraction = blank_fraction(spec, reading.text)
    if fraction <= 0.0:
        # A confident reading that matches no accepted answer may still be a misreading: a person marks it.
        return Decision(Action.PERSON, None, RouteReason.NO_MATCH, detail=f"read {reading.text!r}")
    return Decision(Action.SCORE, fraction, None, detail=f"read {reading.text!r}")


def _confident(reading: OcrReading, threshold: float) -> bool:
    return bool(reading.text) and math.isfinite(reading.confidence) and reading.confidence >= threshold


def _why(reading: OcrReading, threshold: float) -> str:
    checks = f"; {reading.detail}" if reading.detail else ""
    return f"read {reading.text!r} at confidence {reading.confidence:.3f} < {threshold}{checks}"


def parse_number(text: str) -> float | None:
    """A score as read ('7', '7.5', '.5'); None for anything else ('', '7..5', '.')."""
    if not text or text.count(".") > 1 or text == ".":
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ScoreCheck:
    flagged: bool  # True: the human mark is far from a confident machine reading; someone looks again
    machine: float | None  # the machine's number, None when it could not be trusted
    reason: RouteReason | None  # why no comparison was possible (then flagged is False)
    detail: str = ""


def check_human_score(human: float, machine_reading: OcrReading, tolerance: float,
                      threshold: float = DEFAULT_THRESHOLD) -> ScoreCheck:
    """Compare a marker's score with the machine's digit reading of the handwritten score box.

    Flagged when the two differ by more than ``tolerance``. A blank box reads as no number: a human
    mark other than 0 next to it is flagged. When the reading cannot be trusted (failure, low
    confidence, not a number) nothing is flagged and ``reason`` says why no check was made."""
    if not math.isfinite(human) or not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"check_human_score: human={human!r} and tolerance={tolerance!r} must be finite, "
                         "tolerance >= 0")
    if machine_reading.status is ReadingStatus.BLANK:
        flagged = human != 0
        return ScoreCheck(flagged, None, RouteReason.BLANK,
                          f"score box is blank, human gave {human:g}" if flagged else "score box is blank")
    if machine_reading.status is ReadingStatus.FAILED:
        return ScoreCheck(False, None, machine_reading.reason or RouteReason.MODEL_FAILURE, machine_reading.detail)
    if not _confident(machine_reading, threshold):
        return ScoreCheck(False, None, RouteReason.LOW_CONFIDENCE, _why(machine_reading, threshold))
    value = parse_number(machine_reading.text)
    if value is None:
        return ScoreCheck(False, None, RouteReason.NOT_A_NUMBER, f"read {machine_reading.text!r}")
    gap = abs(human - value)
    flagged = gap > tolerance + 1e-9
    detail = f"human {human:g}, machine {value:g}, gap {gap:g} " + ("> " if flagged else "<= ") + f"{tolerance:g}"
    return ScoreCheck(flagged, value, None, detail)
