"""The XLSX question list as Chinese schools keep it: one row per question, headers in Chinese.

Columns (matched in Chinese or English, any order; "题型 (type)" style headers work too):
题型 type, 题干 stem, 选项A..选项H options, 答案 answer, 解析 explanation, 知识点 knowledge points,
难度 difficulty, 分值 points, 标签 tags, 来源 source, 编号 id. 题型, 题干 and 答案 are required.
One bad row never aborts the file: it is reported by row number and column.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from grading import GradingError, validate_definition
from item_bank.formats.common import MAX_ITEMS, check_size
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft

LETTERS = "ABCDEFGH"
MAX_UNCOMPRESSED = 100 * 1024 * 1024
QUESTIONS_SHEET = "题目 (Questions)"
COLUMNS: dict[str, str] = {  # key -> header written, "中文 (English)"
    "id": "编号 (id)", "type": "题型 (type)", "stem": "题干 (stem)",
    **{f"option_{x}": f"选项{x} (option {x})" for x in LETTERS},
    "answer": "答案 (answer)", "explanation": "解析 (explanation)", "knowledge": "知识点 (knowledge points)",
    "difficulty": "难度 (difficulty)", "points": "分值 (points)", "tags": "标签 (tags)", "source": "来源 (source)",
}
REQUIRED = ("type", "stem", "answer")
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "题号", "试题编号", "id", "externalid", "no", "number"),
    "type": ("题型", "类型", "题目类型", "试题类型", "type", "questiontype", "itemtype"),
    "stem": ("题干", "题目", "题目内容", "试题内容", "stem", "question"),
    "answer": ("答案", "正确答案", "参考答案", "标准答案", "answer", "correctanswer", "key"),
    "explanation": ("解析", "答案解析", "试题解析", "explanation", "analysis"),
    "knowledge": ("知识点", "knowledgepoints", "knowledgepoint", "knowledge"),
    "difficulty": ("难度", "难度系数", "difficulty"),
    "points": ("分值", "分数", "points", "score"),
    "tags": ("标签", "tags", "tag"),
    "source": ("来源", "出处", "source"),
    **{f"option_{x}": (f"选项{x.lower()}", f"option{x.lower()}", x.lower()) for x in LETTERS},
}
_HEADER_KEYS = {alias: key for key, aliases in _ALIASES.items() for alias in aliases}
TYPE_NAMES: dict[str, str] = {  # written back as the first Chinese name
    "single_choice": "单选题", "multiple_choice": "多选题", "true_false": "判断题", "fill_blank": "填空题",
    "numeric": "数值题", "short_answer": "简答题", "essay": "作文题",
}
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
_LEVELS = {"易": 0.85, "容易": 0.85, "简单": 0.85, "中": 0.6, "中等": 0.6, "一般": 0.6,
           "难": 0.35, "困难": 0.35, "较难": 0.35}
_STARS = {1: 0.9, 2: 0.75, 3: 0.6, 4: 0.45, 5: 0.3}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMERIC_ANSWER = re.compile(rf"^({_NUMBER})\s*(?:(?:±|\+-|\+/-)\s*({_NUMBER}))?\s*(\D.*)?$")


class RowError(Exception):
    def __init__(self, column: str, detail: str) -> None:
        super().__init__(detail)
        self.column = column
        self.detail = detail


def fold(value: str) -> str:
    """NFKC (full-width to ASCII), trimmed."""
    return unicodedata.normalize("NFKC", value).strip()


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious .0, everything trimmed."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


# -- reading ------------------------------------------------------------------------------------


def read_xlsx(data: bytes) -> ImportReport:
    """Read the question list; raises FormatError if this is not a workbook or lacks columns."""
    check_size(data, "XLSX file")
    rows = _sheet_rows(data)
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


def _sheet_rows(data: bytes) -> list[tuple[int, tuple[Any, ...]]]:
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise FormatError(f"XLSX file: not a readable workbook ({type(exc).__name__})") from None
    try:
        best: list[tuple[int, tuple[Any, ...]]] = []
        for sheet in workbook.worksheets:
            rows = [(n, tuple(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), start=1)]
            if not best:
                best = rows
            if _header_columns(rows) is not None:
                return rows
        return best
    finally:
        workbook.close()


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FormatError("XLSX file: not a workbook (an .xlsx file is a ZIP; this is not one)") from None
    if total > MAX_UNCOMPRESSED:
        raise FormatError(f"XLSX file: unpacks to {total} bytes; the limit is {MAX_UNCOMPRESSED}")


def header_key(value: Any) -> str | None:
    """'题型', 'Type', '题型 (type)', '题型（必填）', '*选项Ａ' -> the column key, or None."""
    text = fold(cell_text(value)).lower().replace("*", "")
    parts = [text, *re.split(r"[()\[\]]", text)]
    for part in parts:
        key = _HEADER_KEYS.get(re.sub(r"[\s_:-]", "", part))
        if key:
            return key
    return None


def _columns(values: tuple[Any, ...]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(values):
        key = header_key(value)
        if key and key not in columns:
            columns[key] = index
    return columns


def _header_columns(rows: list[tuple[int, tuple[Any, ...]]]) -> tuple[int, dict[str, int]] | None:
    for position, (_, values) in enumerate(rows[:10]):
        columns = _columns(values)
        if all(key in columns for key in REQUIRED):
            return position + 1, columns
    return None


def _find_header(rows: list[tuple[int, tuple[Any, ...]]]) -> tuple[int, dict[str, int]]:
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


def split_unescaped(text: str, separator: str) -> list[str]:
    r"""Split on `separator` unless it is escaped as \| or \/ (for answers containing them)."""
    parts = re.split(rf"(?<!\\){re.escape(separator)}", text)
    return [p.replace("\\" + separator, separator) for p in parts]


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


def knowledge_points(text: str) -> list[tuple[str, ...]]:
    """'数学/函数/二次函数；数学>代数' -> [('数学', '函数', '二次函数'), ('数学', '代数')]."""
    paths = []
    for entry in re.split(r"[;；\n]", text):
        parts = tuple(p.strip() for p in re.split(r"[/>／＞]", entry) if p.strip())
        if parts and parts not in paths:
            paths.append(parts)
    return paths


def split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in re.split(r"[,，;；、]", text) if t.strip()))


def difficulty(value: Any) -> float | None:
    """易/中/难, 1-5 stars (★★★ or 3), a 0..1 proportion or a percentage -> proportion correct."""
    if value is None or (text := fold(cell_text(value))) == "":
        return None
    if text in _LEVELS:
        return _LEVELS[text]
    stars = text.count("★")
    if stars and not text.replace("★", "").replace("☆", "").strip():
        return _STARS.get(stars) or _bad_difficulty(value)
    number = _float(text.rstrip("%星").strip())
    if number is None:
        return _bad_difficulty(value)
    if text.endswith("%"):
        number /= 100
    elif number.is_integer() and number >= 1:
        return _STARS.get(int(number)) or _bad_difficulty(value)
    return number if 0 <= number <= 1 else _bad_difficulty(value)


def _bad_difficulty(value: Any) -> float:
    raise ValueError(f"{cell_text(value)!r} is not a difficulty (易/中/难, 1-5 stars or a proportion 0..1)")


def points(value: Any) -> float | None:
    text = fold(cell_text(value))
    if not text:
        return None
    number = _float(text.removesuffix("分"))
    if number is None or number <= 0:
        raise ValueError(f"{cell_text(value)!r} is not a positive number of points")
    return number


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


# -- writing ------------------------------------------------------------------------------------


def write_xlsx(drafts: Sequence[ItemDraft]) -> bytes:
    """The question list. Types a row cannot hold (matching, ordering, inline_choice, more than eight
    options) and anything simplified on the way are listed on a second sheet, 导出说明 (export notes)."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    _question_sheet(sheet)
    notes: list[tuple[str, str]] = []
    for number, draft in enumerate(drafts, start=1):
        label = draft.external_id or f"#{number}"
        try:
            row, lost = _row(draft)
        except ValueError as exc:
            notes.append((label, f"未导出 (not exported): {exc}"))
            continue
        _append(sheet, [row.get(key) for key in COLUMNS])
        notes += [(label, text) for text in lost]
    if notes:
        extra = workbook.create_sheet("导出说明 (Export notes)")
        _append(extra, ["题目 (item)", "说明 (note)"])
        for label, text in notes:
            _append(extra, [label, text])
    return _save(workbook)


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """Strings are stored as text, never as formulas (no "=HYPERLINK(...)" from an imported
    stem); characters a workbook cannot hold are dropped."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _question_sheet(sheet: Worksheet) -> None:
    sheet.title = QUESTIONS_SHEET
    sheet.append(list(COLUMNS.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"
    for letter, width in (("A", 10), ("B", 10), ("C", 50)):
        sheet.column_dimensions[letter].width = width
    types = DataValidation(type="list", formula1='"' + ",".join(TYPE_NAMES.values()) + '"', allow_blank=True)
    sheet.add_data_validation(types)
    types.add("B2:B5000")


def _row(draft: ItemDraft) -> tuple[dict[str, Any], list[str]]:
    if draft.type not in TYPE_NAMES:
        raise ValueError(f"题型 {draft.type} 不能写成一行 (the {draft.type} type has no row form)")
    definition = validate_definition(draft.type, draft.definition)
    row: dict[str, Any] = {"id": draft.external_id, "type": TYPE_NAMES[draft.type], "stem": draft.stem,
                           "explanation": draft.explanation, "source": draft.source,
                           "points": draft.default_points, "difficulty": _difficulty_cell(draft.difficulty),
                           "tags": ", ".join(draft.tags),
                           "knowledge": "; ".join("/".join(path) for path in draft.knowledge_points)}
    lost = _ANSWER_WRITERS[draft.type](definition, row)
    if draft.media:
        lost.append("图片未导出 (images are not exported; the stem keeps the references)")
    return row, lost


def _difficulty_cell(value: float | None) -> Any:
    if value is None:
        return None
    names = {v: k for k, v in reversed(list(_LEVELS.items()))}
    return names.get(value) or (f"{value:.0%}" if value in (0.0, 1.0) else value)


def _choice_cells(definition: dict[str, Any], row: dict[str, Any]) -> dict[str, str]:
    options = definition["options"]
    if len(options) > len(LETTERS):
        raise ValueError(f"{len(options)} 个选项，最多 8 个 (more than eight options)")
    letters = {}
    for letter, option in zip(LETTERS, options, strict=False):
        row[f"option_{letter}"] = option["text"]
        letters[option["id"]] = letter
    return letters


def _write_single(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    row["answer"] = _choice_cells(definition, row)[definition["correct"]]
    return []


def _write_multiple(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    letters = _choice_cells(definition, row)
    row["answer"] = "".join(sorted(letters[i] for i in definition["correct"]))
    rule = definition.get("partial_credit", "gaokao")
    return [] if rule == "gaokao" else [f"多选评分规则 {rule} 未导出 (partial-credit rule {rule} not kept)"]


def _write_true_false(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    row["answer"] = "对" if definition["correct"] else "错"
    return []


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("/", "\\/")


def _write_fill_blank(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    lost = []
    blanks = []
    for blank in definition["blanks"]:
        full = [a["text"] for a in blank["answers"] if a["fraction"] == 1.0]
        if len(full) != len(blank["answers"]):
            lost.append("部分得分答案未导出 (partial-credit answers dropped)")
        if blank.get("case_sensitive"):
            lost.append("区分大小写未导出 (case sensitivity dropped)")
        blanks.append("/".join(_escape(t) for t in full))
    row["answer"] = "|".join(blanks)
    return list(dict.fromkeys(lost))


def _write_numeric(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    answers = definition["answers"]
    best = max(answers, key=lambda a: a["fraction"])
    text = cell_text(best["value"]) + (f"±{cell_text(best['tolerance'])}" if best["tolerance"] else "")
    row["answer"] = text + (f" {definition['unit']}" if definition.get("unit") else "")
    return ["只导出了一个答案 (only the best answer was exported)"] if len(answers) > 1 else []


def _write_manual(definition: dict[str, Any], row: dict[str, Any]) -> list[str]:
    row["answer"] = definition.get("reference_answer")
    lost = [f"{name} 未导出 ({name} not exported)" for name in ("rubric", "max_chars") if definition.get(name)]
    return lost


_ANSWER_WRITERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[str]]] = {
    "single_choice": _write_single, "multiple_choice": _write_multiple, "true_false": _write_true_false,
    "fill_blank": _write_fill_blank, "numeric": _write_numeric, "short_answer": _write_manual,
    "essay": _write_manual,
}


# -- template -----------------------------------------------------------------------------------

_INSTRUCTIONS = [
    ("列 (column)", "说明 (how to fill it in)"),
    ("题型 (type)", "必填。单选题/多选题/判断题/填空题/数值题/简答题/作文题 (required; the English type names "
                    "single_choice, multiple_choice, true_false, fill_blank, numeric, short_answer, essay also work)"),
    ("题干 (stem)", "必填。题目正文，公式可写成 \\(x^2+1\\) (required; formulas may be written as LaTeX text)"),
    ("选项A..选项H (options)", "选择题的选项，从 A 开始连续填写 (choice options, filled from A without gaps)"),
    ("答案 (answer)", "必填列。单选 B；多选 ACD 或 A,C,D；判断 对/错、正确/错误、T/F、√/×；"
                      "填空：各空用 | 分隔，同一空的多个答案用 / 分隔，如 北京/Beijing|上海"
                      "（答案含 | 或 / 时写 \\| \\/）；"
                      "数值 3.14±0.01，可带单位；简答/作文可填参考答案 (required column: single B; multiple ACD or "
                      "A,C,D; true/false 对/错; blanks separated by |, alternatives by /; numbers with optional "
                      "±tolerance and unit; a reference answer for short answers and essays)"),
    ("解析 (explanation)", "可选 (optional)"),
    ("知识点 (knowledge points)", "多个用 ; 分隔，层级用 / 或 > 分隔，如 数学/函数/二次函数 "
                                  "(several separated by ;, levels by / or >)"),
    ("难度 (difficulty)", "易/中/难，或 1-5 星（★★★ 或 3），或 0 到 1 的通过率 "
                          "(easy/medium/hard, 1-5 stars, or the proportion correct 0..1)"),
    ("分值 (points)", "默认分值，正数 (default points, a positive number)"),
    ("标签 (tags)", "多个用 , 或 ; 分隔 (several separated by , or ;)"),
    ("来源 (source)", "如 2023 年北京中考 (where the question comes from)"),
    ("编号 (id)", "可选，原系统中的编号 (optional: the id in the source system)"),
    ("", "出错的行会被跳过并报告行号和列名，其他行照常导入 (a bad row is skipped and reported by row and column; "
         "the other rows are still imported)"),
]


def xlsx_template() -> bytes:
    """An empty question list: the header row, a 题型 drop-down, and an instructions sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    _question_sheet(sheet)
    help_sheet = workbook.create_sheet("说明 (Instructions)")
    for line in _INSTRUCTIONS:
        help_sheet.append(list(line))
    help_sheet.column_dimensions["A"].width = 26
    help_sheet.column_dimensions["B"].width = 100
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    return _save(workbook)
