"""PP-OCR's own cross-checks on a number: decimal points seen in the ink, and a per-digit vote between
the layouts (as written, re-spaced) and the digits read one by one."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def count_points(groups: tuple[Box, ...], tall: list[Box]) -> int:
    """Small groups that could be a decimal point (see :func:`point_slots`)."""
    return len(point_slots(groups, tall))


def point_slots(groups: tuple[Box, ...], tall: list[Box]) -> list[int]:
    """For each small group that could be a decimal point, the index of the digit group before it.
    A point sits low on the line (centre in the bottom 40 % of the digits' band), between the first
    and the last digit. A fragment of a broken stroke up in the line, or a speck before or after the
    number, is not one."""
    if len(tall) < 2:
        return []
    top, bottom = min(g[1] for g in tall), max(g[3] for g in tall)
    left, right = tall[0][2], tall[-1][0]
    size = 0.35 * (bottom - top)
    slots: list[int] = []
    for g in groups:
        if g in tall or g[2] - g[0] > size or g[3] - g[1] > size:
            continue
        cx, cy = (g[0] + g[2]) / 2, (g[1] + g[3]) / 2
        if left <= cx <= right and cy >= bottom - 0.4 * (bottom - top):
            slots.append(sum(1 for t in tall if (t[0] + t[2]) / 2 < cx) - 1)
    return slots


Decoded = tuple[str, tuple[float, ...]]


Column = list[tuple[str, float]]  # the readings of one digit position: (digit, confidence) per view


def digit_columns(views: list[Decoded], glyphs: list[Decoded], groups: int,
                  dots: int = 0) -> tuple[list[Column], Decoded | None]:
    """Per digit position, what every usable view read there; and the view to take points from."""
    columns: list[Column] = [[] for _ in range(groups)]
    point_source: Decoded | None = None
    for text, confs in views:
        pairs = [(ch, c) for ch, c in zip(text, confs, strict=True) if ch != "."]
        if len(pairs) == groups:
            if point_source is None or (point_source[0].count(".") != dots and text.count(".") == dots):
                point_source = (text, confs)
            for i, pair in enumerate(pairs):
                columns[i].append(pair)
    if len(glyphs) == groups:
        for i, (text, confs) in enumerate(glyphs):
            if len(text) == 1 and text != ".":
                columns[i].append((text, confs[0]))
    return columns, point_source


def vote_digits(views: list[Decoded], glyphs: list[Decoded], groups: int, dots: int = 0) -> Decoded | None:
    """Per-position majority over the readings whose digit count equals the ink groups (the layouts
    as written and re-spaced, and the groups read one by one). A character's confidence is the best
    agreeing view's confidence times the share of views that agree. None when some position has no
    usable view. Decimal points are kept from the first view with the right digit count and as many
    points as dot-like ink groups (``dots``), else from the first view with the right digit count."""
    columns, point_source = digit_columns(views, glyphs, groups, dots)
    chosen: list[tuple[str, float]] = []
    for column in columns:
        if not column:
            return None
        counts: dict[str, int] = {}
        for ch, _c in column:
            counts[ch] = counts.get(ch, 0) + 1
        best = max(counts, key=lambda ch: (counts[ch], ch == column[0][0]))  # ties: the first view
        agree = max(c for ch, c in column if ch == best)
        chosen.append((best, agree * counts[best] / len(column)))
    text_out: list[str] = []
    confs_out: list[float] = []
    points = iter(chosen)
    source_text, source_confs = point_source or ("x" * groups, (1.0,) * groups)
    for ch, point_conf in zip(source_text, source_confs, strict=True):
        if ch == ".":
            text_out.append(".")
            confs_out.append(point_conf)
        else:
            digit, conf = next(points)
            text_out.append(digit)
            confs_out.append(conf)
    return "".join(text_out), tuple(round(c, 5) for c in confs_out)
