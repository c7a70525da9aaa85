"""Answer sheets for the scan tests: a small hand-made layout stored as an AnswerSheet, filled
sheet images drawn with omr.synth.render, and the reader they go through.

The reader is ``omr.reader.read_page`` (the real pipeline on real pixels). With
``EXAM_TEST_TRUTH_READER=1`` (or where omr.reader is missing) a stand-in reads a page by looking
its pixels up among the sheets this module drew (the truth it was drawn from), so a reader
regression can be told apart from a service one: every service rule (hashes, checks, roster,
mapping, grading, crops, resolution) still runs.
"""

import os
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cv2
import numpy as np

from exam_server.services import scan_read
from models import AnswerSheet
from omr.layout import (
    Alignment,
    BlockKind,
    BubbleBlock,
    Direction,
    Marker,
    PageSize,
    QrBox,
    Region,
    RegionKind,
    SheetLayout,
)
from omr.reading import BubbleState, FieldReading, FieldStatus, Issue, IssueCode, PageFailure, PageReading
from omr.sheet_code import SheetCode
from omr.synth.render import fill_bubble, render_blank

DPI = 150.0
DIGITS = 4


def sheet_layout(page_no: int = 1, pages: int = 1) -> SheetLayout:
    """An A5 sheet: four markers, a QR code, a 4-digit admission grid, the absent mark, three
    bubble questions (1 single A-B, 2 multiple A-D, 3 true/false) and boxes for 4, 5 and 6."""
    digits = BubbleBlock(id="id", kind=BlockKind.DIGITS, origin_x=20, origin_y=30, rows=10, columns=DIGITS,
                         pitch_x=7, pitch_y=5, direction=Direction.COLUMNS, labels=list(string.digits),
                         fields=[f"d{i}" for i in range(1, DIGITS + 1)])
    return SheetLayout(
        name="test-a5", page=PageSize(width=148, height=210), page_no=page_no, pages=pages,
        alignment=Alignment(markers=[Marker(x=8, y=8), Marker(x=140, y=8), Marker(x=140, y=202),
                                     Marker(x=8, y=202)]),
        qr=QrBox(x=100, y=14, size=30),
        bubble_blocks=[
            digits,
            BubbleBlock(id="absent", kind=BlockKind.ABSENT, origin_x=70, origin_y=30, rows=1, columns=1,
                        labels=["X"], fields=["absent"]),
            BubbleBlock(id="q1", kind=BlockKind.SINGLE, origin_x=30, origin_y=95, rows=1, columns=2, pitch_x=9,
                        labels=["A", "B"], fields=["1"]),
            BubbleBlock(id="q2", kind=BlockKind.MULTIPLE, origin_x=30, origin_y=105, rows=1, columns=4, pitch_x=9,
                        labels=["A", "B", "C", "D"], fields=["2"]),
            BubbleBlock(id="q3", kind=BlockKind.SINGLE, origin_x=30, origin_y=115, rows=1, columns=2, pitch_x=9,
                        labels=["T", "F"], fields=["3"]),
        ],
        regions=[Region(id="r4", kind=RegionKind.BLANK, x=15, y=125, width=60, height=12, field="4"),
                 Region(id="r5", kind=RegionKind.BLANK, x=80, y=125, width=50, height=12, field="5"),
                 Region(id="r6", kind=RegionKind.SUBJECTIVE, x=15, y=142, width=118, height=50, field="6")],
    )


KINDS = ["single", "multiple", "true_false", "fill_in", "fill_in", "subjective"]


def store_sheet(session: Any, exam_id: int, paper_id: int, slot_ids: list[int], now: datetime,
                layout: SheetLayout | None = None) -> AnswerSheet:
    layout = layout or sheet_layout()
    sheet = AnswerSheet(exam_id=exam_id, form_label="", paper_id=paper_id, page_no=layout.page_no,
                        pages=layout.pages, layout=layout.model_dump(mode="json"), created_at=now,
                        question_map={str(i + 1): {"slot_id": s, "kind": k}
                                      for i, (s, k) in enumerate(zip(slot_ids, KINDS, strict=True))})
    session.add(sheet)
    return sheet


@dataclass
class Truth:
    code: SheetCode | None
    admission: str | None
    answers: dict[str, str] = field(default_factory=dict)  # question -> letters
    absent: bool = False


TRUTHS: dict[str, Truth] = {}


def sheet_image(layout: SheetLayout, truth: Truth) -> np.ndarray:
    """Any layout (ours by hand, or one omr.design made) filled with the truth: the admission
    number across its DIGITS blocks in order, the absent mark, the answers of the questions it has."""
    image = render_blank(layout, DPI, truth.code)
    digits = [(block, index) for block in layout.blocks_of(BlockKind.DIGITS) for index in range(len(block.fields))]
    for (block, index), digit in zip(digits, truth.admission or "", strict=False):
        fill_bubble(image, block, index, block.labels.index(digit), DPI)
    for block in layout.blocks_of(BlockKind.ABSENT):
        if truth.absent:
            fill_bubble(image, block, 0, 0, DPI)
    for block in layout.bubble_blocks:
        if block.kind not in (BlockKind.SINGLE, BlockKind.MULTIPLE):
            continue
        for index, name in enumerate(block.fields):
            for letter in truth.answers.get(name, ""):
                fill_bubble(image, block, index, block.labels.index(letter), DPI)
    for region in layout.regions:
        if region.kind == RegionKind.SUBJECTIVE:  # a written answer
            x, y = int((region.x + 10) * DPI / 25.4), int((region.y + region.height / 2) * DPI / 25.4)
            cv2.putText(image, "answer", (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    TRUTHS[scan_read.pixel_hash(image)] = truth
    return image


def png_bytes(image: np.ndarray) -> bytes:
    return scan_read.png(image)


# ---- the stand-in reader ------------------------------------------------------------------------

def truth_loader(data: bytes, name: str) -> Any:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        yield PageFailure(f"{name}#1", Issue(IssueCode.UNREADABLE_FILE, f"{name}: not an image or corrupt"))
        return
    yield f"{name}#1", image


def truth_reader(image: np.ndarray, layout_for: Any, source: str = "") -> PageReading | PageFailure:
    truth = TRUTHS.get(scan_read.pixel_hash(image))
    if truth is None:
        return PageFailure(source, Issue(IssueCode.CANNOT_LOCATE, "no markers found"))
    layout = layout_for(truth.code)
    if layout is None:
        return PageFailure(source, Issue(IssueCode.CANNOT_LOCATE, "no layout for this sheet"))
    fields, issues = [], []
    for block in layout.bubble_blocks:
        if block.kind not in (BlockKind.SINGLE, BlockKind.MULTIPLE):
            continue
        for name in block.fields:
            value = truth.answers.get(name, "")
            status = FieldStatus.OK if value else FieldStatus.BLANK
            if block.kind == BlockKind.SINGLE and len(value) > 1:
                status = FieldStatus.MULTIPLE
                issues.append(Issue(IssueCode.MULTIPLE_MARKS, f"question {name}: {value} marked", name))
            fields.append(FieldReading(block.id, name, value, status, 0.9,
                                       {label: float(label in value) for label in block.labels},
                                       {label: BubbleState.MARKED if label in value else BubbleState.BLANK
                                        for label in block.labels}))
    if truth.absent and truth.answers:
        issues.append(Issue(IssueCode.ABSENT_WITH_ANSWERS, "absent is marked, yet answers are filled"))
    if not truth.admission and (truth.code is None or truth.code.candidate_id is None):
        issues.append(Issue(IssueCode.ID_UNREADABLE, "admission number: no digits marked"))
    return PageReading(layout.name, layout.page_no, truth.code, 0, DPI / 25.4, image, fields,
                       admission_no=truth.admission or None, admission_confidence=0.9 if truth.admission else 0.0,
                       absent=truth.absent, issues=issues)


def use_truth_reader() -> bool:
    if os.environ.get("EXAM_TEST_TRUTH_READER") == "1":
        return True
    try:
        import omr.load  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
        import omr.reader  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return True
    return False
