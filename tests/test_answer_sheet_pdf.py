"""The answer-sheet PDF is drawn exactly where its layout says: rasterised at 200 dpi, the markers'
centres are within 0.5 mm of the layout, bubble outlines lie on the layout's ellipses (as in
omr.synth.render.render_blank), the QR code decodes to the right SheetCode, and the print inside a
bubble is light, so a pencil mark is far darker."""

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from pdf_checks import embedded_fonts, reader, text

from exam_server.printing import fonts
from exam_server.printing.answer_sheet import SheetPrint, render_answer_sheets
from omr.design import QuestionKind, QuestionSpec, SheetSpec, design_sheet
from omr.layout import BlockKind, BubbleBlock, SheetLayout
from omr.sheet_code import SheetCode, decode
from omr.synth.render import render_blank

DPI = 200.0


def _questions() -> list[QuestionSpec]:
    qs = [QuestionSpec(str(n), QuestionKind.SINGLE, 4) for n in range(1, 11)]
    qs += [QuestionSpec(str(n), QuestionKind.MULTIPLE, 5) for n in range(11, 14)]
    qs += [QuestionSpec(str(n), QuestionKind.TRUE_FALSE) for n in range(14, 16)]
    qs += [QuestionSpec("16", QuestionKind.FILL_IN, blanks=2), QuestionSpec("17", QuestionKind.SUBJECTIVE, lines=6)]
    return qs


def _pdf(layouts: list[SheetLayout], info: SheetPrint) -> bytes:
    out = io.BytesIO()
    render_answer_sheets(layouts, [info], out, fonts.cjk_font())
    return out.getvalue()


def _raster(pdf: bytes, page: int) -> np.ndarray:
    image = pdfium.PdfDocument(pdf)[page].render(scale=DPI / 72).to_pil().convert("L")
    return np.array(image)


def _mm(value: float) -> float:
    return value * DPI / 25.4


@pytest.fixture(scope="module")
def sheet() -> tuple[list[SheetLayout], bytes]:
    layouts = design_sheet(SheetSpec("2026 春季期中考试 数学", 12, "A", 8, _questions()))
    return layouts, _pdf(layouts, SheetPrint("2026 春季期中考试 数学", 12, "A"))


def test_the_pages_are_the_layouts_size_and_chinese_is_embedded(sheet: tuple[list[SheetLayout], bytes]) -> None:
    layouts, pdf = sheet
    pages = reader(pdf).pages
    assert len(pages) == len(layouts)
    assert abs(float(pages[0].mediabox.width) - 210 * 72 / 25.4) < 0.5
    assert abs(float(pages[0].mediabox.height) - 297 * 72 / 25.4) < 0.5
    cjk = [name for name, embedded in embedded_fonts(pdf) if embedded]
    assert cjk, "the CJK font is embedded"
    shown = text(pdf)
    for words in ("准考证号", "Admission No.", "缺考", "注意事项", "2B", "正确填涂", "第 1 页 / 共"):
        assert words in shown


def test_markers_are_printed_within_half_a_millimetre_of_the_layout(sheet: tuple[list[SheetLayout], bytes]) -> None:
    layouts, pdf = sheet
    image = _raster(pdf, 0)
    dark = (image < 128).astype(np.uint8)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(dark)
    for marker in layouts[0].alignment.markers:
        x, y = _mm(marker.x), _mm(marker.y)
        near = [i for i in range(1, count) if abs(centroids[i][0] - x) < _mm(4) and abs(centroids[i][1] - y) < _mm(4)]
        assert len(near) == 1, f"one dark blob at marker ({marker.x}, {marker.y})"
        cx, cy = centroids[near[0]]
        assert abs(cx - x) <= _mm(0.5) and abs(cy - y) <= _mm(0.5)
        side = stats[near[0]][cv2.CC_STAT_WIDTH]
        assert abs(side - _mm(marker.size)) <= _mm(0.5)


def _outline_darkness(image: np.ndarray, block: BubbleBlock, field: int, option: int, scale: float) -> float:
    """Mean grey on the ellipse of the bubble scaled by ``scale`` (1: its outline)."""
    cx, cy = block.bubble_centre(field, option)
    a, b = block.bubble_width / 2 * scale, block.bubble_height / 2 * scale
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    xs = np.round(_mm(cx) + _mm(a) * np.cos(angles)).astype(int)
    ys = np.round(_mm(cy) + _mm(b) * np.sin(angles)).astype(int)
    window = [image[max(0, y - 1):y + 2, max(0, x - 1):x + 2].min() for x, y in zip(xs, ys, strict=True)]
    return float(np.mean(window))


def test_bubble_outlines_are_where_the_layout_and_render_blank_put_them(
        sheet: tuple[list[SheetLayout], bytes]) -> None:
    layouts, pdf = sheet
    image = _raster(pdf, 0)
    code = SheetCode(12, "A", 1, len(layouts))
    blank = render_blank(layouts[0], DPI, code)
    assert blank.shape == image.shape
    for block in layouts[0].bubble_blocks:
        for field in range(len(block.fields)):
            for option in range(len(block.options_of(field))):
                on_pdf = _outline_darkness(image, block, field, option, 1.0)
                on_blank = _outline_darkness(blank, block, field, option, 1.0)
                outside = _outline_darkness(image, block, field, option, 1.45)
                assert on_pdf < 200 and on_blank < 200, f"{block.id} {field}/{option}: no outline"
                assert outside > 225, f"{block.id} {field}/{option}: ink outside the bubble"


def test_the_print_inside_a_bubble_is_light(sheet: tuple[list[SheetLayout], bytes]) -> None:
    layouts, pdf = sheet
    image = _raster(pdf, 0)
    for block in layouts[0].bubble_blocks:
        cx, cy = block.bubble_centre(0, 0)
        hw, hh = _mm(block.bubble_width / 2 * 0.55), _mm(block.bubble_height / 2 * 0.55)
        inside = image[int(_mm(cy) - hh):int(_mm(cy) + hh), int(_mm(cx) - hw):int(_mm(cx) + hw)]
        assert inside.mean() > 200 and inside.min() > 100, block.id


def test_the_qr_code_decodes_to_the_sheet_code_on_every_page() -> None:
    qs = [QuestionSpec(str(n), QuestionKind.SUBJECTIVE, lines=14) for n in range(1, 5)]
    layouts = design_sheet(SheetSpec("期中", 12345, "B", 10, qs))
    assert len(layouts) >= 2
    pdf = _pdf(layouts, SheetPrint("期中", 12345, "B"))
    for page in range(len(layouts)):
        value, _, _ = cv2.QRCodeDetector().detectAndDecode(_raster(pdf, page))
        assert decode(value) == SheetCode(12345, "B", page + 1, len(layouts))


def test_a_named_sheet_carries_the_candidate_and_prints_name_and_number() -> None:
    layouts = design_sheet(SheetSpec("期中", 7, None, 6, _questions()[:3]))
    pdf = _pdf(layouts, SheetPrint("期中", 7, None, candidate_id=345, candidate_name="欧阳娜娜", admission_no="260101"))
    value, _, _ = cv2.QRCodeDetector().detectAndDecode(_raster(pdf, 0))
    assert decode(value) == SheetCode(7, None, 1, 1, 345)
    assert "欧阳娜娜" in text(pdf) and "260101" in text(pdf)


def test_an_a3_sheet_is_landscape_with_the_same_marks() -> None:
    layouts = design_sheet(SheetSpec("期中", 3, None, 8, _questions(), "A3"))
    pdf = _pdf(layouts, SheetPrint("期中", 3, None))
    page = reader(pdf).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    image = _raster(pdf, 0)
    value, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decode(value).exam_id == 3
    digits = layouts[0].blocks_of(BlockKind.DIGITS)[0]
    assert _outline_darkness(image, digits, 7, 9, 1.0) < 200


def test_region_boxes_are_printed_on_the_layouts_rectangles(sheet: tuple[list[SheetLayout], bytes]) -> None:
    layouts, pdf = sheet
    for number, layout in enumerate(layouts):
        image = _raster(pdf, number)
        for region in layout.regions:
            for fx in (0.25, 0.75):  # points along the top and bottom edges
                x = int(round(_mm(region.x + fx * region.width)))
                for edge in (region.y, region.y + region.height):
                    y = int(round(_mm(edge)))
                    assert image[y - 1:y + 2, x].min() < 160, f"{region.id}: no edge at y={edge}"
                    assert image[y - int(_mm(1.0)) if edge == region.y else y + int(_mm(1.0)), x] > 225
            for fy in (0.3, 0.7):  # and the left and right edges
                y = int(round(_mm(region.y + fy * region.height)))
                for edge in (region.x, region.x + region.width):
                    x = int(round(_mm(edge)))
                    assert image[y, x - 1:x + 2].min() < 160, f"{region.id}: no edge at x={edge}"


def test_a_light_pencil_mark_on_the_printed_sheet_is_far_darker_than_an_empty_bubble(
        sheet: tuple[list[SheetLayout], bytes]) -> None:
    from omr.synth.render import fill_bubble

    layouts, pdf = sheet
    image = _raster(pdf, 0).copy()
    block = next(b for b in layouts[0].bubble_blocks if b.kind == BlockKind.SINGLE)
    fill_bubble(image, block, 0, 1, DPI, darkness=0.5, coverage=0.8)

    def inside(option: int) -> float:
        cx, cy = block.bubble_centre(0, option)
        hw, hh = _mm(block.bubble_width / 2 * 0.55), _mm(block.bubble_height / 2 * 0.55)
        return float(image[int(_mm(cy) - hh):int(_mm(cy) + hh), int(_mm(cx) - hw):int(_mm(cx) + hw)].mean())

    assert inside(1) < 140 and min(inside(0), inside(2)) > 200
