"""Paper -> PDF -> rasterise -> fill -> degrade -> read: what the reader returns equals what was
filled. The sheet is designed by omr.design and drawn by the real PDF printer (not the synthetic
raster), so this proves the stored layout, the printed page and the reader agree."""

import io

import numpy as np
import pypdfium2 as pdfium
import pytest

from exam_server.printing import fonts
from exam_server.printing.answer_sheet import SheetPrint, render_answer_sheets
from omr.design import QuestionKind, QuestionSpec, SheetSpec, design_sheet
from omr.layout import BlockKind, SheetLayout
from omr.reader import read_page
from omr.reading import FieldStatus, PageReading
from omr.sheet_code import SheetCode
from omr.synth.degrade import degrade
from omr.synth.fill import CLEAN, Answers, MarkMix, fill_sheet

DPI = 200.0
PENCIL_AND_PEN = MarkMix(pen=0.5, pencil=0.35, partial=0.15, tick=0.0, cross=0.0, faint=0.0, erased_remarked=0.0,
                         erased_blank=0.0, strays=(0, 2), scribbles=True)


def _spec() -> SheetSpec:
    qs = [QuestionSpec(str(n), QuestionKind.SINGLE, 4) for n in range(1, 21)]
    qs += [QuestionSpec(str(n), QuestionKind.MULTIPLE, 5) for n in range(21, 26)]
    qs += [QuestionSpec(str(n), QuestionKind.TRUE_FALSE) for n in range(26, 31)]
    qs += [QuestionSpec("31", QuestionKind.FILL_IN, blanks=2), QuestionSpec("32", QuestionKind.SUBJECTIVE, lines=8)]
    return SheetSpec("期中考试 数学 / Midterm", 77, "A", 8, qs)


@pytest.fixture(scope="module")
def printed() -> tuple[list[SheetLayout], list[np.ndarray]]:
    layouts = design_sheet(_spec())
    out = io.BytesIO()
    render_answer_sheets(layouts, [SheetPrint("期中考试 数学 / Midterm", 77, "A")], out, fonts.cjk_font())
    pdf = pdfium.PdfDocument(out.getvalue())
    pages = [np.array(pdf[i].render(scale=DPI / 72).to_pil().convert("L")) for i in range(len(pdf))]
    return layouts, pages


def _answers(layout: SheetLayout, rng: np.random.Generator) -> Answers:
    answers = Answers(admission_no="".join(str(d) for d in rng.integers(0, 10, 8)))
    for block in layout.bubble_blocks:
        for f, name in enumerate(block.fields):
            options = block.options_of(f)
            if block.kind == BlockKind.SINGLE:
                answers.fields[name] = options[int(rng.integers(len(options)))]
            elif block.kind == BlockKind.MULTIPLE:
                picked = sorted(rng.choice(len(options), int(rng.integers(1, len(options) + 1)), replace=False))
                answers.fields[name] = "".join(options[i] for i in picked)
    return answers


def _read(image: np.ndarray, layouts: list[SheetLayout]) -> PageReading:
    def layout_for(code: SheetCode | None) -> SheetLayout | None:
        return layouts[code.page - 1] if code is not None and code.exam_id == 77 else None

    result = read_page(image, layout_for, "round-trip")
    assert isinstance(result, PageReading), f"page not read: {result}"
    return result


Printed = tuple[list[SheetLayout], list[np.ndarray]]


def test_the_printed_sheet_designed_from_a_paper_reads_back_exactly(printed: Printed) -> None:
    layouts, pages = printed
    rng = np.random.default_rng(7)
    answers = _answers(layouts[0], rng)
    filled, truth = fill_sheet(pages[0], layouts[0], answers, DPI, rng, CLEAN)
    reading = _read(filled, layouts)
    assert reading.code == SheetCode(77, "A", 1, len(layouts))
    assert not reading.issues, reading.issues
    assert reading.admission_no == answers.admission_no
    got = {f.field: f.value for f in reading.fields if f.block not in ("admission", "absent")}
    want = {t.field: t.value for t in truth.fields if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE)}
    assert got == want


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_degraded_scans_of_the_printed_sheet_read_back_or_go_to_a_person(
        printed: Printed, seed: int) -> None:
    """Pen and pencil marks, then a scanner or phone degradation (rotated feeds included): every
    field the reader accepts equals the truth; nothing is silently wrong."""
    layouts, pages = printed
    rng = np.random.default_rng(seed)
    answers = _answers(layouts[0], rng)
    filled, truth = fill_sheet(pages[0], layouts[0], answers, DPI, rng, PENCIL_AND_PEN)
    scan, degradation = degrade(filled, DPI, rng, layouts[0], smudge_rate=0.0)
    reading = _read(scan, layouts)
    if reading.admission_no is not None and not reading.blocked:
        assert reading.admission_no == answers.admission_no, degradation
    want = {t.field: t.value for t in truth.fields if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE)}
    accepted = {f.field: f.value for f in reading.fields if f.field in want and f.status in (FieldStatus.OK,
                                                                                               FieldStatus.BLANK)}
    wrong = {k: (v, want[k]) for k, v in accepted.items() if v != want[k]}
    assert not wrong, (wrong, degradation)
    assert len(accepted) >= 0.9 * len(want), (len(accepted), len(want), degradation)
