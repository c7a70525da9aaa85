"""Reading the XLSX question list: find the header row, then turn each row into an ItemDraft.

One bad row never aborts the file: it becomes a rejected outcome naming its row and column.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from grading import GradingError, validate_definition
from item_bank.formats.archive import ReadLimits, SafeArchive
from item_bank.formats.common import MAX_ITEMS, check_size
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft
from item_bank.formats.xlsx_columns import (
    COLUMNS,
    LETTERS,
    REQUIRED,
    TYPE_NAMES,
    cell_text,
    difficulty,
    fold,
    header_key,
    knowledge_points,
    points,
    split_tags,
    split_unescaped,
)

MAX_UNCOMPRESSED = ReadLimits().unpacked_bytes
_TYPE_ALIASES = {
    "单选题": "single_choice", "单选": "single_choice", "单项选择题": "single_choice", "选择题": "single_choice",
    "多选题": "multiple_choice", "多选": "multiple_choice", "多项选择题": "multiple_choice",
    "不定项选择题": "multiple_choice", "判断题": "true_false", "判断": "true_false", "是非题": "true_false",
    "填空题": "fill_blank", "填空": "fill_blank", "数值题": "numeric", "计算题": "numeric",
    "简答题": "short_answer", "简答": "short_answer", "问答题": "short_answer",
    "作文题": "essay", "作文": "essay", "论述题": "essay",
    "singlechoice": "single_choice", "multiplechoice": "multiple_choice", "truefalse": "true_false",
    "fillblank": "fill_blank", "fillintheblank": "fill_blank", "shortanswer": "short_answer",
}
_TRUE = {"对", "正确", "是", "t", "true", "√", "✓", "✔", "y", "yes"}
_FALSE = {"错", "错误", "否", "f", "false", "×", "✗", "✘", "x", "n", "no"}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMERIC_ANSWER = re.compile(rf"^({_NUMBER})\s*(?:(?:±|\+-|\+/-)\s*({_NUMBER}))?\s*(\D.*)?$")


class RowError(Exception):
    def __init__(self, column: str, detail: str) -> None:
        super().__init__(detail)
        self.column = column
        self.detail = detail


def read_xlsx(data: bytes, limits: ReadLimits | None = None) -> ImportReport:
    """Read the question list; raises FormatError if this is not a workbook, lacks columns or is too big."""
    check_size(data, "XLSX file")
    rows = _sheet_rows(data, limits or ReadLimits())
    header_row, columns = _find_header(rows)
    report = ImportReport(format="xlsx")
    for row_number, values in rows[header_row:]:
        cells = {key: values[i] if i < len(values) else None for key, i in columns.items()}
        if all(cell_text(v) == "" for v in cells.values()):
            continue
        if len(report.outcomes) >= MAX_ITEMS:
            raise FormatError(f"XLSX file: more than {MAX_ITEMS} questions")
        report.outcomes.append(_row_outcome(len(report.outcomes), row_number, cells))
    return report


Rows = list[tuple[int, tuple[Any, ...]]]


def read_sheets(data: bytes, limits: ReadLimits | None = None) -> list[Rows]:
    """The real rows of every sheet under the same caps as question files (size, archive, rows,
    columns, cells): for other tabular imports, such as rosters."""
    check_size(data, "XLSX file")
    limits = limits or ReadLimits()
    budget = _CellBudget(limits.xlsx_cells, _check_zip(data, limits))
    workbook = _open(data)
    try:
        return [_real_rows(sheet, limits, budget) for sheet in workbook.worksheets]
    finally:
        workbook.close()


def _open(data: bytes) -> Any:
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise FormatError(f"XLSX file: not a readable workbook ({type(exc).__name__})") from None


def _sheet_rows(data: bytes, limits: ReadLimits) -> Rows:
    budget = _CellBudget(limits.xlsx_cells, _check_zip(data, limits))
    workbook = _open(data)
    try:
        best: Rows = []
        for sheet in workbook.worksheets:
            rows = _real_rows(sheet, limits, budget)
            if not best:
                best = rows
            if _header_columns(rows) is not None:
                return rows
        return best
    finally:
        workbook.close()


class _CellBudget:
    """Non-empty cells read plus shared strings, against ``xlsx_cells``."""

    def __init__(self, limit: int, spent: int) -> None:
        self.limit = limit
        self.spent = spent
        self._check("shared strings")

    def spend(self, cells: int, where: str) -> None:
        self.spent += cells
        self._check(where)

    def _check(self, where: str) -> None:
        if self.spent > self.limit:
            raise FormatError(f"XLSX file: more than {self.limit} cells (counted up to {where}); refused")


def _real_rows(sheet: Any, limits: ReadLimits, budget: _CellBudget) -> Rows:
    """The rows that are really in the sheet, however large its <dimension> claims to be.

    openpyxl pads every row to the declared width (16,384 columns for A1:XFD1048576) and fills
    declared rows; forgetting the declared size and capping the width keeps a row to
    ``xlsx_columns`` cells. Rows are counted by real number (gaps included, but only up to the
    next real row), so a row numbered past ``xlsx_rows`` is refused rather than walked to.
    """
    sheet.reset_dimensions()
    rows: Rows = []
    for number, values in enumerate(sheet.iter_rows(max_col=limits.xlsx_columns, values_only=True), start=1):
        if number > limits.xlsx_rows:
            raise FormatError(f"XLSX file: sheet {sheet.title!r} has rows past row {limits.xlsx_rows}; "
                              f"the limit is {limits.xlsx_rows} rows (delete empty rows at the end)")
        kept = _trim(values)
        budget.spend(sum(1 for v in kept if v is not None), f"sheet {sheet.title!r} row {number}")
        rows.append((number, kept))
    return rows


def _trim(values: tuple[Any, ...]) -> tuple[Any, ...]:
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return tuple(values[:end])


_SHARED_STRING = re.compile(rb"<(?:\w+:)?si[\s>/]")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _check_zip(data: bytes, limits: ReadLimits) -> int:
    """Inflate every part once under the archive caps (a sharedStrings bomb stops at the cap) and
    count the real cells of every sheet and the shared strings (openpyxl keeps each in memory);
    refuses a workbook with more of either than ``xlsx_cells``. Returns the shared strings."""
    if not data.startswith(b"PK"):
        raise FormatError("XLSX file: not a workbook (an .xlsx file is a ZIP; this is not one)")
    strings = _Counter(_SHARED_STRING)
    cells = _Counter(_CELL)
    with SafeArchive(data, "XLSX file", limits) as archive:
        for name in archive.members:
            lower = name.lower()
            counter = strings if lower.endswith("sharedstrings.xml") else cells if "worksheets/" in lower else None
            archive.stream(name, counter.feed if counter else lambda _chunk: None)
            if counter:
                counter.flush()
    for what, counter in (("shared strings", strings), ("cells", cells)):
        if counter.count > limits.xlsx_cells:
            raise FormatError(f"XLSX file: {counter.count} {what}; the limit is {limits.xlsx_cells} (whatever "
                              "size the sheets declare)")
    return strings.count


class _Counter:
    """Counts matches of a short tag pattern across chunk boundaries."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.count = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        window = self.tail + chunk
        cut = max(0, len(window) - 16)  # a match starting in the last 16 bytes is counted next time
        self.count += sum(1 for m in self.pattern.finditer(window) if m.start() < cut)
        self.tail = window[cut:]

    def flush(self) -> None:
        self.count += len(self.pattern.findall(self.tail))
        self.tail = b""


def _columns(values: tuple[Any, ...]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(values):
        key = header_key(value)
        if key and key not in columns:
            columns[key] = index
    return columns


def _header_columns(rows: Rows) -> tuple[int, dict[str, int]] | None:
    for position, (_, values) in enumerate(rows[:10]):
        columns = _columns(values)
        if all(key in columns for key in REQUIRED):
            return position + 1, columns
    return None


def _find_header(rows: Rows) -> tuple[int, dict[str, int]]:
    found = _header_columns(rows)
    if found is not None:
        return found
    first = next((values for _, values in rows if any(cell_text(v) for v in values)), ())
    present = _columns(first)
    missing = ", ".join(COLUMNS[key] for key in REQUIRED if key not in present)
    raise FormatError(f"XLSX file: missing required column(s) {missing} in the header row")


@dataclass
class _Row:
    number: int
    cells: dict[str, Any]

    def text(self, key: str) -> str:
        return cell_text(self.cells.get(key))

    def where(self, key: str) -> str:
        return f"第 {self.number} 行 (row {self.number}), {COLUMNS[key]}"


def _row_outcome(index: int, number: int, cells: dict[str, Any]) -> ImportOutcome:
    row = _Row(number, cells)
    label = f"第 {number} 行 (row {number})" + (f" {row.text('id')}" if row.text("id") else "")
    notes: list[str] = []
    try:
        draft = _draft(row, notes)
    except RowError as exc:
        return ImportOutcome(index, label, "rejected", [f"{row.where(exc.column)}: {exc.detail}"])
    return ImportOutcome(index, label, "converted" if notes else "imported", notes, draft)


def _draft(row: _Row, notes: list[str]) -> ItemDraft:
    item_type = _item_type(row.text("type"))
    stem = row.text("stem")
    if not stem:
        raise RowError("stem", "the stem is empty")
    definition = _READERS[item_type](row, notes)
    try:
        definition = validate_definition(item_type, definition)
    except GradingError as exc:
        raise RowError("answer", exc.detail) from None
    draft = ItemDraft(type=item_type, stem=stem, definition=definition)
    draft.explanation = row.text("explanation") or None
    draft.knowledge_points = knowledge_points(row.text("knowledge"))
    draft.difficulty = _field(row, "difficulty", difficulty)
    draft.default_points = _field(row, "points", points)
    draft.tags = split_tags(row.text("tags"))
    draft.source = row.text("source") or None
    draft.external_id = row.text("id") or None
    return draft


def _field(row: _Row, key: str, parse: Callable[[Any], float | None]) -> float | None:
    try:
        return parse(row.cells.get(key))
    except ValueError as exc:
        raise RowError(key, str(exc)) from None


def _item_type(value: str) -> str:
    folded = fold(value)
    key = re.sub(r"[\s_-]", "", folded.lower())
    if folded in TYPE_NAMES:
        return folded
    if key in _TYPE_ALIASES:
        return _TYPE_ALIASES[key]
    if not folded:
        raise RowError("type", "the type is empty")
    known = "/".join(TYPE_NAMES.values())
    raise RowError("type", f"{value!r} is not a type this list supports ({known}, or the English names)")


def _options(row: _Row) -> list[dict[str, str]]:
    filled = [(x, row.text(f"option_{x}")) for x in LETTERS]
    last = max((i for i, (_, text) in enumerate(filled) if text), default=-1)
    for letter, text in filled[: last + 1]:
        if not text:
            raise RowError(f"option_{letter}", "empty, but a later option is filled")
    if last < 1:
        raise RowError("option_A", "a choice question needs at least two options (选项A, 选项B)")
    return [{"id": letter, "text": text} for letter, text in filled[: last + 1]]


def _letters(row: _Row, options: list[dict[str, str]]) -> list[str]:
    answer = fold(row.text("answer")).upper()
    if not answer:
        raise RowError("answer", "the answer is empty")
    letters = [c for c in answer if not re.match(r"[\s,，、;；]", c)]
    ids = [o["id"] for o in options]
    for letter in letters:
        if letter not in ids:
            raise RowError("answer", f"{letter!r} is not an option (options: {''.join(ids)})")
    return list(dict.fromkeys(letters))


def _single(row: _Row, notes: list[str]) -> dict[str, Any]:
    options = _options(row)
    letters = _letters(row, options)
    if len(letters) != 1:
        raise RowError("answer", f"a single-choice question takes one letter, got {row.text('answer')!r}")
    return {"options": options, "correct": letters[0]}


def _multiple(row: _Row, notes: list[str]) -> dict[str, Any]:
    options = _options(row)
    return {"options": options, "correct": _letters(row, options)}


def _true_false(row: _Row, notes: list[str]) -> dict[str, Any]:
    answer = fold(row.text("answer")).lower()
    if answer in _TRUE or answer in _FALSE:
        if any(row.text(f"option_{x}") for x in LETTERS):
            notes.append("判断题的选项被忽略 (options of a true/false question were ignored)")
        return {"correct": answer in _TRUE}
    if not answer:
        raise RowError("answer", "the answer is empty")
    raise RowError("answer", f"{row.text('answer')!r} is not 对/错 (true/false; also 正确/错误, T/F, √/×)")


def _fill_blank(row: _Row, notes: list[str]) -> dict[str, Any]:
    answer = row.text("answer").replace("｜", "|").replace("／", "/")
    if not answer:
        raise RowError("answer", "the answer is empty")
    blanks = []
    for number, blank in enumerate(split_unescaped(answer, "|"), start=1):
        texts = [t.strip() for t in split_unescaped(blank, "/") if t.strip()]
        if not texts:
            raise RowError("answer", f"blank {number} has no answer (blanks are separated by |)")
        blanks.append({"answers": [{"text": t, "fraction": 1.0} for t in dict.fromkeys(texts)]})
    return {"blanks": blanks}


def _numeric(row: _Row, notes: list[str]) -> dict[str, Any]:
    raw = row.cells.get("answer")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return {"answers": [{"value": float(raw), "tolerance": 0.0}]}
    answer = fold(row.text("answer")).replace("\u2212", "-")
    match = _NUMERIC_ANSWER.match(answer)
    if not match:
        detail = "the answer is empty" if not answer else f"{row.text('answer')!r} is not a number (e.g. 3.14±0.01)"
        raise RowError("answer", detail)
    value, tolerance, unit = match.groups()
    definition: dict[str, Any] = {"answers": [{"value": float(value), "tolerance": abs(float(tolerance or 0))}]}
    if unit and unit.strip():
        definition["unit"] = unit.strip()
    return definition


def _manual(row: _Row, notes: list[str]) -> dict[str, Any]:
    reference = row.text("answer")
    return {"reference_answer": reference} if reference else {}


_READERS: dict[str, Callable[[_Row, list[str]], dict[str, Any]]] = {
    "single_choice": _single, "multiple_choice": _multiple, "true_false": _true_false,
    "fill_blank": _fill_blank, "numeric": _numeric, "short_answer": _manual, "essay": _manual,
}
