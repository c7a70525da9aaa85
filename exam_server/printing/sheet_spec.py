"""From a paper (its student view) to the answer sheet's spec and question map. Pure.

Items are numbered 1..N across sections in the paper's own order (a candidate whose items were
shuffled is mapped through their variant at reading time). How each item type is answered on paper:

===================  ==================================================================
single_choice        a row of bubbles A B C ... (``single``)
multiple_choice      a row of bubbles, several may be filled (``multiple``)
true_false           two bubbles T F, printed 对 错 (``true_false``)
fill_blank           a boxed region per blank (``fill_in``; fields "13.1", "13.2")
numeric              one boxed region (``fill_in``, one blank: the number is written)
inline_choice        one gap: a row of bubbles (``single``); several gaps: a box per gap
                     where the letter is written (``fill_in``)
short_answer         an answer box of 4 ruled lines (more when ``max_chars`` is large)
essay                an answer box of 12 ruled lines (more when ``max_chars`` is large)
matching, ordering   an answer box ("answer in the box": pairs such as 1-B, or the order)
anything else        an answer box of 4 lines
===================  ==================================================================

The question map (stored on every page of :class:`models.AnswerSheet`) gives, per printed number,
``slot_id``, ``kind`` (a :class:`omr.design.QuestionKind`), ``item_type``, and for choice items
``options``: the option ids in the paper's order (label A is the first), for blanks ``blanks``."""

from __future__ import annotations

import math
from typing import Any

from omr.design import QuestionKind, QuestionSpec, SheetSpec

CHARS_PER_LINE = 30  # handwritten Chinese characters per ruled line of a subjective box
SHORT_LINES = 4
ESSAY_LINES = 12
MAX_LINES = 60


def _lines(content: dict[str, Any], default: int) -> int:
    max_chars = content.get("max_chars")
    if isinstance(max_chars, int) and max_chars > 0:
        return max(default, min(MAX_LINES, math.ceil(max_chars / CHARS_PER_LINE)))
    return default


def question_of(number: str, slot: dict[str, Any]) -> tuple[QuestionSpec, dict[str, Any]]:
    """The sheet question for one slot of a student view, and its question-map entry."""
    item_type = str(slot.get("type", ""))
    content: dict[str, Any] = slot.get("content") or {}
    slot_id = slot.get("slot_id")
    entry: dict[str, Any] = {"slot_id": slot_id, "item_type": item_type}
    raw_options, raw_gaps, raw_blanks = content.get("options"), content.get("gaps"), content.get("blanks")
    options: list[dict[str, Any]] | None = raw_options if isinstance(raw_options, list) else None
    gaps: list[dict[str, Any]] | None = raw_gaps if isinstance(raw_gaps, list) else None
    if item_type in ("single_choice", "multiple_choice") and options:
        kind = QuestionKind.SINGLE if item_type == "single_choice" else QuestionKind.MULTIPLE
        spec = QuestionSpec(number, kind, options=len(options), slot_id=slot_id)
        entry["options"] = [str(o.get("id")) for o in options]
    elif item_type == "true_false":
        spec = QuestionSpec(number, QuestionKind.TRUE_FALSE, options=2, slot_id=slot_id)
    elif item_type == "fill_blank":
        blanks = raw_blanks if isinstance(raw_blanks, int) else 1
        spec = QuestionSpec(number, QuestionKind.FILL_IN, blanks=max(1, blanks), slot_id=slot_id)
        entry["blanks"] = spec.blanks
    elif item_type == "numeric":
        spec = QuestionSpec(number, QuestionKind.FILL_IN, blanks=1, slot_id=slot_id)
        entry["blanks"] = 1
    elif item_type == "inline_choice" and gaps:
        if len(gaps) == 1:
            spec = QuestionSpec(number, QuestionKind.SINGLE, options=len(gaps[0].get("options", [])),
                                slot_id=slot_id)
            entry["options"] = [str(o.get("id")) for o in gaps[0].get("options", [])]
        else:
            spec = QuestionSpec(number, QuestionKind.FILL_IN, blanks=len(gaps), slot_id=slot_id)
            entry["blanks"] = len(gaps)
            entry["gap_options"] = [[str(o.get("id")) for o in g.get("options", [])] for g in gaps]
    elif item_type == "essay":
        spec = QuestionSpec(number, QuestionKind.SUBJECTIVE, lines=_lines(content, ESSAY_LINES), slot_id=slot_id)
    elif item_type == "matching":
        raw_prompts = content.get("prompts")
        prompts: list[Any] = raw_prompts if isinstance(raw_prompts, list) else []
        spec = QuestionSpec(number, QuestionKind.SUBJECTIVE, lines=max(2, math.ceil(len(prompts) / 4) + 1),
                            slot_id=slot_id)
    elif item_type == "ordering":
        spec = QuestionSpec(number, QuestionKind.SUBJECTIVE, lines=2, slot_id=slot_id)
    else:  # short_answer and any type a sheet has no bubbles for
        spec = QuestionSpec(number, QuestionKind.SUBJECTIVE, lines=_lines(content, SHORT_LINES), slot_id=slot_id)
    entry["kind"] = spec.kind.value
    return spec, entry


class ShuffleConflict(ValueError):
    """Items are shuffled within a section whose items need different kinds of answer space."""


def sheet_spec_from_view(view: dict[str, Any], *, title: str, exam_id: int, form: str | None,
                         admission_digits: int, paper_size: str = "A4",
                         shuffle_items: bool = False) -> tuple[SheetSpec, dict[str, Any]]:
    """The sheet spec of a paper's student view and the question map (printed number -> entry).

    With ``shuffle_items`` every candidate sees a section's items in their own order, and one
    printed sheet must fit them all: each section's items must need the same kind of answer space
    (all single choice, all essays ...; else :class:`ShuffleConflict`), and each of its rows gets
    the most options (blanks, lines) any of them needs."""
    questions: list[QuestionSpec] = []
    question_map: dict[str, Any] = {}
    number = 0
    for s_index, section in enumerate(view.get("sections", [])):
        specs: list[QuestionSpec] = []
        for slot in section.get("slots", []):
            number += 1
            spec, entry = question_of(str(number), slot)
            specs.append(spec)
            question_map[spec.number] = entry
        if shuffle_items and specs:
            specs = _fit_every_order(specs, s_index, str(section.get("title", "")))
        questions += specs
    return (SheetSpec(title=title, exam_id=exam_id, form=form, admission_digits=admission_digits,
                      questions=questions, paper_size=paper_size), question_map)


def _fit_every_order(specs: list[QuestionSpec], index: int, title: str) -> list[QuestionSpec]:
    kinds = {q.kind for q in specs}
    if len(kinds) > 1:
        names = ", ".join(sorted(k.value for k in kinds))
        raise ShuffleConflict(
            f"sections[{index}] ({title}): the exam shuffles items, and this section mixes items answered as "
            f"{names}, so no single printed answer sheet fits every candidate's order; put each kind in its own "
            "section or turn off item shuffling")
    options = max(q.options for q in specs)
    blanks = max(q.blanks for q in specs)
    lines = max(q.lines for q in specs)
    return [QuestionSpec(q.number, q.kind, options=options, blanks=blanks, lines=lines, slot_id=q.slot_id)
            for q in specs]
