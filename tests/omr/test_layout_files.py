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
