"""Checking one roster row on its own (no database): values, lengths, the teaching list.

Each problem is a :class:`Issue` naming the column (by the header the file used) and what is
wrong, so the preview can show "row 7, 性别: '未知' is not one of 男/女/M/F".
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from exam_server.services.roster_xlsx import Kind, SheetRow

NUMBER = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
GENDERS = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}
LIMITS = {"name": 200, "grade": 100, "class": 200, "subject": 50}
_LIST = re.compile(r"[、,;\n]+")  # full-width ，； are folded to , ; before this


@dataclass
class Issue:
    column: str
    detail: str


@dataclass
class CheckedRow:
    """A row's values once checked; ``issues`` empty means it may be applied."""

    row: int
    number: str
    name: str
    gender: str | None
    grade: str
    klass: str
    username: str
    teaches: list[tuple[str, str]] = field(default_factory=list)  # (class name, subject)
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_row(kind: Kind, row: SheetRow, headers: dict[str, str]) -> CheckedRow:
    cells = row.cells
    checked = CheckedRow(row=row.row, number=cells.get("number", ""), name=cells.get("name", ""), gender=None,
                         grade=cells.get("grade", ""), klass=cells.get("class", ""),
                         username=cells.get("username", ""))

    def issue(key: str, detail: str) -> None:
        checked.issues.append(Issue(headers.get(key, key), detail))

    if not checked.number:
        issue("number", "empty: every row needs its number")
    elif not NUMBER.match(checked.number):
        issue("number", f"{checked.number!r}: use 1-40 letters, digits, '-' or '_'")
    if not checked.name:
        issue("name", "empty: every row needs a name")
    for key, limit in LIMITS.items():
        if len(cells.get(key, "")) > limit:
            issue(key, f"{len(cells[key])} characters; at most {limit}")
    gender = cells.get("gender", "")
    if gender:
        checked.gender = GENDERS.get(gender.lower())
        if checked.gender is None:
            issue("gender", f"{gender!r} is not one of 男/女/M/F")
    if checked.username and not USERNAME.match(checked.username):
        issue("username", f"{checked.username!r}: use 1-100 letters, digits, '.', '_', '@' or '-'")
    if kind == "students" and not checked.klass:
        issue("class", "empty: every student needs a class")
    if kind == "teachers":
        checked.teaches = _teaching(cells.get("teaches", ""), cells.get("subject", ""), issue)
    return checked


def _teaching(text: str, default_subject: str, issue: Callable[[str, str], None]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for entry in filter(None, (part.strip() for part in _LIST.split(text))):
        klass, _, subject = (part.strip() for part in entry.partition(":"))
        subject = subject or default_subject
        if not subject:
            issue("teaches", f"{entry!r}: no subject (write '{klass}:数学' or fill the 学科 column)")
        elif len(subject) > LIMITS["subject"] or len(klass) > LIMITS["class"]:
            issue("teaches", f"{entry!r}: a class name or subject is too long")
        elif (klass, subject) not in pairs:
            pairs.append((klass, subject))
    return pairs


def default_username(school_code: str | None, school_id: int, number: str) -> str:
    """The documented rule: school code + number, lower case (``YZ01`` + ``2025001`` ->
    ``yz012025001``); a school without a code uses ``s<school id>-<number>``."""
    return (f"{school_code}{number}" if school_code else f"s{school_id}-{number}").lower()
