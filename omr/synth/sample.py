"""A sample answer-sheet layout for tests and the benchmark: what ``omr.design`` produces for a
typical paper (A4, four square corner markers, a QR code, an admission-number grid, the 缺考 mark,
single-choice questions in blocks of five, one multiple-response block and subjective boxes).
Built directly as a :class:`SheetLayout`, so synthetic scans need nothing else."""

from __future__ import annotations

from omr.layout import (
    Alignment,
    AlignMethod,
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
from omr.sheet_code import SheetCode

LETTERS = "ABCDEFGH"


def sample_code(exam_id: int = 7, page: int = 1, pages: int = 1) -> SheetCode:
    return SheetCode(exam_id=exam_id, form="A", page=page, pages=pages)


def sample_layout(questions: int = 60, options: int = 4, digits: int = 8, multiple: int = 5,
                  subjective: int = 2, name: str = "sample-a4") -> SheetLayout:
    """``questions`` single-choice items (blocks of 5 rows, 4 blocks across), ``multiple``
    multiple-response items of 5 options, an admission grid of ``digits`` columns, and
    ``subjective`` answer boxes at the bottom. Question fields are numbered "1", "2", ..."""
    if not 1 <= questions <= 60 or not 2 <= options <= 5 or not 1 <= digits <= 12 or not 0 <= multiple <= 5:
        raise ValueError("sample_layout: 1..60 questions, 2..5 options, 1..12 digits, 0..5 multiple")
    markers = [Marker(x=12, y=12), Marker(x=198, y=12), Marker(x=198, y=285), Marker(x=12, y=285)]
    blocks = [
        BubbleBlock(id="admission", kind=BlockKind.DIGITS, origin_x=24, origin_y=34, rows=10, columns=digits,
                    pitch_x=6.5, pitch_y=4.8, bubble_width=4.6, bubble_height=3.0,
                    direction=Direction.COLUMNS, labels=[str(d) for d in range(10)],
                    fields=[f"digit{i + 1}" for i in range(digits)]),
        BubbleBlock(id="absent", kind=BlockKind.ABSENT, origin_x=110, origin_y=34, rows=1, columns=1,
                    bubble_width=4.6, bubble_height=3.0, labels=["X"], fields=["absent"]),
    ]
    per_block, column_step, row_step = 5, 46.0, 32.0
    number = 1
    for b in range((questions + per_block - 1) // per_block):
        count = min(per_block, questions - number + 1)
        blocks.append(BubbleBlock(
            id=f"q{number}-{number + count - 1}", kind=BlockKind.SINGLE,
            origin_x=24 + (b % 4) * column_step, origin_y=92 + (b // 4) * row_step, rows=count, columns=options,
            pitch_x=7.0, pitch_y=5.5, bubble_width=4.6, bubble_height=3.0, labels=list(LETTERS[:options]),
            fields=[str(number + i) for i in range(count)]))
        number += count
    if multiple:
        blocks.append(BubbleBlock(
            id=f"q{number}-{number + multiple - 1}", kind=BlockKind.MULTIPLE, origin_x=24, origin_y=192,
            rows=multiple, columns=5, pitch_x=7.0, pitch_y=5.5, bubble_width=4.6, bubble_height=3.0,
            labels=list(LETTERS[:5]), fields=[str(number + i) for i in range(multiple)]))
        number += multiple
    regions = []
    width = (174 - 4 * (subjective - 1)) / max(subjective, 1)
    for s in range(subjective):
        regions.append(Region(id=f"answer{number + s}", kind=RegionKind.SUBJECTIVE, x=18 + s * (width + 4), y=226,
                              width=width, height=50, field=str(number + s)))
    return SheetLayout(name=name, page=PageSize(width=210, height=297),
                       alignment=Alignment(method=AlignMethod.MARKERS, markers=markers),
                       qr=QrBox(x=160, y=22, size=28), bubble_blocks=blocks, regions=regions)
