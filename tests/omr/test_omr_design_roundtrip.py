"""Sheets laid out by omr.design (what is printed) read back through the reader: every page of an
A4 and an A3 sheet, upside down, with the page picked by the QR code."""

from __future__ import annotations

import numpy as np
import pytest

from omr.design import QuestionKind, QuestionSpec, SheetSpec, design_sheet
from omr.layout import BlockKind
from omr.reader import read_page
from omr.reading import PageReading
from omr.sheet_code import SheetCode
from omr.synth.render import fill_bubble, render_blank

DPI = 150.0


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_designed_sheet_round_trip(paper: str) -> None:
    questions = [QuestionSpec(str(i + 1), QuestionKind.SINGLE, options=4) for i in range(30)]
    questions += [QuestionSpec(str(31 + i), QuestionKind.MULTIPLE, options=5) for i in range(3)]
    questions += [QuestionSpec(str(34 + i), QuestionKind.TRUE_FALSE) for i in range(3)]
    questions += [QuestionSpec(str(37 + i), QuestionKind.SUBJECTIVE, lines=10) for i in range(4)]
    pages = design_sheet(SheetSpec("Round trip", 12, "A", 8, questions, paper_size=paper))
    by_page = {p.page_no: p for p in pages}
    rng = np.random.default_rng(7)
    for layout in pages:
        image = render_blank(layout, DPI, SheetCode(12, "A", layout.page_no, layout.pages))
        truth: dict[tuple[str, str], str] = {}
        for block in layout.bubble_blocks:
            if block.kind == BlockKind.ABSENT:
                continue
            for f, name in enumerate(block.fields):
                options = block.options_of(f)
                o = int(rng.integers(len(options)))
                fill_bubble(image, block, f, o, DPI)
                truth[(block.id, name)] = options[o]
        reading = read_page(np.ascontiguousarray(np.rot90(image, 2)),
                            lambda code: by_page.get(code.page) if code else None, f"{paper}#{layout.page_no}")
        assert isinstance(reading, PageReading), reading
        assert reading.rotation == 180 and reading.page_no == layout.page_no
        assert reading.code == SheetCode(12, "A", layout.page_no, layout.pages)
        got = {(f.block, f.field): f.value for f in reading.fields if (f.block, f.field) in truth}
        assert got == truth
        assert reading.issues == []
        if layout.blocks_of(BlockKind.DIGITS):
            assert reading.admission_no is not None and len(reading.admission_no) == 8
