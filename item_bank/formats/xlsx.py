"""The XLSX question list as Chinese schools keep it: one row per question, headers in Chinese.

Columns (matched in Chinese or English, any order; "题型 (type)" style headers work too):
题型 type, 题干 stem, 选项A..选项H options, 答案 answer, 解析 explanation, 知识点 knowledge points,
难度 difficulty, 分值 points, 标签 tags, 来源 source, 编号 id. 题型, 题干 and 答案 are required.
One bad row never aborts the file: it is reported by row number and column.

The list is read in :mod:`item_bank.formats.xlsx_read` and written (with the empty template) in
:mod:`item_bank.formats.xlsx_write`; the column vocabulary and cell parsers are in
:mod:`item_bank.formats.xlsx_columns`. This module keeps the public names in one place.
"""

from __future__ import annotations

from item_bank.formats.xlsx_columns import (
    COLUMNS,
    LETTERS,
    QUESTIONS_SHEET,
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
from item_bank.formats.xlsx_read import MAX_UNCOMPRESSED, RowError, read_xlsx
from item_bank.formats.xlsx_write import write_xlsx, xlsx_template

__all__ = [
    "COLUMNS", "LETTERS", "MAX_UNCOMPRESSED", "QUESTIONS_SHEET", "REQUIRED", "TYPE_NAMES", "RowError",
    "cell_text", "difficulty", "fold", "header_key", "knowledge_points", "points", "read_xlsx", "split_tags",
    "split_unescaped", "write_xlsx", "xlsx_template",
]
