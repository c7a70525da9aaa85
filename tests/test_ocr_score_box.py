"""A handwritten score box checks the human total (services/ocr_checks.py over grading.ocr's
check_human_score): the stored reading is turned back into the reader's answer faithfully."""

import pytest

from exam_server.services.ocr_checks import _score_box_checks, reading_of
from grading.ocr import ReadingStatus, RouteReason
from models import CropReading


def _row(text: str, confidence: float, reason: str | None = None) -> CropReading:
    return CropReading(id=7, decision="check", text=text, confidence=confidence, reason=reason, detail="")


@pytest.mark.parametrize(("row", "status", "reason"), [
    (_row("7", 0.9999), ReadingStatus.READ, None),
    (_row("", 0.99, "blank"), ReadingStatus.BLANK, None),
    (_row("", 0.0, "corrupt_crop"), ReadingStatus.FAILED, RouteReason.CORRUPT_CROP),
    (_row("", 0.0, "model_failure"), ReadingStatus.FAILED, RouteReason.MODEL_FAILURE),
])
def test_a_stored_reading_reads_back(row: CropReading, status: ReadingStatus, reason: RouteReason | None) -> None:
    reading = reading_of(row)
    assert (reading.status, reading.reason, reading.text) == (status, reason, row.text)


@pytest.mark.parametrize(("row", "human", "tolerance", "flagged", "machine"), [
    (_row("7", 0.9999), 7.0, 0.0, False, 7.0),
    (_row("7", 0.9999), 8.0, 1.0, False, 7.0),
    (_row("7", 0.9999), 9.0, 1.0, True, 7.0),  # more than the tolerance apart
    (_row("7.5", 0.9999), 7.0, 0.0, True, 7.5),
    (_row("", 0.99, "blank"), 4.0, 0.0, True, None),  # an empty score box beside a mark of 4
])
def test_score_box_flags_a_far_human_total(row: CropReading, human: float, tolerance: float, flagged: bool,
                                           machine: float | None) -> None:
    [check] = _score_box_checks([row], human, tolerance)
    assert (check["flagged"], check["machine"], check["reading_id"]) == (flagged, machine, 7)


@pytest.mark.parametrize("row", [_row("7", 0.95), _row("", 0.0, "corrupt_crop"), _row("7..5", 0.9999),
                                 _row("", 0.99, "blank")])
def test_an_untrustworthy_reading_checks_nothing(row: CropReading) -> None:
    human = 0.0  # an empty box next to a 0 agrees; an unsure or failed reading is no check at all
    assert _score_box_checks([row], human, 0.0) == []
