"""OCR of known boxes cut from scans: handwritten fill-in blanks and score boxes.

``read_text`` / ``read_digits`` (:mod:`grading.ocr.reader`) turn a crop into an :class:`OcrReading`;
``decide_blank`` and ``check_human_score`` (:mod:`grading.ocr.decide`) say what to do with it.
The model (PP-OCRv6 rec from the ``rapidocr`` 3.10.0 wheel, on onnxruntime) loads on first use; numbers
are also read by a small digit classifier (:mod:`grading.ocr.digits`, shipped in ``models/``) and only
the two readers' agreement is confident.
"""

from grading.ocr.decide import (
    DEFAULT_THRESHOLD,
    Action,
    Decision,
    ScoreCheck,
    check_human_score,
    decide_blank,
    parse_number,
)
from grading.ocr.reader import OcrReading, ReadingStatus, RouteReason, read_digits, read_text

__all__ = [
    "DEFAULT_THRESHOLD",
    "Action",
    "Decision",
    "OcrReading",
    "ReadingStatus",
    "RouteReason",
    "ScoreCheck",
    "check_human_score",
    "decide_blank",
    "parse_number",
    "read_digits",
    "read_text",
]
