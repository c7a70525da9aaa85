"""Aiken: single-choice questions as plain text.

    What is 2 + 2?
    A. 3
    B) 4
    ANSWER: B

Question text may span several lines; options are ``A. ...`` or ``A) ...``; ``ANSWER: X`` ends
the question. Chinese full-width variants (``A．``, ``Ａ、``, ``A）``, ``答案：B``, ``ANSWER：B``)
are accepted and reported as ``converted``. A block without an ANSWER line, or whose answer is
not one of its options, is rejected with its line; the other blocks still import.

:func:`write_aiken` writes single_choice items; ``notes`` (if given) receives a line per item
skipped (every other type) or written with a loss.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from item_bank.formats.common import MAX_ITEMS, check_size
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft
from item_bank.formats.shared import finish_outcome, label

__all__ = ["read_aiken", "write_aiken"]

_OPTION = re.compile(r"\s*([A-ZＡ-Ｚ])(?:([.)])\s+|\s*([．）、]))(.*)")
_ANSWER = re.compile(r"\s*(ANSWER|答案)\s*([:：])\s*(.*?)\s*", re.IGNORECASE)
_FULL_WIDTH_NOTE = "Chinese full-width punctuation (A．/答案：) read as Aiken"


@dataclass
class _Block:
    start: int
    question: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (letter, text)
    variant: bool = False


def read_aiken(text: str) -> ImportReport:
    """Read Aiken text; bad blocks are rejected with their line, the rest still import."""
    check_size(text.encode("utf-8"), "Aiken")
    report = ImportReport(format="aiken")
    block: _Block | None = None
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        if not line.strip():
            continue
        answer, option = _ANSWER.fullmatch(line), _OPTION.fullmatch(line)
        if answer:
            report.outcomes.append(_finish(block, answer, number, len(report.outcomes)))
            block = None
        elif option and block is not None and block.question:
            letter = unicodedata.normalize("NFKC", option.group(1))
            block.options.append((letter, option.group(4).strip()))
            block.variant = block.variant or option.group(2) is None
        else:
            if block is not None and block.options:
                report.outcomes.append(_missing_answer(block, len(report.outcomes)))
                block = None
            block = block or _Block(start=number)
            block.question.append(line.strip())
        if len(report.outcomes) > MAX_ITEMS:
            raise FormatError(f"Aiken: more than {MAX_ITEMS} questions")
    if block is not None:
        report.outcomes.append(_missing_answer(block, len(report.outcomes)))
    return report


def _identifier(index: int, start: int) -> str:
    return f"item {index + 1} (line {start})"


def _missing_answer(block: _Block, index: int) -> ImportOutcome:
    where = _identifier(index, block.start)
    return ImportOutcome(index, where, "rejected", [f"{where}: no ANSWER line after the question and its options"])


def _finish(block: _Block | None, answer: re.Match[str], number: int, index: int) -> ImportOutcome:
    if block is None:
        where = _identifier(index, number)
        return ImportOutcome(index, where, "rejected", [f"{where}: ANSWER line without a question before it"])
    where = _identifier(index, block.start)
    key = unicodedata.normalize("NFKC", answer.group(3)).strip().upper()
    letters = [letter for letter, _ in block.options]
    if key not in letters:
        problem = f"line {number}: answer {answer.group(3)!r} is not one of the options ({', '.join(letters)})"
        return ImportOutcome(index, where, "rejected", [f"{where}: {problem}"])
    variant = block.variant or answer.group(1) == "答案" or answer.group(2) == "："
    draft = ItemDraft(type="single_choice", stem="\n".join(block.question),
                      definition={"options": [{"id": letter, "text": t} for letter, t in block.options],
                                  "correct": key})
    return finish_outcome(index, where, draft, [_FULL_WIDTH_NOTE] if variant else [])


def write_aiken(drafts: Sequence[ItemDraft], notes: list[str] | None = None) -> str:
    """Aiken text for the single_choice drafts; other types are skipped (with a note)."""
    blocks: list[str] = []
    for index, draft in enumerate(drafts):
        where = f"item {index + 1}" + (f' "{draft.title}"' if draft.title else "")
        if draft.type != "single_choice":
            if notes is not None:
                notes.append(f"{where}: skipped: Aiken holds only single_choice, not {draft.type}")
            continue
        options = draft.definition["options"]
        if notes is not None and any("\n" in o["text"] for o in options):
            notes.append(f"{where}: line breaks inside options became spaces")
        lines = [line for line in draft.stem.split("\n") if line.strip()]
        lines += [f"{label(i)}. {' '.join(o['text'].split())}" for i, o in enumerate(options)]
        correct = [o["id"] for o in options].index(draft.definition["correct"])
        blocks.append("\n".join([*lines, f"ANSWER: {label(correct)}"]))
    return "\n\n".join(blocks) + "\n"
