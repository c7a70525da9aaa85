"""Drawing helpers shared by the page kinds: A4 geometry, text that fits, paged tables, QR."""

from collections.abc import Callable, Sequence
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from exam_server.printing import qr

PAGE_W, PAGE_H = float(A4[0]), float(A4[1])
MARGIN = 40.0


def fit(text: str, font: str, size: float, width: float) -> str:
    """Cut ``text`` (with an ellipsis) so it fits ``width`` points: long school names stay inside their cell."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def window(opens_at: datetime, closes_at: datetime) -> str:
    same_day = opens_at.date() == closes_at.date()
    end = closes_at.strftime("%H:%M") if same_day else closes_at.strftime("%Y-%m-%d %H:%M")
    return f"{opens_at.strftime('%Y-%m-%d %H:%M')} – {end}"


def draw_qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code with its quiet zone inside ``size``; dark runs of a row drawn as one rectangle
    (a few hundred rectangles instead of one per module)."""
    modules = qr.matrix(text)
    n = len(modules) + 8  # four modules of quiet zone on each side
    unit = size / n
    path = c.beginPath()
    for r, row in enumerate(modules):
        top = y + size - (r + 4 + 1) * unit
        col = 0
        while col < len(row):
            if not row[col]:
                col += 1
                continue
            start = col
            while col < len(row) and row[col]:
                col += 1
            path.rect(x + (start + 4) * unit, top, (col - start) * unit, unit)
    c.setFillGray(0)
    c.drawPath(path, stroke=0, fill=1)


Header = Callable[[Canvas, int], float]  # draws a page's heading, returns the y where the table starts


def paged_table(c: Canvas, font: str, header: Header, columns: Sequence[tuple[str, float]],
                rows: Sequence[Sequence[str]], row_h: float, size: float = 10.5) -> int:
    """A table over as many pages as it needs, column titles repeated; returns pages drawn."""
    pages, index = 0, 0
    while pages == 0 or index < len(rows):
        if pages:
            c.showPage()
        y = header(c, pages)
        y = _table_row(c, font, columns, [t for t, _ in columns], y, row_h, size, bold=True)
        while index < len(rows) and y - row_h >= MARGIN:
            y = _table_row(c, font, columns, rows[index], y, row_h, size)
            index += 1
        pages += 1
    return pages


def _table_row(c: Canvas, font: str, columns: Sequence[tuple[str, float]], cells: Sequence[str], y: float,
               row_h: float, size: float, bold: bool = False) -> float:
    x = MARGIN
    c.setLineWidth(0.6)
    if bold:
        c.setFillGray(0.9)
        c.rect(MARGIN, y - row_h, sum(w for _, w in columns), row_h, stroke=0, fill=1)
    c.setFillGray(0)
    c.setFont(font, size)
    for (_, width), cell in zip(columns, cells, strict=True):
        c.rect(x, y - row_h, width, row_h, stroke=1, fill=0)
        c.drawString(x + 3, y - row_h / 2 - size / 3, fit(cell, font, size, width - 6))
        x += width
    return y - row_h
