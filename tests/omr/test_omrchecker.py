"""OMRChecker templates become our layouts: positions follow OMRChecker's own grid rule, and the
converted sheet renders, fills and (with the reader) reads back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omr.layout import AlignMethod, BlockKind, Direction
from omr.synth.fill import CLEAN, Answers, fill_sheet, measure_darkness
from omr.synth.render import render_blank
from omr.thirdparty.omrchecker import TemplateError, convert_template, expand_labels, load_template

FIXTURES = Path(__file__).parent / "fixtures"
QUIZ = FIXTURES / "omrchecker_quiz" / "template.json"
CROPPAGE = FIXTURES / "omrchecker_croppage" / "template.json"


def omrchecker_bubbles(block: dict, values: int, fields: int) -> list[list[tuple[float, float]]]:  # type: ignore[type-arg]
    """OMRChecker's rule: from the origin, bubbles of a field step by bubblesGap along the
    direction, fields step by labelsGap across it (top-left corners of the bubble boxes)."""
    vertical = block.get("direction", "vertical" if "INT" in block.get("fieldType", "") else "horizontal") == "vertical"
    out = []
    for f in range(fields):
        row = []
        for v in range(values):
            along, across = v * block["bubblesGap"], f * block["labelsGap"]
            dx, dy = (across, along) if vertical else (along, across)
            row.append((block["origin"][0] + dx, block["origin"][1] + dy))
        out.append(row)
    return out


def test_expand_labels() -> None:
    assert expand_labels(["q1..3", "x", "roll9..10"], "f") == ["q1", "q2", "q3", "x", "roll9", "roll10"]
    with pytest.raises(TemplateError, match=r"f\[0\]: bad range"):
        expand_labels(["q5..2"], "f")


@pytest.mark.parametrize("dpi", [150.0, 200.0, 300.0])
def test_quiz_template_positions_match_omrchecker(dpi: float) -> None:
    template = json.loads(QUIZ.read_text())
    layout = load_template(QUIZ, dpi=dpi, margin_mm=10)
    mm = 25.4 / dpi
    assert layout.alignment.method == AlignMethod.MARKERS
    assert layout.page.width == pytest.approx(1500 * mm + 20) and layout.page.height == pytest.approx(2100 * mm + 20)
    tl, tr, br, bl = layout.alignment.markers
    assert (tl.x, tl.y) == (10, 10) and (br.x, br.y) == pytest.approx((10 + 1500 * mm, 10 + 2100 * mm))
    assert tl.size == pytest.approx(44 * mm)
    bw, bh = template["bubbleDimensions"]
    blocks = {b.id: b for b in layout.bubble_blocks}
    assert set(blocks) == set(template["fieldBlocks"])
    for name, spec in template["fieldBlocks"].items():
        block = blocks[name]
        values = len(block.labels)
        grid = omrchecker_bubbles(spec, values, len(block.fields))
        for f in range(len(block.fields)):
            for v in range(values):
                x, y = grid[f][v]
                assert block.bubble_centre(f, v) == pytest.approx((10 + (x + bw / 2) * mm, 10 + (y + bh / 2) * mm))
        assert block.bubble_width == pytest.approx(bw * mm)
    assert blocks["RollNo"].kind == BlockKind.DIGITS and blocks["RollNo"].direction == Direction.COLUMNS
    assert blocks["RollNo"].fields == [f"roll{i}" for i in range(1, 7)]
    assert blocks["Left"].kind == BlockKind.SINGLE and blocks["Left"].direction == Direction.ROWS
    assert blocks["Left"].labels == ["A", "B", "C", "D"] and blocks["Right"].labels == list("ABCDE")
    assert blocks["Numeric"].labels == [*"123456789", "0"]
    assert blocks["Set"].labels == ["P", "Q"] and blocks["Set"].kind == BlockKind.SINGLE


def test_croppage_template_aligns_on_edges() -> None:
    layout = load_template(CROPPAGE, dpi=200)
    assert layout.alignment.method == AlignMethod.EDGES
    assert layout.page.width == pytest.approx(800 * 25.4 / 200)
    assert layout.bubble_blocks[0].id == "Block-1" and layout.bubble_blocks[0].fields[-1] == "q10"


@pytest.mark.parametrize(("change", "words"), [
    (lambda t: t.pop("pageDimensions"), "pageDimensions (or templateDimensions) is required"),
    (lambda t: t["fieldBlocks"]["Left"].update(fieldType="QTYPE_MCQ9"), "fieldBlocks.Left.fieldType: unknown"),
    (lambda t: t["fieldBlocks"]["Left"].update(origin=[1, "x"]), "fieldBlocks.Left.origin"),
    (lambda t: t["fieldBlocks"]["Left"].pop("bubblesGap"), "fieldBlocks.Left.bubblesGap"),
    (lambda t: t["fieldBlocks"]["Left"].update(fieldLabels=[]), "fieldBlocks.Left.fieldLabels"),
    (lambda t: t["fieldBlocks"]["Left"].update(origin=[1400, 2000]), "runs off the page"),
    (lambda t: t["fieldBlocks"]["Left"].update(direction="diagonal"), "fieldBlocks.Left.direction"),
])
def test_bad_templates_name_the_key(change, words: str) -> None:  # type: ignore[no-untyped-def]
    template = json.loads(QUIZ.read_text())
    change(template)
    with pytest.raises(TemplateError) as info:
        convert_template(template, dpi=200)
    assert words in str(info.value)


def test_unreadable_template_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    path.write_text("{not json")
    with pytest.raises(TemplateError, match=str(path)):
        load_template(path)


def _answers() -> Answers:
    fields = {f"q{i}": "ABCD"[i % 4] for i in range(1, 16)}
    fields.update({f"q{i}": "ABCDE"[i % 5] for i in range(16, 31)})
    fields.update({"q31_1": "4", "q31_2": "0", "set": "Q"})
    return Answers(fields=fields, admission_no="204518")


def test_converted_sheet_renders_and_fills() -> None:
    dpi = 150.0
    layout = load_template(QUIZ, dpi=200)
    blank = render_blank(layout, dpi)
    filled, truth = fill_sheet(blank, layout, _answers(), dpi, np.random.default_rng(0), CLEAN)
    assert truth.admission_no == "204518" and truth.id_readable
    for block in layout.bubble_blocks:
        for f, name in enumerate(block.fields):
            value = truth.get_field(block.id, name).value
            for o, label in enumerate(block.options_of(f)):
                added = measure_darkness(filled, block, f, o, dpi) - measure_darkness(blank, block, f, o, dpi)
                assert (added > 0.5) == (label in value), (name, label, added)


def test_converted_sheet_reads_back() -> None:
    reader = pytest.importorskip("omr.reader")
    dpi = 200.0
    layout = load_template(QUIZ, dpi=200)
    filled, truth = fill_sheet(render_blank(layout, dpi), layout, _answers(), dpi, np.random.default_rng(1), CLEAN)
    reading = reader.read_page(filled, lambda code: layout if code is None else None, "quiz")
    assert not hasattr(reading, "issue"), reading
    assert reading.admission_no == "204518"
    read = {f.field: f.value for f in reading.fields}
    for t in truth.fields:
        if t.kind == "single":
            assert read[t.field] == t.value, t
