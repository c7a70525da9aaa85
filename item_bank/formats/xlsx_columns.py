"""The XLSX question list's vocabulary: column keys and their Chinese/English headers, the type names,
and the parsers of the free-text cells shared by reading and writing (difficulty, points, knowledge
points, tags). See :mod:`item_bank.formats.xlsx` for the layout of the list.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

LETTERS = "ABCDEFGH"
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
LEVELS = {"易": 0.85, "容易": 0.85, "简单": 0.85, "中": 0.6, "中等": 0.6, "一般": 0.6,
          "难": 0.35, "困难": 0.35, "较难": 0.35}
_STARS = {1: 0.9, 2: 0.75, 3: 0.6, 4: 0.45, 5: 0.3}


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


def header_key(value: Any) -> str | None:
    """'题型', 'Type', '题型 (type)', '题型（必填）', '*选项Ａ' -> the column key, or None."""
    text = fold(cell_text(value)).lower().replace("*", "")
    parts = [text, *re.split(r"[()\[\]]", text)]
    for part in parts:
        key = _HEADER_KEYS.get(re.sub(r"[\s_:-]", "", part))
        if key:
            return key
    return None


def split_unescaped(text: str, separator: str) -> list[str]:
    r"""Split on `separator` unless it is escaped as \| or \/ (for answers containing them)."""
    parts = re.split(rf"(?<!\\){re.escape(separator)}", text)
    return [p.replace("\\" + separator, separator) for p in parts]


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
    if text in LEVELS:
        return LEVELS[text]
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

