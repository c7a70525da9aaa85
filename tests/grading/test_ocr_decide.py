"""grading.ocr.decide: when a machine reading scores a blank, when a person sees it, and human checks."""

from __future__ import annotations

from typing import Any

import pytest

from grading.ocr import (
    Action,
    OcrReading,
    ReadingStatus,
    RouteReason,
    check_human_score,
    decide_blank,
    parse_number,
)

T = 0.95
CAPITAL: dict[str, Any] = {"answers": [{"text": "Beijing", "fraction": 1.0}, {"text": "Peking", "fraction": 0.5}]}
NUMBER: dict[str, Any] = {"answers": [{"text": "1024", "fraction": 1.0}]}
FORMULA: dict[str, Any] = {"answers": [{"text": "H2O", "fraction": 1.0}], "case_sensitive": True}


def read(text: str, confidence: float, detail: str = "") -> OcrReading:
    return OcrReading(text, confidence, tuple(confidence for _ in text), detail=detail)


BLANK = OcrReading("", 0.99, (), ReadingStatus.BLANK, RouteReason.BLANK, "no ink in the box")
CORRUPT = OcrReading("", 0.0, (), ReadingStatus.FAILED, RouteReason.CORRUPT_CROP, "crop: 5x5 px is too small")
BROKEN = OcrReading("", 0.0, (), ReadingStatus.FAILED, RouteReason.MODEL_FAILURE, "recogniser: RuntimeError")


@pytest.mark.parametrize(
    ("reading", "blank", "action", "fraction", "reason", "audit"),
    [
        (read("Beijing", 0.99), CAPITAL, Action.SCORE, 1.0, None, False),
        (read("beijing", 0.99), CAPITAL, Action.SCORE, 1.0, None, False),  # the blank's case folding
        (read("Ｂｅｉｊｉｎｇ", 0.99), CAPITAL, Action.SCORE, 1.0, None, False),  # ... and NFKC
        (read(" Peking ", 0.99), CAPITAL, Action.SCORE, 0.5, None, False),  # a partial-credit answer
        (read("1024", T), NUMBER, Action.SCORE, 1.0, None, False),  # exactly at the threshold
        (read("1024", T - 0.001), NUMBER, Action.PERSON, None, RouteReason.LOW_CONFIDENCE, False),
        (read("Beijing", 0.3), CAPITAL, Action.PERSON, None, RouteReason.LOW_CONFIDENCE, False),
        (read("Shanghai", 0.99), CAPITAL, Action.PERSON, None, RouteReason.NO_MATCH, False),
        (read("1042", 0.999), NUMBER, Action.PERSON, None, RouteReason.NO_MATCH, False),
        (read("h2o", 0.99), FORMULA, Action.PERSON, None, RouteReason.NO_MATCH, False),  # case-sensitive blank
        (read("", 0.99), NUMBER, Action.PERSON, None, RouteReason.LOW_CONFIDENCE, False),  # ink, nothing read
        (read("1024", float("nan")), NUMBER, Action.PERSON, None, RouteReason.LOW_CONFIDENCE, False),
        (BLANK, NUMBER, Action.SCORE, 0.0, RouteReason.BLANK, True),  # scored 0, listed for audit
        (CORRUPT, NUMBER, Action.PERSON, None, RouteReason.CORRUPT_CROP, False),
        (BROKEN, NUMBER, Action.PERSON, None, RouteReason.MODEL_FAILURE, False),
    ],
)
def test_decide_blank(reading: OcrReading, blank: dict[str, Any], action: Action, fraction: float | None,
                      reason: RouteReason | None, audit: bool) -> None:
    decision = decide_blank(reading, blank, threshold=T)
    assert (decision.action, decision.fraction, decision.reason, decision.audit) == (action, fraction, reason, audit)
    if decision.action is Action.PERSON:
        assert decision.detail  # a person always sees why


def test_low_confidence_detail_names_the_reading_and_the_checks() -> None:
    decision = decide_blank(read("1024", 0.4, "layouts disagree: '1024' / '1094'"), NUMBER, threshold=T)
    assert "'1024'" in decision.detail and "0.400" in decision.detail and "disagree" in decision.detail


def test_wildcard_answers_use_the_blanks_matching() -> None:
    spec = {"answers": [{"text": "photo*synthesis", "fraction": 1.0}]}
    assert decide_blank(read("photo-synthesis", 0.99), spec, threshold=T).fraction == 1.0


@pytest.mark.parametrize(
    ("text", "value"),
    [("7", 7.0), ("7.5", 7.5), (".5", 0.5), ("10.", 10.0), ("007", 7.0), ("", None), (".", None),
     ("7..5", None), ("1.2.3", None), ("7a", None), ("nan", None), ("inf", None)],
)
def test_parse_number(text: str, value: float | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("human", "reading", "tolerance", "flagged", "machine", "reason"),
    [
        (7.0, read("7", 0.99), 1.0, False, 7.0, None),
        (8.0, read("7", 0.99), 1.0, False, 7.0, None),  # gap equal to the tolerance
        (9.0, read("7", 0.99), 1.0, True, 7.0, None),
        (7.5, read("7.5", 0.99), 0.0, False, 7.5, None),
        (3.0, read("12", 0.99), 2.0, True, 12.0, None),
        (0.3, read("0.1", 0.99), 0.2, False, 0.1, None),  # float noise does not flag
        (3.0, read("12", 0.5), 2.0, False, None, RouteReason.LOW_CONFIDENCE),  # no trusted reading, no flag
        (3.0, read("1..2", 0.99), 2.0, False, None, RouteReason.NOT_A_NUMBER),
        (0.0, BLANK, 1.0, False, None, RouteReason.BLANK),
        (4.0, BLANK, 1.0, True, None, RouteReason.BLANK),  # a mark given for an empty score box
        (4.0, CORRUPT, 1.0, False, None, RouteReason.CORRUPT_CROP),
        (4.0, BROKEN, 1.0, False, None, RouteReason.MODEL_FAILURE),
    ],
)
def test_check_human_score(human: float, reading: OcrReading, tolerance: float, flagged: bool,
                           machine: float | None, reason: RouteReason | None) -> None:
    check = check_human_score(human, reading, tolerance, threshold=T)
    assert (check.flagged, check.machine, check.reason) == (flagged, machine, reason)
    assert check.detail


@pytest.mark.parametrize(("human", "tolerance"), [(float("nan"), 1.0), (1.0, -1.0), (1.0, float("inf"))])
def test_check_human_score_rejects_bad_arguments(human: float, tolerance: float) -> None:
    with pytest.raises(ValueError, match="check_human_score"):
        check_human_score(human, read("7", 0.99), tolerance)
