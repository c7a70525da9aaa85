"""The example layout files validate and render; bad layout files say what is wrong and where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import omr
from omr.layout import LayoutFileError, SheetLayout, load_layout, parse_layout
from omr.synth.render import render_blank

LAYOUTS = sorted((Path(omr.__file__).parent / "layouts").iterdir())


def test_there_are_yaml_and_json_examples() -> None:
    assert {p.suffix for p in LAYOUTS} >= {".yaml", ".json"}


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.name for p in LAYOUTS])
def test_example_layout_validates_and_renders(path: Path) -> None:
    layout = load_layout(path)
    assert layout.bubble_blocks
    image = render_blank(layout, 72.0)
    assert image.shape == (round(layout.page.height * 72 / 25.4), round(layout.page.width * 72 / 25.4))
    assert (image < 200).sum() > 0
    # the same layout as JSON parses to the same thing
    assert parse_layout(json.dumps(layout.model_dump(mode="json"))) == layout


MINIMAL = """
name: t
alignment: {method: edges}
bubble_blocks:
  - {id: q, kind: single, origin_x: 20, origin_y: 20, rows: 2, columns: 4, pitch_x: 7, pitch_y: 6,
     labels: [A, B, C, D], fields: ["1", "2"]}
"""


def bad(patch: dict[str, object], path: tuple[str | int, ...] = ("bubble_blocks", 0)) -> str:
    data = yaml.safe_load(MINIMAL)
    target = data
    for key in path:
        target = target[key]
    target.update(patch)
    with pytest.raises(LayoutFileError) as info:
        parse_layout(yaml.safe_dump(data), "sheet.yaml")
    return str(info.value)


def test_minimal_layout_parses() -> None:
    assert isinstance(parse_layout(MINIMAL), SheetLayout)


@pytest.mark.parametrize(("patch", "words"), [
    ({"rows": 0}, ["bubble_blocks.0.rows", "greater than or equal to 1"]),
    ({"kind": "essay"}, ["bubble_blocks.0.kind"]),
    ({"labels": ["A", "B", "C"]}, ["bubble_blocks.0", "3 labels for 4 options"]),
    ({"fields": ["1"]}, ["bubble_blocks.0", "1 field names for 2 fields"]),
    ({"pitch_x": 0}, ["bubble_blocks.0", "pitch_x"]),
    ({"origin_x": -1}, ["bubble_blocks.0.origin_x"]),
    ({"colour": "red"}, ["bubble_blocks.0.colour", "Extra inputs"]),
    ({"origin_x": 205}, ["runs off the page"]),
    ({"options_per_field": [2]}, ["options_per_field"]),
])
def test_bad_block_names_the_field(patch: dict[str, object], words: list[str]) -> None:
    message = bad(patch)
    assert message.startswith("sheet.yaml: ")
    for word in words:
        assert word in message, message


def test_bad_alignment_and_top_level() -> None:
    assert "alignment" in bad({"method": "markers"}, ("alignment",)) and "3 or 4 markers" in bad(
        {"method": "markers"}, ("alignment",))
    assert "reference_image" in bad({"method": "reference"}, ("alignment",))
    with pytest.raises(LayoutFileError, match="a layout is a mapping"):
        parse_layout("- 1\n- 2\n", "list.yaml")
    with pytest.raises(LayoutFileError, match="neither JSON nor YAML"):
        parse_layout("{name: [unclosed", "broken.yaml")
    data = yaml.safe_load(MINIMAL)
    data["bubble_blocks"].append(dict(data["bubble_blocks"][0]))
    with pytest.raises(LayoutFileError, match="duplicate block/region ids: q"):
        parse_layout(json.dumps(data), "dup.json")


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.name for p in LAYOUTS])
def test_example_third_party_sheet_reads_end_to_end(path: Path) -> None:
    """A third-party sheet described only by its layout file: filled in pen and pencil, scanned
    slightly skewed on a dark scanner bed, read back with no QR code to go by."""
    import numpy as np

    from omr.reader import read_page
    from omr.reading import PageReading
    from omr.synth.degrade import Degradation, apply_degradation
    from omr.synth.fill import MarkMix, fill_sheet, random_answers

    layout = load_layout(path)
    dpi = 200.0
    rng = np.random.default_rng(5)
    answers = random_answers(layout, rng, blank_rate=0.05, multiple_rate=0.0, id_fault_rate=0.0, absent_rate=0.0)
    mix = MarkMix(pen=0.6, pencil=0.4, partial=0.0, tick=0.0, cross=0.0, faint=0.0, erased_remarked=0.0,
                  erased_blank=0.0, strays=(0, 0), scribbles=False)
    filled, truth = fill_sheet(render_blank(layout, dpi), layout, answers, dpi, rng, mix)
    scan = apply_degradation(filled, dpi, Degradation(kind="scanner", seed=3, dpi=dpi, skew_deg=1.2, border_mm=6,
                                                      background=30, noise_sigma=2.0), layout)
    reading = read_page(scan, lambda code: layout if code is None else None, path.name)
    assert isinstance(reading, PageReading), reading
    assert not reading.blocked, reading.issues
    read = {f.field: f.value for f in reading.fields}
    want = {t.field: t.value for t in truth.fields if t.kind in ("single", "multiple")}
    assert {k: read.get(k) for k in want} == want
    if truth.admission_no is not None:
        assert reading.admission_no == truth.admission_no
