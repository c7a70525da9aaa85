"""omr.design.design_sheet: nothing overlaps, everything is on the page and clear of the markers
and the QR code, markers at the corners, every question exactly once, pages flow, A3 in two columns."""

import pytest

from exam_server.printing.sheet_spec import ShuffleConflict, sheet_spec_from_view
from omr.design import (
    CLEAR,
    QuestionKind,
    QuestionSpec,
    SheetSpec,
    SheetSpecError,
    block_frame,
    design_sheet,
)
from omr.layout import BlockKind, RegionKind, SheetLayout

Box = tuple[float, float, float, float]  # x, y, width, height


def _mixed(single: int = 20, multiple: int = 5, tf: int = 5, fill: int = 3, subjective: int = 3,
           lines: int = 8) -> list[QuestionSpec]:
    qs: list[QuestionSpec] = []
    for kind, count in ((QuestionKind.SINGLE, single), (QuestionKind.MULTIPLE, multiple),
                        (QuestionKind.TRUE_FALSE, tf), (QuestionKind.FILL_IN, fill),
                        (QuestionKind.SUBJECTIVE, subjective)):
        for _ in range(count):
            n = str(len(qs) + 1)
            qs.append(QuestionSpec(n, kind, options=4 if kind == QuestionKind.SINGLE else 5, blanks=2, lines=lines,
                                   slot_id=100 + len(qs)))
    return qs


def _spec(qs: list[QuestionSpec], size: str = "A4", digits: int = 10) -> SheetSpec:
    return SheetSpec("期中考试", 12, "A", digits, qs, size)


def _boxes(layout: SheetLayout) -> list[tuple[str, Box]]:
    found: list[tuple[str, Box]] = []
    for block in layout.bubble_blocks:
        if block.kind == BlockKind.ABSENT:
            x, y = block.bubble_centre(0, 0)
            found.append((block.id, (x - block.bubble_width / 2, y - block.bubble_height / 2,
                                     block.bubble_width, block.bubble_height)))
        else:
            found.append((block.id, block_frame(block)))
    found += [(r.id, (r.x, r.y, r.width, r.height)) for r in layout.regions]
    return found


def _overlap(a: Box, b: Box, margin: float = 0.0) -> bool:
    return (a[0] < b[0] + b[2] + margin and b[0] < a[0] + a[2] + margin
            and a[1] < b[1] + b[3] + margin and b[1] < a[1] + a[3] + margin)


def _check_page(layout: SheetLayout) -> None:
    w, h = layout.page.width, layout.page.height
    boxes = _boxes(layout)
    for i, (name, box) in enumerate(boxes):
        assert box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= w and box[1] + box[3] <= h, name
        for other, box2 in boxes[i + 1:]:
            assert not _overlap(box, box2), f"{name} overlaps {other} on page {layout.page_no}"
        for m in layout.alignment.markers:
            zone = (m.x - m.size / 2, m.y - m.size / 2, m.size, m.size)
            assert not _overlap(box, zone, CLEAR), f"{name} is within {CLEAR} mm of a marker"
        assert layout.qr is not None
        assert not _overlap(box, (layout.qr.x, layout.qr.y, layout.qr.size, layout.qr.size), CLEAR), name
    for block in layout.bubble_blocks:  # bubbles of a block never touch each other
        assert block.rows == 1 or block.pitch_y >= block.bubble_height + 1.0
        assert block.columns == 1 or block.pitch_x >= block.bubble_width + 1.0


@pytest.mark.parametrize(("size", "digits", "options"), [("A4", 10, 5), ("A3", 10, 5), ("A4", 20, 26), ("A3", 0, 26),
                                                    ("A4", 1, 2)])
def test_nothing_overlaps_and_everything_is_on_the_page_clear_of_markers_and_qr(size: str, digits: int,
                                                                                 options: int) -> None:
    qs = [*_mixed(single=35, multiple=0, tf=10, fill=6, subjective=6),
          *[QuestionSpec(str(100 + n), QuestionKind.MULTIPLE, options) for n in range(7)]]
    pages = design_sheet(_spec(qs, size, digits))
    assert [p.page_no for p in pages] == list(range(1, len(pages) + 1))
    for page in pages:
        assert page.pages == len(pages)
        _check_page(page)


def test_markers_are_squares_at_the_four_corners_and_the_qr_is_top_right_on_every_page() -> None:
    for size, width in (("A4", 210.0), ("A3", 420.0)):
        for page in design_sheet(_spec(_mixed(subjective=12), size)):
            markers = page.alignment.markers
            assert len(markers) == 4 and all(m.shape == "square" and 5 <= m.size <= 7 for m in markers)
            corners = [(0.0, 0.0), (width, 0.0), (width, 297.0), (0.0, 297.0)]
            for m, (cx, cy) in zip(markers, corners, strict=True):
                edge_x, edge_y = abs(m.x - cx) - m.size / 2, abs(m.y - cy) - m.size / 2
                assert 8.0 <= edge_x <= 10.0 and 8.0 <= edge_y <= 10.0
            assert page.qr is not None and 22 <= page.qr.size <= 25
            assert page.qr.x > width / 2 and page.qr.y < 20


def test_every_question_appears_once_with_its_kind() -> None:
    qs = _mixed()
    pages = design_sheet(_spec(qs))
    fields: dict[str, str] = {}
    for page in pages:
        for block in page.bubble_blocks:
            for name in block.fields:
                assert name not in fields
                fields[name] = block.kind.value
        for region in page.regions:
            if region.field is not None and region.kind == RegionKind.BLANK:
                fields[region.field] = "blank"
            elif region.field is not None:
                fields.setdefault(region.field, "subjective")
    for q in qs:
        if q.kind == QuestionKind.FILL_IN:
            assert fields[f"{q.number}.1"] == fields[f"{q.number}.2"] == "blank"
        elif q.kind == QuestionKind.SUBJECTIVE:
            assert fields[q.number] == "subjective"
        else:
            assert fields[q.number] == ("multiple" if q.kind == QuestionKind.MULTIPLE else "single")
    first = pages[0]
    digits = first.blocks_of(BlockKind.DIGITS)
    assert len(digits) == 1 and digits[0].fields == [f"d{i}" for i in range(1, 11)]
    assert digits[0].labels == [str(d) for d in range(10)] and digits[0].direction == "columns"
    absent = first.blocks_of(BlockKind.ABSENT)
    assert len(absent) == 1 and absent[0].fields == ["absent"] and absent[0].labels == ["X"]
    assert all(not p.blocks_of(BlockKind.DIGITS) for p in pages[1:])


def test_blocks_hold_at_most_five_questions_of_one_kind_with_fewer_options_marked() -> None:
    qs = [QuestionSpec("1", QuestionKind.SINGLE, 4), QuestionSpec("2", QuestionKind.SINGLE, 3),
          *[QuestionSpec(str(n), QuestionKind.SINGLE, 4) for n in range(3, 8)],
          QuestionSpec("8", QuestionKind.TRUE_FALSE), QuestionSpec("9", QuestionKind.MULTIPLE, 6)]
    blocks = [b for b in design_sheet(_spec(qs))[0].bubble_blocks if b.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE)]
    assert [b.fields for b in blocks] == [["1", "2", "3", "4", "5"], ["6", "7"], ["8"], ["9"]]
    assert blocks[0].options_per_field == [4, 3, 4, 4, 4] and blocks[0].options_of(1) == ["A", "B", "C"]
    assert blocks[2].labels == ["T", "F"] and blocks[2].kind == BlockKind.SINGLE
    assert blocks[3].kind == BlockKind.MULTIPLE and blocks[3].labels == list("ABCDEF")
    # several blocks side by side on one band, like Chinese 答题卡
    assert blocks[0].origin_y == blocks[1].origin_y and blocks[1].origin_x > blocks[0].origin_x


def test_a_sixty_question_paper_flows_onto_two_a4_pages_and_fits_one_a3_sheet() -> None:
    qs = _mixed(single=30, multiple=10, tf=10, fill=5, subjective=5, lines=4)
    assert len(qs) == 60
    a4 = design_sheet(_spec(qs))
    assert len(a4) == 2 and all(p.pages == 2 for p in a4)
    assert a4[1].regions and all(r.kind == RegionKind.SUBJECTIVE for r in a4[1].regions)
    a3 = design_sheet(_spec(qs, "A3"))
    assert len(a3) == 1 and a3[0].page.width == 420.0
    # the second column of the A3 sheet is used
    assert any(r.x > 210 for r in a3[0].regions)


def test_a_region_taller_than_a_page_is_split_into_parts_of_one_field() -> None:
    pages = design_sheet(_spec([QuestionSpec("1", QuestionKind.SUBJECTIVE, lines=60)]))
    parts = [r for p in pages for r in p.regions if r.field == "1"]
    assert len(parts) >= 2 and parts[0].id == "s1" and parts[1].id == "s1-p2"
    assert len(pages) >= 2


def test_bad_specs_are_refused_naming_the_question() -> None:
    with pytest.raises(SheetSpecError, match="number '3'.*twice"):
        design_sheet(_spec([QuestionSpec("3", QuestionKind.SINGLE, 4), QuestionSpec("3", QuestionKind.SINGLE, 4)]))
    with pytest.raises(SheetSpecError, match="27 options"):
        design_sheet(_spec([QuestionSpec("1", QuestionKind.SINGLE, 27)]))
    with pytest.raises(SheetSpecError, match="paper_size"):
        design_sheet(_spec([], "Letter"))


def test_the_layout_round_trips_through_json_as_stored() -> None:
    for page in design_sheet(_spec(_mixed())):
        assert SheetLayout.model_validate(page.model_dump(mode="json")) == page


def test_a_paper_view_maps_every_item_type() -> None:
    option = [{"id": "x", "text": "1"}, {"id": "y", "text": "2"}, {"id": "z", "text": "3"}]
    slots = [
        {"slot_id": 1, "type": "single_choice", "content": {"options": option}},
        {"slot_id": 2, "type": "multiple_choice", "content": {"options": option}},
        {"slot_id": 3, "type": "true_false", "content": {}},
        {"slot_id": 4, "type": "fill_blank", "content": {"blanks": 3}},
        {"slot_id": 5, "type": "numeric", "content": {}},
        {"slot_id": 6, "type": "short_answer", "content": {}},
        {"slot_id": 7, "type": "essay", "content": {"max_chars": 900}},
        {"slot_id": 8, "type": "matching", "content": {"prompts": [{"id": "p", "text": "a"}], "choices": option}},
        {"slot_id": 9, "type": "ordering", "content": {"items": option}},
        {"slot_id": 10, "type": "inline_choice", "content": {"gaps": [{"options": option}]}},
        {"slot_id": 11, "type": "inline_choice", "content": {"gaps": [{"options": option}, {"options": option}]}},
    ]
    view = {"sections": [{"title": "一", "slots": slots[:5]}, {"title": "二", "slots": slots[5:]}]}
    spec, qmap = sheet_spec_from_view(view, title="T", exam_id=1, form=None, admission_digits=8)
    kinds = [q.kind.value for q in spec.questions]
    assert kinds == ["single", "multiple", "true_false", "fill_in", "fill_in", "subjective", "subjective",
                     "subjective", "subjective", "single", "fill_in"]
    assert [q.number for q in spec.questions] == [str(n) for n in range(1, 12)]
    assert qmap["1"] == {"slot_id": 1, "item_type": "single_choice", "options": ["x", "y", "z"], "kind": "single"}
    assert qmap["4"]["blanks"] == 3 and spec.questions[3].blanks == 3
    assert spec.questions[6].lines == 30  # 900 characters at 30 a line
    assert qmap["11"]["blanks"] == 2
    pages = design_sheet(spec)
    assert pages[0].blocks_of(BlockKind.DIGITS)[0].columns == 8


def test_shuffled_items_need_one_kind_per_section_and_rows_fit_every_order() -> None:
    four = [{"id": c, "text": c} for c in "wxyz"]
    slots = [{"slot_id": 1, "type": "single_choice", "content": {"options": four[:3]}},
             {"slot_id": 2, "type": "single_choice", "content": {"options": four}}]
    view = {"sections": [{"title": "选择", "slots": slots}]}
    spec, _ = sheet_spec_from_view(view, title="T", exam_id=1, form=None, admission_digits=4, shuffle_items=True)
    assert [q.options for q in spec.questions] == [4, 4], "any candidate's first item may have four options"
    mixed = {"sections": [{"title": "混合", "slots": [*slots, {"slot_id": 3, "type": "essay", "content": {}}]}]}
    with pytest.raises(ShuffleConflict, match=r"sections\[0\] \(混合\).*single, subjective"):
        sheet_spec_from_view(mixed, title="T", exam_id=1, form=None, admission_digits=4, shuffle_items=True)
    spec, _ = sheet_spec_from_view(mixed, title="T", exam_id=1, form=None, admission_digits=4)
    assert [q.options for q in spec.questions] == [3, 4, 0], "without shuffling each row has its own options"
