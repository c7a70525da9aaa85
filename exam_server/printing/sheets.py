"""Room sheets: the door list (门贴), the sign-in sheet (签到表) and the seat chart (座位图)."""

from reportlab.pdfgen.canvas import Canvas

from exam_server.printing.data import CandidateEntry, RoomSheetData
from exam_server.printing.layout import MARGIN, PAGE_H, PAGE_W, fit, paged_table, window

CONTENT_W = PAGE_W - 2 * MARGIN


def _heading(c: Canvas, font: str, room: RoomSheetData, what: str, page: int) -> float:
    top = PAGE_H - MARGIN
    c.setFillGray(0)
    c.setFont(font, 18)
    title = f"{room.exam_title}  第 {room.room_number:02d} 考场 {what}"
    c.drawCentredString(PAGE_W / 2, top - 20, fit(title, font, 18, CONTENT_W))
    c.setFont(font, 10.5)
    lines = [f"场次：{room.sitting_name}  {window(room.opens_at, room.closes_at)}",
             f"考点：{room.site_name}（{room.site_code}）  考场：{room.room_name}"
             + (f"  试卷：{room.form_label}" if room.form_label else ""),
             f"准考证号：{room.admission_range()}  人数：{len(room.candidates)}"
             + (f"  （续 {page + 1}）" if page else "")]
    y = top - 44
    for line in lines:
        c.drawString(MARGIN, y, fit(line, font, 10.5, CONTENT_W))
        y -= 16
    return y - 6


def _seat(cand: CandidateEntry) -> str:
    return "" if cand.seat_no is None else f"{cand.seat_no:02d}"


def draw_door_list(c: Canvas, font: str, room: RoomSheetData) -> int:
    columns = [("座位", 50.0), ("准考证号", 150.0), ("姓名", 110.0), ("学校", CONTENT_W - 310.0)]
    rows = [[_seat(x), x.admission_no, x.name, x.school] for x in room.candidates]
    return paged_table(c, font, lambda cv, page: _heading(cv, font, room, "门贴", page), columns, rows, 20.0)


def draw_sign_in(c: Canvas, font: str, room: RoomSheetData) -> int:
    """One row per candidate: a box to sign in and a box to mark absent (缺考); candidates already
    marked absent carry the mark."""
    columns = [("座位", 40.0), ("准考证号", 120.0), ("姓名", 80.0), ("学号", 80.0),
               ("签名", CONTENT_W - 380.0), ("缺考", 60.0)]
    rows = [[_seat(x), x.admission_no, x.name, x.student_number, "", "缺考" if x.absent else ""]
            for x in room.candidates]
    return paged_table(c, font, lambda cv, page: _heading(cv, font, room, "签到表", page), columns, rows, 26.0, 11)


def draw_seat_chart(c: Canvas, font: str, room: RoomSheetData) -> int:
    """The room grid seen from the back, the front (讲台) at the top; seat n sits in row
    (n-1)//cols and column (n-1)%cols, as the Room model numbers them."""
    y = _heading(c, font, room, "座位图", 0)
    c.setFont(font, 11)
    c.rect(PAGE_W / 2 - 60, y - 22, 120, 20, stroke=1, fill=0)
    c.drawCentredString(PAGE_W / 2, y - 16, "讲台（前）")
    y -= 34
    cols, rows = max(room.cols, 1), max(room.rows, 1)
    cell_w = CONTENT_W / cols
    cell_h = min(70.0, (y - MARGIN) / rows)
    by_seat = {x.seat_no: x for x in room.candidates if x.seat_no is not None}
    size = min(9.0, cell_w / 8.5, cell_h / 4)
    for r in range(rows):
        for col in range(cols):
            seat = r * cols + col + 1
            x0, y0 = MARGIN + col * cell_w, y - (r + 1) * cell_h
            c.rect(x0, y0, cell_w - 2, cell_h - 2, stroke=1, fill=0)
            cand = by_seat.get(seat)
            c.setFont(font, size)
            c.drawString(x0 + 2, y0 + cell_h - 2 - size * 1.2, f"{seat:02d}")
            if cand is not None:
                c.drawString(x0 + 2, y0 + cell_h - 2 - size * 2.5, fit(cand.admission_no, font, size, cell_w - 6))
                c.drawString(x0 + 2, y0 + cell_h - 2 - size * 3.8, fit(cand.name, font, size, cell_w - 6))
    return 1
