"""The admission ticket (准考证): one A4 page per candidate."""

import io

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from exam_server.printing import qr
from exam_server.printing.data import TicketData
from exam_server.printing.layout import MARGIN, PAGE_H, PAGE_W, draw_qr, fit, window

PHOTO_W, PHOTO_H = 96.0, 128.0  # about 3.4 x 4.5 cm
QR_SIZE = 110.0
LINE = 26.0


def ticket_code(ticket: TicketData) -> str:
    c = ticket.candidate
    return qr.encode(qr.TicketCode(ticket.room.exam_id, c.admission_no, c.user_id))


def _fields(ticket: TicketData) -> list[tuple[str, str]]:
    room, cand = ticket.room, ticket.candidate
    site = room.site_name + (f"（{room.site_address}）" if room.site_address else "")
    return [
        ("姓    名", cand.name), ("学    号", cand.student_number), ("学    校", cand.school),
        ("准考证号", cand.admission_no), ("考    试", room.exam_title),
        ("场    次", f"{room.sitting_name}  {window(room.opens_at, room.closes_at)}"),
        ("考    点", site), ("考 场 号", f"第 {room.room_number:02d} 考场（{room.room_name}）"),
        ("座 位 号", "—" if cand.seat_no is None else f"{cand.seat_no:02d}"),
        ("试    卷", cand.form_label or room.form_label or "—"),
    ]


def draw_ticket(c: Canvas, font: str, ticket: TicketData) -> None:
    top = PAGE_H - MARGIN
    c.setFillGray(0)
    c.setFont(font, 20)
    c.drawCentredString(PAGE_W / 2, top - 24, fit(f"{ticket.room.exam_title} 准考证", font, 20, PAGE_W - 2 * MARGIN))
    y = top - 70
    label_w, value_w = 72.0, PAGE_W - 2 * MARGIN - PHOTO_W - 90
    for label, value in _fields(ticket):
        c.setFont(font, 11)
        c.drawString(MARGIN, y, label)
        c.setFont(font, 12)
        c.drawString(MARGIN + label_w, y, fit(value, font, 12, value_w))
        c.setLineWidth(0.3)
        c.line(MARGIN + label_w, y - 5, MARGIN + label_w + value_w, y - 5)
        y -= LINE
    photo_x = PAGE_W - MARGIN - PHOTO_W
    _photo(c, font, ticket.candidate.photo, photo_x, top - 70 - PHOTO_H + 12)
    draw_qr(c, ticket_code(ticket), PAGE_W - MARGIN - QR_SIZE + 7, y + 20, QR_SIZE)
    _rules(c, font, ticket.rules, y - 20)


def _photo(c: Canvas, font: str, photo: bytes | None, x: float, y: float) -> None:
    c.setLineWidth(0.8)
    c.rect(x, y, PHOTO_W, PHOTO_H, stroke=1, fill=0)
    if photo:
        try:
            c.drawImage(ImageReader(io.BytesIO(photo)), x + 2, y + 2, PHOTO_W - 4, PHOTO_H - 4,
                        preserveAspectRatio=True, anchor="c")
            return
        except Exception:  # noqa: BLE001 - a broken stored photo prints as the empty box
            pass
    c.setFont(font, 11)
    c.drawCentredString(x + PHOTO_W / 2, y + PHOTO_H / 2 - 4, "贴照片处")


def _rules(c: Canvas, font: str, rules: tuple[str, ...], y: float) -> None:
    width = PAGE_W - 2 * MARGIN
    height = 30 + 20 * len(rules)
    c.setLineWidth(0.8)
    c.rect(MARGIN, y - height, width, height, stroke=1, fill=0)
    c.setFont(font, 13)
    c.drawString(MARGIN + 10, y - 22, "考生须知")
    c.setFont(font, 10)
    for i, rule in enumerate(rules):
        c.drawString(MARGIN + 10, y - 44 - 20 * i, fit(rule, font, 10, width - 20))
