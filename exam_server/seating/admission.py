"""Admission numbers (准考证号) from a template such as ``{year}{site}{room:03}{seat:02}``.

Fields (Python format syntax, so ``{room:03}`` pads with zeros):

=========  =====  ==========================================================================
field      type   value
=========  =====  ==========================================================================
year       int    the year the exam opens
exam       int    the exam id
sitting    int    the sitting's number within the exam (1, 2, ... by opening time)
site       text   the site code (考点代码); pad text with ``{site:0>4}``
room       int    the room number within the exam (考场号)
seat       int    the seat number in the room
school     text   the candidate's school code (学校代码)
seq        int    1, 2, ... over the whole exam in (sitting, room, seat) order
=========  =====  ==========================================================================

A scheme is checked when it is set (unknown fields are named, with the known ones), and the
numbers of an exam are checked to be unique (a collision names both candidates).
"""

import string
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 40  # exam_candidates.admission_no
FIELDS: dict[str, Any] = {"year": 2026, "exam": 12, "sitting": 1, "site": "0101", "room": 7, "seat": 23,
                          "school": "3301", "seq": 345}


class SchemeError(ValueError):
    """A bad template, a number that does not fit, or two candidates with one number."""


@dataclass(frozen=True)
class NumberFields:
    candidate: int
    year: int
    exam: int
    sitting: int
    site: str
    room: int
    seat: int
    school: str
    seq: int


def validate_scheme(scheme: str) -> None:
    """Raise SchemeError naming what is wrong; pass for a usable template."""
    if not scheme.strip():
        raise SchemeError("admission_scheme: empty; e.g. {year}{site}{room:03}{seat:02}")
    try:
        parts = list(string.Formatter().parse(scheme))
    except ValueError as exc:
        raise SchemeError(f"admission_scheme: {exc} in {scheme!r}") from exc
    names = [name for _, name, _, _ in parts if name is not None]
    if not names:
        raise SchemeError(f"admission_scheme: {scheme!r} has no fields, so every number would be the same")
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS:
            raise SchemeError(f"admission_scheme: unknown field {{{name}}}; known fields: {', '.join(FIELDS)}")
        if conversion or "{" in (spec or ""):
            raise SchemeError(f"admission_scheme: field {{{name}}} may carry a format spec only, not !{conversion}")
    try:
        sample = scheme.format(**FIELDS)
    except (ValueError, TypeError) as exc:
        raise SchemeError(f"admission_scheme: {exc} in {scheme!r} (site and school are text)") from exc
    _check_number(sample, scheme)


def _check_number(number: str, scheme: str) -> None:
    if not number or len(number) > MAX_LENGTH or any(ch.isspace() for ch in number):
        raise SchemeError(f"admission_scheme: {scheme!r} gives {number!r}; a number has 1..{MAX_LENGTH} characters "
                          "and no spaces")


def render_numbers(scheme: str, rows: list[NumberFields]) -> dict[int, str]:
    """candidate -> number; SchemeError if a number does not fit or two candidates share one."""
    validate_scheme(scheme)
    numbers: dict[int, str] = {}
    owner: dict[str, int] = {}
    for row in rows:
        number = scheme.format(year=row.year, exam=row.exam, sitting=row.sitting, site=row.site, room=row.room,
                               seat=row.seat, school=row.school, seq=row.seq)
        _check_number(number, scheme)
        if number in owner:
            raise SchemeError(f"admission_scheme {scheme!r}: candidates {owner[number]} and {row.candidate} would "
                              f"both get {number}; add a distinguishing field such as {{seq}} or {{sitting}}")
        owner[number] = row.candidate
        numbers[row.candidate] = number
    return numbers
