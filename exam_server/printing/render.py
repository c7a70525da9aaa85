"""PDF out of page data: one canvas per output file, so the font subset and the document
structure are built once per file, not once per page (see bench/district_print.py)."""

from collections.abc import Iterable
from enum import StrEnum
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from exam_server.printing.data import RULES_ZH, RoomSheetData, TicketData
from exam_server.printing.sheets import draw_door_list, draw_seat_chart, draw_sign_in
from exam_server.printing.tickets import draw_ticket


class PrintKind(StrEnum):
    TICKETS = "tickets"  # 准考证: a page per candidate
    DOOR_LISTS = "door_lists"  # 门贴: a page (or more) per room
    SIGN_IN = "sign_in"  # 签到表
    SEAT_CHARTS = "seat_charts"  # 座位图: a page per room


TITLES = {PrintKind.TICKETS: "准考证", PrintKind.DOOR_LISTS: "门贴", PrintKind.SIGN_IN: "签到表",
          PrintKind.SEAT_CHARTS: "座位图"}


class PdfWriter:
    """Pages of one kind into one PDF: add rooms one at a time, then ``close``; returns pages."""

    def __init__(self, out: BinaryIO, kind: PrintKind, font: str, title: str = "") -> None:
        self.kind, self.font, self.pages = kind, font, 0
        self.canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=font)
        self.canvas.setTitle(title or TITLES[kind])
        self.canvas.setCreator("exam-service")

    def add_room(self, room: RoomSheetData, rules: tuple[str, ...] = RULES_ZH) -> int:
        drawn = 0
        if self.kind == PrintKind.TICKETS:
            for cand in room.candidates:
                draw_ticket(self.canvas, self.font, TicketData(room, cand, rules))
                self.canvas.showPage()
                drawn += 1
        else:
            draw = {PrintKind.DOOR_LISTS: draw_door_list, PrintKind.SIGN_IN: draw_sign_in,
                    PrintKind.SEAT_CHARTS: draw_seat_chart}[self.kind]
            drawn = draw(self.canvas, self.font, room)
            self.canvas.showPage()
        self.pages += drawn
        return drawn

    def close(self) -> int:
        self.canvas.save()
        return self.pages


def render(kind: PrintKind, rooms: Iterable[RoomSheetData], out: BinaryIO, font: str) -> int:
    """Render every room into ``out``; returns the page count."""
    writer = PdfWriter(out, kind, font)
    for room in rooms:
        writer.add_room(room)
    return writer.close()
