"""The answer sheet (答题卡) PDF, drawn exactly at its layout's coordinates.

Every element is placed from the stored :class:`omr.layout.SheetLayout` (millimetres, origin top
left, y down; PDF points have y up, so y is flipped): corner markers, the QR code (a 4-module quiet
zone inside the QR box, like :func:`omr.synth.render.render_blank`), bubbles with grey outlines
and light grey labels (a pencil mark is far darker than anything printed in a bubble), question
numbers, region boxes. What is printed around them (headings, notes, question numbers, frames) is
placed with the helpers of :mod:`omr.design`, so printing a stored layout again gives the same
sheet. Pre-printed named sheets carry the candidate in the QR code and print the name and the
admission number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.pdfgen.canvas import Canvas

from exam_server.printing.layout import fit
from omr.design import (
    BLOCK_PAD,
    DIGIT_HEAD,
    LINE_HEIGHT,
    SUBJECTIVE_HEAD,
    blank_label_of,
    block_frame,
)
from omr.layout import BlockKind, BubbleBlock, BubbleShape, Direction, Region, RegionKind, SheetLayout
from omr.sheet_code import SheetCode, encode, qr_matrix

PT = 72.0 / 25.4  # points per millimetre
OUTLINE_GREY = 90 / 255  # bubble outlines: the grey of omr.synth.render.OUTLINE
LABEL_GREY = 0.63  # bubble labels: light, so a filled bubble reads far darker
FRAME_GREY = 0.45
RULE_GREY = 0.85
LATIN = "Helvetica"

NOTES_ZH_EN: tuple[tuple[str, str], ...] = (
    ("1. 用2B铅笔填涂，把选项涂满涂黑。", "Fill the bubble completely with a 2B pencil."),
    ("2. 修改时用橡皮擦干净，不留痕迹。", "To change an answer, erase it cleanly."),
    ("3. 非选择题用黑色签字笔在框内作答，超出框线无效。", "Write other answers in black ink inside their box."),
    ("4. 保持卡面清洁，不要折叠、弄破。", "Keep the sheet clean; do not fold it."),
)


@dataclass(frozen=True)
class SheetPrint:
    """What is printed on a sheet besides its layout."""

    title: str
    exam_id: int
    form: str | None
    candidate_id: int | None = None  # a pre-printed named sheet: its QR code names the candidate
    candidate_name: str | None = None
    admission_no: str | None = None


def sheet_code(layout: SheetLayout, info: SheetPrint) -> SheetCode:
    return SheetCode(info.exam_id, info.form, layout.page_no, layout.pages, info.candidate_id)


def render_answer_sheets(layouts: Sequence[SheetLayout], sheets: Iterable[SheetPrint], out: BinaryIO,
                         font: str) -> int:
    """All pages of the sheet for each of ``sheets`` into one PDF; returns the pages drawn."""
    if not layouts:
        raise ValueError("an answer sheet needs at least one page layout")
    first = layouts[0]
    c = Canvas(out, pagesize=(first.page.width * PT, first.page.height * PT), pageCompression=1,
               initialFontName=font)
    c.setCreator("exam-service")
    pages = 0
    for info in sheets:
        c.setTitle(f"{info.title} 答题卡")
        for layout in layouts:
            c.setPageSize((layout.page.width * PT, layout.page.height * PT))
            draw_page(c, layout, info, font)
            c.showPage()
            pages += 1
    c.save()
    return pages


class _Page:
    """Millimetre coordinates (top-left origin) onto the canvas."""

    def __init__(self, c: Canvas, layout: SheetLayout, font: str) -> None:
        self.c, self.layout, self.font = c, layout, font
        self.height = layout.page.height

    def x(self, mm: float) -> float:
        return mm * PT

    def y(self, mm: float) -> float:
        return (self.height - mm) * PT

    def rect(self, x: float, y: float, w: float, h: float, fill: bool = False, stroke: bool = True) -> None:
        """A rectangle given by its top-left corner and size in mm."""
        self.c.rect(self.x(x), self.y(y + h), w * PT, h * PT, stroke=int(stroke), fill=int(fill))

    def text(self, s: str, x: float, y: float, size: float, align: str = "left", font: str | None = None,
             width: float | None = None) -> None:
        """``y`` is the baseline in mm."""
        face = font or self.font
        if width is not None:
            s = fit(s, face, size, width * PT)
        self.c.setFont(face, size)
        if align == "centre":
            self.c.drawCentredString(self.x(x), self.y(y), s)
        elif align == "right":
            self.c.drawRightString(self.x(x), self.y(y), s)
        else:
            self.c.drawString(self.x(x), self.y(y), s)


def draw_page(c: Canvas, layout: SheetLayout, info: SheetPrint, font: str) -> None:
    p = _Page(c, layout, font)
    _markers(p)
    if layout.qr is not None:
        _qr(p, encode(sheet_code(layout, info)))
    _header(p, info)
    for block in layout.bubble_blocks:
        _block(p, block, info)
    for region in layout.regions:
        _region(p, region, info)
    c.setFillGray(0)
    p.text(f"第 {layout.page_no} 页 / 共 {layout.pages} 页   Page {layout.page_no} of {layout.pages}",
           layout.page.width / 2, layout.page.height - 6.0, 8, align="centre")


def _markers(p: _Page) -> None:
    p.c.setFillGray(0)
    for m in p.layout.alignment.markers:
        if m.shape.value == "square":
            p.rect(m.x - m.size / 2, m.y - m.size / 2, m.size, m.size, fill=True, stroke=False)
        else:
            p.c.circle(p.x(m.x), p.y(m.y), m.size / 2 * PT, stroke=0, fill=1)
            if m.shape.value == "ring":
                p.c.setFillGray(1)
                p.c.circle(p.x(m.x), p.y(m.y), m.size / 4 * PT, stroke=0, fill=1)
                p.c.setFillGray(0)


def _qr(p: _Page, text: str) -> None:
    box = p.layout.qr
    assert box is not None
    modules = qr_matrix(text)
    n = len(modules) + 8  # a 4-module quiet zone on each side, inside the printed box
    unit = box.size / n
    p.c.setFillGray(1)
    p.rect(box.x, box.y, box.size, box.size, fill=True, stroke=False)
    path = p.c.beginPath()
    for r, row in enumerate(modules):
        top = box.y + (r + 4) * unit
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            left = box.x + (start + 4) * unit
            path.rect(p.x(left), p.y(top + unit), (col - start) * unit * PT, unit * PT)
    p.c.setFillGray(0)
    p.c.drawPath(path, stroke=0, fill=1)


def _header(p: _Page, info: SheetPrint) -> None:
    layout = p.layout
    left = 18.0
    right = (layout.qr.x - 4.0) if layout.qr is not None else layout.page.width - 18.0
    p.c.setFillGray(0)
    p.text(info.title, (left + right) / 2, 20.0, 14, align="centre", width=right - left)
    form = f"  ·  {info.form} 卷 Form {info.form}" if info.form else ""
    p.text(f"答题卡 Answer sheet{form}", (left + right) / 2, 27.0, 10, align="centre", width=right - left)
    if info.candidate_name or info.admission_no:
        who = "  ".join(s for s in (info.candidate_name or "", info.admission_no or "") if s)
        p.text(who, (left + right) / 2, 33.0, 10, align="centre", width=right - left)


def _block(p: _Page, block: BubbleBlock, info: SheetPrint) -> None:
    c = p.c
    if block.kind != BlockKind.ABSENT:
        x, y, w, h = block_frame(block)
        c.setStrokeGray(FRAME_GREY)
        c.setLineWidth(0.5)
        p.rect(x, y, w, h)
    if block.kind == BlockKind.DIGITS:
        _digits_head(p, block, info)
    if block.kind == BlockKind.ABSENT:
        cx, cy = block.bubble_centre(0, 0)
        c.setFillGray(0)
        p.text("缺考 Absent（监考员填涂 proctor only）", cx - block.bubble_width / 2 - 2.0,
               cy + 1.2, 8, align="right")
    if block.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE) and block.direction == Direction.ROWS:
        c.setFillGray(0)
        for f, name in enumerate(block.fields):
            cx, cy = block.bubble_centre(f, 0)
            p.text(name, cx - block.bubble_width / 2 - 1.5, cy + 1.1, 8, align="right", font=LATIN)
    tf = block.labels == ["T", "F"]
    c.setLineWidth(0.4)
    size = max(4.5, block.bubble_height * 0.75 * PT)
    for f in range(len(block.fields)):
        for o, label in enumerate(block.options_of(f)):
            cx, cy = block.bubble_centre(f, o)
            hw, hh = block.bubble_width / 2, block.bubble_height / 2
            c.setStrokeGray(OUTLINE_GREY)
            if block.shape == BubbleShape.RECT:
                p.rect(cx - hw, cy - hh, 2 * hw, 2 * hh)
            else:
                c.ellipse(p.x(cx - hw), p.y(cy + hh), p.x(cx + hw), p.y(cy - hh), stroke=1, fill=0)
            c.setFillGray(LABEL_GREY)
            shown = ("对" if label == "T" else "错") if tf else label
            face = p.font if tf else LATIN
            c.setFont(face, size)
            c.drawCentredString(p.x(cx), p.y(cy) - size * 0.35, shown)


def _digits_head(p: _Page, block: BubbleBlock, info: SheetPrint) -> None:
    """The heading and a write-in box per digit above the admission-number bubbles."""
    x, y, w, _ = block_frame(block)
    p.c.setFillGray(0)
    p.text("准考证号 Admission No.", x + w / 2, y + 4.5, 8, align="centre", width=w - 2)
    digits = list(info.admission_no or "")
    p.c.setStrokeGray(FRAME_GREY)
    p.c.setLineWidth(0.4)
    box_w = min(block.pitch_x - 0.8, 6.0) if block.columns > 1 else 5.5
    for f in range(len(block.fields)):
        cx, cy0 = block.bubble_centre(f, 0)
        top = cy0 - block.bubble_height / 2 - BLOCK_PAD - DIGIT_HEAD + 6.0
        p.rect(cx - box_w / 2, top, box_w, 6.0)
        if f < len(digits):
            p.c.setFillGray(0)
            p.text(digits[f], cx, top + 4.6, 10, align="centre", font=LATIN)


def _region(p: _Page, region: Region, info: SheetPrint) -> None:
    c = p.c
    c.setStrokeGray(0.4)
    c.setLineWidth(0.6)
    p.rect(region.x, region.y, region.width, region.height)
    c.setFillGray(0)
    if region.kind == RegionKind.BLANK and region.field:
        p.text(blank_label_of(region.field), region.x - 1.5, region.y + region.height / 2 + 1.2, 8,
               align="right", font=LATIN)
    elif region.kind == RegionKind.SUBJECTIVE:
        cont = "" if region.id == f"s{region.field}" else "（续 continued）"
        p.text(f"{region.field}.{cont}", region.x + 2.0, region.y + 5.0, 9)
        c.setStrokeGray(RULE_GREY)
        c.setLineWidth(0.3)
        line_y = region.y + SUBJECTIVE_HEAD + LINE_HEIGHT
        while line_y < region.y + region.height - 0.5:
            c.line(p.x(region.x + 3.0), p.y(line_y), p.x(region.x + region.width - 3.0), p.y(line_y))
            line_y += LINE_HEIGHT
    elif region.kind == RegionKind.NAME:
        p.text("姓名 Name", region.x + 2.0, region.y + region.height / 2 + 1.3, 9)
        if info.candidate_name:
            p.text(info.candidate_name, region.x + 22.0, region.y + region.height / 2 + 1.5, 11,
                   width=region.width - 24.0)
    elif region.kind == RegionKind.OTHER and region.id == "notes":
        _notes(p, region)


def _notes(p: _Page, region: Region) -> None:
    c, x, w = p.c, region.x + 2.0, region.width - 4.0
    c.setFillGray(0)
    y = region.y + 4.0
    p.text("注意事项 Notes", x, y, 8.5)
    step = min(3.4, (region.height - 12.0) / (2 * len(NOTES_ZH_EN) + 1))
    for zh, en in NOTES_ZH_EN:
        y += step
        p.text(zh, x, y, 6.8, width=w)
        y += step
        p.text("    " + en, x, y, 6.5, font=LATIN, width=w)
    y += step + 1.0
    p.text("正确填涂 Correct:", x, y, 7)
    ex = x + 26.0
    c.setFillGray(0)
    c.ellipse(p.x(ex), p.y(y + 0.5), p.x(ex + 5.0), p.y(y - 2.5), stroke=0, fill=1)
    p.text("错误 Wrong:", ex + 9.0, y, 7)
    wx = ex + 25.0
    c.setStrokeGray(0)
    c.setLineWidth(0.6)
    for k, mark in enumerate(("tick", "cross", "dot")):
        left = wx + k * 8.0
        c.setStrokeGray(OUTLINE_GREY)
        c.ellipse(p.x(left), p.y(y + 0.5), p.x(left + 5.0), p.y(y - 2.5), stroke=1, fill=0)
        c.setStrokeGray(0)
        if mark == "tick":
            c.line(p.x(left + 1.2), p.y(y - 1.0), p.x(left + 2.2), p.y(y))
            c.line(p.x(left + 2.2), p.y(y), p.x(left + 4.2), p.y(y - 2.2))
        elif mark == "cross":
            c.line(p.x(left + 1.2), p.y(y - 2.0), p.x(left + 3.8), p.y(y))
            c.line(p.x(left + 1.2), p.y(y), p.x(left + 3.8), p.y(y - 2.0))
        else:
            c.circle(p.x(left + 2.5), p.y(y - 1.0), 0.5 * PT, stroke=0, fill=1)
