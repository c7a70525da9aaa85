"""Writing the XLSX question list (one row per item, an export-notes sheet for losses) and the
empty template with a 题型 drop-down and an instructions sheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from grading import validate_definition
from item_bank.formats.draft import ItemDraft
from item_bank.formats.shared import scoring_losses
from item_bank.formats.xlsx_columns import COLUMNS, LETTERS, LEVELS, QUESTIONS_SHEET, TYPE_NAMES, cell_text


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
    lost += [f"评分规则 {name} 未导出 (scoring rule {name} not exported)" for name in scoring_losses(definition)]
    if draft.media:
        lost.append("图片未导出 (images are not exported; the stem keeps the references)")
    return row, lost


def _difficulty_cell(value: float | None) -> Any:
    if value is None:
        return None
    names = {v: k for k, v in reversed(list(LEVELS.items()))}
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
