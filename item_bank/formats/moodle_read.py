"""Reading Moodle XML: one ``<quiz>`` into an :class:`ImportReport`, one outcome per question.

Categories become knowledge points; each supported question type has a reader that returns the
item type, the stem and the definition, noting anything simplified on the way.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import xml.etree.ElementTree as ET  # noqa: S405 - element types only; parsing uses common.parse_xml
from collections.abc import Callable

from item_bank.formats.common import MAX_ITEMS, html_to_text, parse_xml
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft, MediaFile
from item_bank.formats.moodle_cloze import GAP, Definition, read_cloze
from item_bank.formats.shared import (
    ItemRejected,
    category_path,
    choice_definition,
    finish_outcome,
    label,
    matching_definition,
)


def read_moodle_xml(data: bytes) -> ImportReport:
    """Read a Moodle XML ``<quiz>``; raises FormatError only if the file as a whole is unreadable."""
    root = parse_xml(data, "Moodle XML")
    if root.tag != "quiz":
        raise FormatError(f"Moodle XML: the root element is <{root.tag}>, expected <quiz>")
    report = ImportReport(format="moodle_xml")
    category: tuple[str, ...] = ()
    for question in root.iter("question"):
        if question.get("type") == "category":
            category = category_path(question.findtext("category/text") or "")
            continue
        if len(report.outcomes) >= MAX_ITEMS:
            raise FormatError(f"Moodle XML: more than {MAX_ITEMS} questions")
        report.outcomes.append(_read_question(question, len(report.outcomes), category))
    return report


def _read_question(q: ET.Element, index: int, category: tuple[str, ...]) -> ImportOutcome:
    name = (q.findtext("name/text") or "").strip()
    identifier = f'question {index + 1} "{name}"' if name else f"question {index + 1}"
    notes: list[str] = []
    try:
        item_type, stem, definition = _reader(q.get("type"))(q, notes)
        draft = ItemDraft(type=item_type, stem=stem, definition=definition, title=name or None,
                          explanation=_rich(q.find("generalfeedback"), notes) or None,
                          knowledge_points=[category] if category else [],
                          tags=[t for t in ((e.text or "").strip() for e in q.findall("tags/tag/text")) if t],
                          default_points=_float(q.findtext("defaultgrade"), notes),
                          external_id=(q.findtext("idnumber") or "").strip() or None, media=_media(q))
    except ItemRejected as exc:
        return ImportOutcome(index, identifier, "rejected", [f"{identifier}: {exc}"])
    return finish_outcome(index, identifier, draft, notes)


Reader = Callable[[ET.Element, list[str]], tuple[str, str, Definition]]


def _reader(qtype: str | None) -> Reader:
    if qtype == "description":
        raise ItemRejected("a Moodle 'description' is not a question")
    if qtype is None:
        raise ItemRejected("<question> has no type attribute")
    if qtype not in _READERS:
        raise ItemRejected(f"Moodle question type {qtype!r} is not supported")
    return _READERS[qtype]


def _rich(el: ET.Element | None, notes: list[str]) -> str:
    """The text of a Moodle text field, HTML reduced to plain text with media references."""
    if el is None:
        return ""
    raw = el.findtext("text") or ""
    if el.get("format", "html") in ("html", "moodle_auto_format"):
        text, lost = html_to_text(raw)
        notes.extend(lost)
        return text
    return raw.strip()


def _stem(q: ET.Element, notes: list[str]) -> str:
    return _rich(q.find("questiontext"), notes)


def _float(text: str | None, notes: list[str], what: str = "defaultgrade") -> float | None:
    try:
        return float(text) if text is not None and text.strip() else None
    except ValueError:
        notes.append(f"{what} {text!r} is not a number; ignored")
        return None


def _media(q: ET.Element) -> list[MediaFile]:
    files: dict[str, MediaFile] = {}
    for el in q.iter("file"):
        name = el.get("name", "")
        try:
            data = base64.b64decode("".join((el.text or "").split()), validate=True)
        except binascii.Error:
            raise ItemRejected(f"embedded file {name!r} is not valid base64") from None
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files.setdefault(name, MediaFile(name=name, mime_type=mime, data=data))
    return list(files.values())


def _percent(answer: ET.Element) -> float:
    try:
        return float(answer.get("fraction", "0"))
    except ValueError:
        raise ItemRejected(f"answer fraction {answer.get('fraction')!r} is not a number") from None


def _feedback_note(answers: list[ET.Element], notes: list[str]) -> None:
    if any((a.findtext("feedback/text") or "").strip() for a in answers):
        notes.append("per-answer feedback was dropped")


def _bool(text: str | None, default: bool) -> bool:
    return default if text is None else text.strip().lower() in ("true", "1")


def _read_multichoice(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    answers = q.findall("answer")
    _feedback_note(answers, notes)
    texts = [_rich(a, notes) for a in answers]
    item_type, definition = choice_definition(texts, [_percent(a) for a in answers],
                                              _bool(q.findtext("single"), True), notes)
    return item_type, _stem(q, notes), definition


def _read_truefalse(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    answers = q.findall("answer")
    _feedback_note(answers, notes)
    best = max(answers, key=_percent, default=None)
    text = (best.findtext("text") or "").strip().lower() if best is not None else ""
    if text not in ("true", "false"):
        raise ItemRejected("true/false question without a correct 'true' or 'false' answer")
    return "true_false", _stem(q, notes), {"correct": text == "true"}


def _read_shortanswer(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    notes.append("Moodle shortanswer imported as fill_blank with one blank")
    answers = q.findall("answer")
    _feedback_note(answers, notes)
    kept = [{"text": (a.findtext("text") or "").strip(), "fraction": _percent(a) / 100}
            for a in answers if _percent(a) > 0]
    if len(kept) < len(answers):
        notes.append("answers graded 0% (feedback-only) were dropped")
    blank = {"answers": kept, "case_sensitive": _bool(q.findtext("usecase"), False)}
    return "fill_blank", _stem(q, notes), {"blanks": [blank]}


def _read_numerical(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    answers = []
    for a in q.findall("answer"):
        text = (a.findtext("text") or "").strip()
        if _percent(a) <= 0 or text == "*":
            notes.append("catch-all or 0% answers were dropped")
            continue
        try:
            value, tolerance = float(text), float(a.findtext("tolerance") or 0)
        except ValueError:
            raise ItemRejected(f"numerical answer {text!r} is not a number") from None
        answers.append({"value": value, "tolerance": abs(tolerance), "fraction": _percent(a) / 100})
    _feedback_note(q.findall("answer"), notes)
    definition: Definition = {"answers": answers}
    units = [(u.findtext("unit_name") or "").strip() for u in q.findall("units/unit")
             if _float(u.findtext("multiplier"), notes, "unit multiplier") == 1.0]
    if units and units[0]:
        definition["unit"] = units[0]
    if len(q.findall("units/unit")) > (1 if "unit" in definition else 0):
        notes.append("only the unit with multiplier 1 was kept")
    return "numeric", _stem(q, notes), definition


_RUBRIC = re.compile(r"^(?:Rubric|评分标准)\s*[:：]\s*", re.IGNORECASE | re.MULTILINE)


def _read_essay(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    info = _rich(q.find("graderinfo"), notes)
    match = _RUBRIC.search(info)
    reference, rubric = (info[: match.start()].strip(), info[match.end():].strip()) if match else (info, "")
    definition = {key: value for key, value in (("reference_answer", reference), ("rubric", rubric)) if value}
    return "essay", _stem(q, notes), definition


def _read_matching(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    pairs: list[tuple[str, str]] = []
    for sub in q.findall("subquestion"):
        answer = (sub.findtext("answer/text") or "").strip()
        if not answer:
            raise ItemRejected(f"subquestion {len(pairs) + 1} has no answer")
        pairs.append((_rich(sub, notes), answer))
    return "matching", _stem(q, notes), matching_definition(pairs)



def _read_gaps(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    tag = "dragbox" if q.get("type") == "ddwtos" else "selectoption"
    if tag == "dragbox":
        notes.append("Moodle drag-and-drop gaps (ddwtos) became drop-down lists")
    choices = [((el.findtext("text") or "").strip(), (el.findtext("group") or "1").strip()) for el in q.findall(tag)]
    gaps: list[Definition] = []

    def gap(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(choices):
            raise ItemRejected(f"gap [[{number}]] refers to choice {number}, which does not exist")
        group = [i for i, (_, g) in enumerate(choices) if g == choices[number - 1][1]]
        if len(group) < 2 or len(group) > 26:
            raise ItemRejected(f"gap [[{number}]]: its group has {len(group)} choice(s); a drop-down needs 2..26")
        options = [{"id": label(j), "text": choices[i][0]} for j, i in enumerate(group)]
        gaps.append({"options": options, "correct": label(group.index(number - 1))})
        return f"[[{len(gaps)}]]"

    stem = GAP.sub(gap, _stem(q, notes))
    if not gaps:
        raise ItemRejected("no gaps [[n]] in the question text")
    return "inline_choice", stem, {"gaps": gaps}


def _read_multianswer(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    return read_cloze(_stem(q, notes), notes)



_READERS: dict[str, Reader] = {
    "multichoice": _read_multichoice, "truefalse": _read_truefalse, "shortanswer": _read_shortanswer,
    "numerical": _read_numerical, "essay": _read_essay, "matching": _read_matching,
    "ddwtos": _read_gaps, "gapselect": _read_gaps, "multianswer": _read_multianswer,
}
