"""A realistic example answer-sheet layout for OMR tests (and anyone else who needs one).

A4 portrait, 4 square corner markers, a QR box top right, a 10-digit admission number bubbled in
columns, the absent (缺考) bubble, 40 single-choice questions in 4 blocks of 10, 5 multiple-response
questions, 5 true/false questions and a few subjective regions. Helpers fill it from known answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omr.layout import (
    Alignment,
    BlockKind,
    BubbleBlock,
    Direction,
    Marker,
    QrBox,
    Region,
    RegionKind,
    SheetLayout,
)
from omr.sheet_code import SheetCode
from omr.synth.render import fill_bubble, render_blank

CODE = SheetCode(exam_id=12, form="A", page=1, pages=1)
LETTERS = ["A", "B", "C", "D", "E"]


def example_layout(name: str = "example-a4") -> SheetLayout:
    markers = [Marker(x=12, y=12), Marker(x=198, y=12), Marker(x=198, y=285), Marker(x=12, y=285)]
    digits = [str(d) for d in range(10)]
    blocks = [
        BubbleBlock(id="admission", kind=BlockKind.DIGITS, origin_x=24, origin_y=40, rows=10, columns=10,
                    pitch_x=7, pitch_y=5, bubble_width=5, bubble_height=3.2, direction=Direction.COLUMNS,
                    labels=digits, fields=[f"digit{i + 1}" for i in range(10)]),
        BubbleBlock(id="absent", kind=BlockKind.ABSENT, origin_x=110, origin_y=40, rows=1, columns=1,
                    labels=["X"], fields=["absent"]),
    ]
    for b in range(4):
        blocks.append(BubbleBlock(
            id=f"single{b + 1}", kind=BlockKind.SINGLE, origin_x=24 + b * 46, origin_y=106, rows=10, columns=4,
            pitch_x=7, pitch_y=6, bubble_width=5, bubble_height=3.2, labels=LETTERS[:4],
            fields=[str(b * 10 + i + 1) for i in range(10)]))
    blocks.append(BubbleBlock(
        id="multi", kind=BlockKind.MULTIPLE, origin_x=24, origin_y=176, rows=5, columns=5, pitch_x=7,
        pitch_y=6, bubble_width=5, bubble_height=3.2, labels=LETTERS, fields=[str(41 + i) for i in range(5)]))
    blocks.append(BubbleBlock(
        id="truefalse", kind=BlockKind.SINGLE, origin_x=116, origin_y=176, rows=5, columns=2, pitch_x=7,
        pitch_y=6, bubble_width=5, bubble_height=3.2, labels=["T", "F"], fields=[str(46 + i) for i in range(5)]))
    regions = [
        Region(id="name", kind=RegionKind.NAME, x=120, y=52, width=70, height=12),
        Region(id="q51", kind=RegionKind.SUBJECTIVE, x=20, y=210, width=170, height=32, field="51"),
        Region(id="q52", kind=RegionKind.SUBJECTIVE, x=20, y=245, width=170, height=32, field="52"),
    ]
    return SheetLayout(name=name, alignment=Alignment(markers=markers), qr=QrBox(x=160, y=18, size=30),
                       bubble_blocks=blocks, regions=regions)


@dataclass
class Truth:
    """What was marked: field -> labels (in label order), the admission number and the absent mark."""

    answers: dict[str, str] = field(default_factory=dict)
    admission_no: str = ""
    absent: bool = False


def random_truth(rng: np.random.Generator, layout: SheetLayout) -> Truth:
    truth = Truth(admission_no="".join(str(d) for d in rng.integers(0, 10, 10)))
    for block in layout.bubble_blocks:
        for i, name in enumerate(block.fields):
            options = block.options_of(i)
            if block.kind == BlockKind.SINGLE:
                truth.answers[name] = "" if rng.random() < 0.05 else str(rng.choice(options))
            elif block.kind == BlockKind.MULTIPLE:
                chosen = [o for o in options if rng.random() < 0.4]
                truth.answers[name] = "".join(chosen)
    return truth


def filled_sheet(layout: SheetLayout, truth: Truth, dpi: float = 200.0, code: SheetCode | None = CODE,
                 darkness: float = 0.95, coverage: float = 0.85) -> np.ndarray:
    """A blank page rendered from ``layout`` with ``truth`` filled in."""
    image = render_blank(layout, dpi, code)
    for block in layout.bubble_blocks:
        for i, name in enumerate(block.fields):
            if block.kind == BlockKind.DIGITS:
                marked = truth.admission_no[i] if i < len(truth.admission_no) else ""
            elif block.kind == BlockKind.ABSENT:
                marked = block.labels[0] if truth.absent else ""
            else:
                marked = truth.answers.get(name, "")
            for o, label in enumerate(block.options_of(i)):
                if label in marked:
                    fill_bubble(image, block, i, o, dpi, darkness=darkness, coverage=coverage)
    return image


def mark(image: np.ndarray, layout: SheetLayout, block_id: str, field_name: str, label: str,
         dpi: float = 200.0, darkness: float = 0.95, coverage: float = 0.85) -> None:
    block = next(b for b in layout.bubble_blocks if b.id == block_id)
    fill_bubble(image, block, block.fields.index(field_name), block.labels.index(label), dpi,
                darkness=darkness, coverage=coverage)
