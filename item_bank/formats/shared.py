"""What the Moodle-family formats share: the validate-then-classify step, answer grades in
percent and how they map to choice types, ``$course$/top/...`` category paths, number
formatting, and GIFT's answer-weight syntax (also used inside Moodle Cloze)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from grading import GradingError, validate_definition
from item_bank.formats.draft import ImportOutcome, ItemDraft

Definition = dict[str, Any]

class ItemRejected(Exception):
    """One item cannot be imported; the message says why (and where, when known)."""


class ItemSkipped(Exception):
    """An exporter cannot write this item at all; the message says why."""


# ------------------------------------------------------------------ shared with Moodle XML / Aiken


def label(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet style)."""
    return chr(65 + index) if index < 26 else label(index // 26 - 1) + chr(65 + index % 26)


def matching_definition(pairs: Sequence[tuple[str, str]]) -> Definition:
    """A matching definition from (prompt, answer) pairs in file order; a blank prompt is a distractor.

    Prompts are numbered 1, 2, ... and choices lettered in the order of their text: lettering them
    in the order of the prompts they answer (1 -> A, 2 -> B, ...) would let the ids spell the key.
    """
    ids = {text: label(i) for i, text in enumerate(sorted({answer for _, answer in pairs}))}
    prompts = [{"id": str(n), "text": prompt, "answer": ids[answer]}
               for n, (prompt, answer) in enumerate(((p, a) for p, a in pairs if p), start=1)]
    return {"prompts": [{"id": p["id"], "text": p["text"]} for p in prompts],
            "choices": [{"id": i, "text": t} for t, i in ids.items()],
            "correct": {p["id"]: p["answer"] for p in prompts}}


def finish_outcome(index: int, identifier: str, draft: ItemDraft, notes: list[str]) -> ImportOutcome:
    """Validate the definition with the grading registry; imported, converted (notes) or rejected."""
    try:
        draft.definition = validate_definition(draft.type, draft.definition)
    except GradingError as exc:
        return ImportOutcome(index, identifier, "rejected", [f"{identifier}: {exc.detail}"])
    unique = list(dict.fromkeys(notes))
    return ImportOutcome(index, identifier, "converted" if unique else "imported", unique, draft)


def category_path(text: str) -> tuple[str, ...]:
    """``$course$/top/数学/函数`` -> ("数学", "函数"); Moodle writes a "/" inside a name as "//"."""
    parts = [p.replace("\0", "/").strip() for p in text.strip().replace("//", "\0").split("/")]
    if parts and re.fullmatch(r"\$\w+\$", parts[0]):
        parts = parts[1:]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return tuple(p for p in parts if p)


def category_text(path: Sequence[str]) -> str:
    return "/".join(["$course$", "top", *(p.replace("/", "//") for p in path)])


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 0.01


def choice_definition(texts: list[str], percents: list[float], single: bool | None,
                      notes: list[str]) -> tuple[str, Definition]:
    """Answer grades in percent -> single_choice or multiple_choice.

    Options with a positive grade are correct; more than one makes a multiple_choice (``single``
    None = infer, as GIFT must). Grades with the exact shape of a rule here (100/k for right,
    -100 for wrong = gaokao, -100/(n-k) = proportional) import as is; others get a note.
    """
    if len(texts) > 26:
        raise ItemRejected(f"{len(texts)} options; at most 26 (A..Z) are supported")
    options = [{"id": label(i), "text": t} for i, t in enumerate(texts)]
    right = [i for i, p in enumerate(percents) if p > 0]
    if not right:
        raise ItemRejected("no option has a positive grade, so there is no correct answer")
    wrong = [p for p in percents if p <= 0]
    if len(right) == 1 and single is not False:
        if not _close(percents[right[0]], 100) or any(p < 0 for p in wrong):
            notes.append(f"grades {_grades(percents)} simplified: option {label(right[0])} is the answer")
        return "single_choice", {"options": options, "correct": label(right[0])}
    if single:
        notes.append(f"single-answer question with {len(right)} graded options became multiple_choice")
    k, n = len(right), len(texts)
    even = all(_close(percents[i], 100 / k) for i in right)
    if even and all(_close(p, -100) for p in wrong):
        rule = "gaokao"
    elif even and all(_close(p, -100 / (n - k)) for p in wrong):
        rule = "proportional"
    else:
        rule = "proportional"
        notes.append(f"grades {_grades(percents)} simplified: options graded above 0 are correct, proportional rule")
    return "multiple_choice", {"options": options, "correct": [label(i) for i in right], "partial_credit": rule}


def choice_percents(item_type: str, definition: Definition, notes: list[str]) -> list[float]:
    """The inverse of :func:`choice_definition`: a grade in percent per option."""
    ids = [o["id"] for o in definition["options"]]
    if item_type == "single_choice":
        return [100.0 if i == definition["correct"] else 0.0 for i in ids]
    key, rule = set(definition["correct"]), definition.get("partial_credit", "gaokao")
    if rule == "all_or_nothing":
        notes.append("all_or_nothing has no Moodle equivalent; written as gaokao (a wrong choice scores 0)")
    wrong = -100.0 if rule != "proportional" or len(ids) == len(key) else -100 / (len(ids) - len(key))
    if len(key) == 1:
        notes.append("a multiple_choice with one correct option reads back as single_choice")
    return [100 / len(key) if i in key else wrong for i in ids]


def _grades(percents: list[float]) -> str:
    return "/".join(format_percent(p / 100) for p in percents)


def format_percent(fraction: float) -> str:
    """0.5 -> "50", 1/3 -> "33.33333" (Moodle's precision)."""
    value = round(fraction * 100, 5)
    return str(int(value)) if value == int(value) else f"{value:.5f}".rstrip("0")


def format_number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


_ESCAPED = re.compile(r"\\([~=#{}:])|\\n(?![A-Za-z])")


def unescape(text: str) -> str:
    """GIFT escapes; ``\\n`` before a letter stays (LaTeX such as ``\\neq`` or ``\\frac``)."""
    return _ESCAPED.sub(lambda m: m.group(1) or "\n", text)


def escape(text: str) -> str:
    return re.sub(r"([~=#{}:])", r"\\\1", text)


_WEIGHT = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")


def weighted(marker: str, body: str, notes: list[str]) -> tuple[str, float]:
    """One answer after its ``=``/``~``: optional ``%50%`` grade, text, optional ``#feedback``."""
    match = _WEIGHT.match(body)
    percent = float(match.group(1)) if match else (100.0 if marker == "=" else 0.0)
    text, *feedback = re.split(r"(?<!\\)#", body[match.end():] if match else body, maxsplit=1)
    if feedback and feedback[0].strip():
        notes.append("per-answer feedback (#...) was dropped")
    return unescape(text.strip()), percent



# Scoring rules of the grading registry that no exchange format carries (pick k, ladder credit,
# negative marking, score steps, rubric criteria): an export says so instead of dropping them quietly.
SCORING_FIELDS = ("pick", "ladder", "penalty", "score_step", "criteria")


def scoring_losses(definition: Definition) -> list[str]:
    return [name for name in SCORING_FIELDS if definition.get(name) is not None]


def common_losses(draft: ItemDraft, notes: list[str], what: str) -> None:
    """Notes for draft fields the target format has no place for."""
    notes.extend(f"scoring rule {name} is not part of {what}; dropped" for name in scoring_losses(draft.definition))
    if len(draft.knowledge_points) > 1:
        notes.append(f"only the first knowledge point is kept (as the {what} category)")
    if draft.difficulty is not None or draft.source:
        notes.append(f"difficulty and source are not part of {what}")
