"""Roster workbooks: read the rows of a student or teacher list, write templates and exports.

Columns (header names are matched after NFKC folding, so full-width letters and brackets work;
case, spaces, a leading ``*`` and a bracketed note such as ``（必填）`` are ignored):

=============  ==========================================  ==========================
key            headers accepted                            students / teachers
=============  ==========================================  ==========================
number         学号 学籍号 学生编号 工号 教工号 教师编号 ...    required / required
name           姓名 学生姓名 教师姓名 name                     required / required
gender         性别 gender sex (男/女/M/F/male/female)      optional
grade          年级 grade                                  optional (checked against the class)
class          班级 班 班别 行政班 class                       required / -
username       用户名 账号 帐号 登录名 username                  optional (default rule otherwise)
teaches        任教班级 所教班级 任课班级 teaches                  - / optional, ``班级`` or ``班级:学科``
                                                           separated by 、 , ; or new lines
subject        学科 科目 任教学科 subject                       - / default subject of ``teaches``
=============  ==========================================  ==========================

The workbook is read by :func:`item_bank.formats.xlsx_read.read_sheets` under the same caps as
question files (``EXAM_MAX_*``: file size, unpacked size, real rows, columns and cells, whatever
the sheet's declared dimension says); a roster also has at most ``EXAM_ROSTER_MAX_ROWS`` data rows.
"""

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl import Workbook

from exam_server.errors import Unprocessable
from item_bank.formats.archive import ReadLimits
from item_bank.formats.draft import FormatError
from item_bank.formats.xlsx_columns import cell_text, fold
from item_bank.formats.xlsx_read import read_sheets

Kind = Literal["students", "teachers"]
HEADER_ROWS = 10

HEADERS: dict[str, frozenset[str]] = {
    "number": frozenset({"学号", "学籍号", "学生学号", "学生编号", "工号", "教工号", "职工号", "教师工号", "教师编号",
                         "studentnumber", "studentno", "studentid", "staffnumber", "staffno", "staffid", "number"}),
    "name": frozenset({"姓名", "学生姓名", "教师姓名", "名字", "name", "fullname", "displayname"}),
    "gender": frozenset({"性别", "gender", "sex"}),
    "grade": frozenset({"年级", "grade", "year"}),
    "class": frozenset({"班级", "班", "班别", "班级名称", "行政班", "class", "classname"}),
    "username": frozenset({"用户名", "账号", "帐号", "登录名", "登录账号", "username", "login", "account"}),
    "teaches": frozenset({"任教班级", "所教班级", "任课班级", "任教", "teaches", "classestaught"}),
    "subject": frozenset({"学科", "科目", "任教学科", "subject"}),
}
REQUIRED: dict[Kind, tuple[str, ...]] = {"students": ("number", "name", "class"), "teachers": ("number", "name")}
# The columns written by templates and exports, in order, with their Chinese headers.
LAYOUT: dict[Kind, tuple[tuple[str, str], ...]] = {
    "students": (("number", "学号"), ("name", "姓名"), ("gender", "性别"), ("grade", "年级"), ("class", "班级"),
                 ("username", "用户名")),
    "teachers": (("number", "工号"), ("name", "姓名"), ("gender", "性别"), ("username", "用户名"),
                 ("teaches", "任教班级"), ("subject", "学科")),
}
EXAMPLES: dict[Kind, tuple[str, ...]] = {
    "students": ("2025001", "张三", "男", "高一", "高一(1)班", ""),
    "teachers": ("T001", "王老师", "女", "", "高一(1)班、高一(2)班:物理", "数学"),
}
_NOTE = re.compile(r"\(.*?\)")


class BadRoster(Unprocessable):
    """The file as a whole cannot be read (not a workbook, too big, no header row, too many rows)."""


@dataclass(frozen=True)
class SheetRow:
    row: int  # the spreadsheet's own row number (1-based), for error messages
    cells: dict[str, str]  # column key -> folded text ("" when empty)


@dataclass(frozen=True)
class Sheet:
    columns: dict[str, str]  # key -> the header as written, to name columns in errors
    rows: list[SheetRow]


def header_key(value: Any) -> str | None:
    text = _NOTE.sub("", fold(cell_text(value))).lstrip("*").replace(" ", "").lower()
    return next((key for key, names in HEADERS.items() if text in names), None)


def read_roster(data: bytes, kind: Kind, max_rows: int, limits: ReadLimits | None = None) -> Sheet:
    try:
        sheets = read_sheets(data, limits)
    except FormatError as exc:
        raise BadRoster(exc.detail) from None
    for rows in sheets:
        found = _read_sheet(rows, kind, max_rows)
        if found is not None:
            return found
    names = " / ".join(_first_header(key) for key in REQUIRED[kind])
    raise BadRoster(f"file: no header row with the columns {names} in the first {HEADER_ROWS} rows of any sheet")


def _first_header(key: str) -> str:
    return next(header for k, header in LAYOUT["students"] + LAYOUT["teachers"] if k == key)


def _read_sheet(rows: Sequence[tuple[int, Sequence[Any]]], kind: Kind, max_rows: int) -> Sheet | None:
    columns: dict[str, int] | None = None
    headers: dict[str, str] = {}
    out: list[SheetRow] = []
    for number, values in rows:
        if columns is None:
            if number > HEADER_ROWS:
                return None
            columns, headers = _header(values)
            if not all(key in columns for key in REQUIRED[kind]):
                columns = None
            continue
        cells = {key: fold(cell_text(values[i])) if i < len(values) else "" for key, i in columns.items()}
        if not any(cells.values()):
            continue
        if len(out) >= max_rows:
            raise BadRoster(f"file: more than {max_rows} rows (EXAM_ROSTER_MAX_ROWS); split the list")
        out.append(SheetRow(number, cells))
    return Sheet(headers, out) if columns is not None else None


def _header(values: Sequence[Any]) -> tuple[dict[str, int], dict[str, str]]:
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, value in enumerate(values):
        key = header_key(value)
        if key is not None and key not in columns:
            columns[key] = index
            headers[key] = cell_text(value)
    return columns, headers


def write_roster(kind: Kind, rows: Iterable[Sequence[str]]) -> bytes:
    """A workbook with the kind's header row and these rows (templates and exports)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("学生 students" if kind == "students" else "教师 teachers")
    sheet.append([header for _, header in LAYOUT[kind]])
    for row in rows:
        # Text cells: a student number keeps its leading zeros when opened and saved again.
        sheet.append([str(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
