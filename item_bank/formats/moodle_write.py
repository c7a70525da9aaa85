"""Writing Moodle XML from drafts: one ``<question>`` per item, a category question whenever the
knowledge point changes; ``notes`` collects items that were skipped or written with a loss.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building output only
from collections.abc import Callable, Sequence

from item_bank.formats.common import text_to_html
from item_bank.formats.draft import ItemDraft
from item_bank.formats.moodle_cloze import GAP, Definition, write_cloze
from item_bank.formats.shared import (
    ItemSkipped,
    category_text,
    choice_percents,
    common_losses,
    format_number,
    format_percent,
)


def write_moodle_xml(drafts: Sequence[ItemDraft], notes: list[str] | None = None) -> bytes:
    """Moodle XML for the drafts; ``notes`` (if given) receives a line per skipped or lossy item."""
    quiz = ET.Element("quiz")
    category: tuple[str, ...] | None = None
    for index, draft in enumerate(drafts):
        where = f"item {index + 1}" + (f' "{draft.title}"' if draft.title else "")
        lost: list[str] = []
        try:
            question = _write_question(draft, lost)
        except ItemSkipped as exc:
            if notes is not None:
                notes.append(f"{where}: skipped: {exc}")
            continue
        path = draft.knowledge_points[0] if draft.knowledge_points else ()
        if path != category:
            element = ET.SubElement(quiz, "question", type="category")
            _el(ET.SubElement(element, "category"), "text", category_text(path))
            category = path
        quiz.append(question)
        if notes is not None:
            notes.extend(f"{where}: {note}" for note in dict.fromkeys(lost))
    ET.indent(quiz)
    data: bytes = ET.tostring(quiz, encoding="utf-8", xml_declaration=True)
    return data


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _html_el(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = _el(parent, tag, format="html", **attrs)
    _el(element, "text", text_to_html(text) if text else "")
    return element


def _write_question(draft: ItemDraft, lost: list[str]) -> ET.Element:
    writer = _WRITERS.get(draft.type)
    if writer is None:
        raise ItemSkipped(f"Moodle has no core question type for {draft.type}")
    common_losses(draft, lost, "Moodle XML")
    q = ET.Element("question")
    _el(_el(q, "name"), "text", draft.title or draft.stem.split("\n", 1)[0][:60] or "question")
    text = _el(_el(q, "questiontext", format="html"), "text")
    _html_el(q, "generalfeedback", draft.explanation or "")
    if draft.default_points is not None:
        _el(q, "defaultgrade", format_number(draft.default_points))
    _el(q, "hidden", "0")
    if draft.external_id:
        _el(q, "idnumber", draft.external_id)
    stem = writer(q, draft.definition, draft.stem, lost)
    text.text = text_to_html(stem)
    questiontext = q.find("questiontext")
    for media in draft.media:
        if questiontext is not None:
            _el(questiontext, "file", base64.b64encode(media.data).decode("ascii"),
                name=media.name, path="/", encoding="base64")
    if draft.tags:
        tags = _el(q, "tags")
        for tag in draft.tags:
            _el(_el(tags, "tag"), "text", tag)
    return q


Writer = Callable[[ET.Element, Definition, str, list[str]], str]


def _answer(q: ET.Element, percent: float, text: str, html: bool = True) -> ET.Element:
    if html:
        return _html_el(q, "answer", text, fraction=format_percent(percent / 100))
    answer = _el(q, "answer", fraction=format_percent(percent / 100), format="moodle_auto_format")
    _el(answer, "text", text)
    return answer


def _write_choice(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    item_type = "single_choice" if isinstance(definition["correct"], str) else "multiple_choice"
    q.set("type", "multichoice")
    _el(q, "single", "true" if item_type == "single_choice" else "false")
    _el(q, "shuffleanswers", "true")
    _el(q, "answernumbering", "ABCD")
    for option, percent in zip(definition["options"], choice_percents(item_type, definition, lost), strict=True):
        _answer(q, percent, option["text"])
    return stem


def _write_true_false(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    q.set("type", "truefalse")
    _answer(q, 100 if definition["correct"] else 0, "true", html=False)
    _answer(q, 0 if definition["correct"] else 100, "false", html=False)
    return stem


def _write_fill_blank(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    blanks = definition["blanks"]
    if len(blanks) > 1:
        q.set("type", "multianswer")
        return write_cloze(stem, blanks, lost)
    q.set("type", "shortanswer")
    _el(q, "usecase", "1" if blanks[0].get("case_sensitive") else "0")
    for answer in blanks[0]["answers"]:
        _answer(q, answer["fraction"] * 100, answer["text"], html=False)
    return stem


def _write_numeric(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    q.set("type", "numerical")
    for spec in definition["answers"]:
        answer = _answer(q, spec.get("fraction", 1.0) * 100, format_number(spec["value"]), html=False)
        _el(answer, "tolerance", format_number(spec.get("tolerance", 0.0)))
    if definition.get("unit"):
        unit = _el(_el(q, "units"), "unit")
        _el(unit, "multiplier", "1")
        _el(unit, "unit_name", definition["unit"])
    _el(q, "unitgradingtype", "0")
    _el(q, "showunits", "0" if definition.get("unit") else "3")
    return stem


def _write_essay(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    q.set("type", "essay")
    if definition.get("max_chars"):
        lost.append("max_chars has no Moodle equivalent (Moodle limits words)")
    for tag, value in (("responseformat", "editor"), ("responserequired", "1"), ("responsefieldlines", "10"),
                       ("attachments", "0"), ("attachmentsrequired", "0")):
        _el(q, tag, value)
    rubric = f"Rubric: {definition['rubric']}" if definition.get("rubric") else ""
    _html_el(q, "graderinfo", "\n".join(p for p in (definition.get("reference_answer", ""), rubric) if p))
    _html_el(q, "responsetemplate", "")
    return stem


def _write_short_answer(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    lost.append("short_answer (manually graded) written as a Moodle essay")
    return _write_essay(q, definition, stem, lost)


def _write_matching(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    q.set("type", "matching")
    if definition.get("partial_credit") == "all_or_nothing":
        lost.append("Moodle matching is scored per pair; all_or_nothing dropped")
    _el(q, "shuffleanswers", "true")
    texts = {c["id"]: c["text"] for c in definition["choices"]}
    pairs = [(p["text"], texts[definition["correct"][p["id"]]]) for p in definition["prompts"]]
    used = set(definition["correct"].values())
    for prompt, choice in pairs + [("", c["text"]) for c in definition["choices"] if c["id"] not in used]:
        sub = _html_el(q, "subquestion", prompt)
        _el(_el(sub, "answer"), "text", choice)
    return stem


def _write_inline_choice(q: ET.Element, definition: Definition, stem: str, lost: list[str]) -> str:
    """As a "gapselect": one group of choices per distinct option list; [[n]] names the right choice."""
    q.set("type", "gapselect")
    _el(q, "shuffleanswers", "0")
    groups: dict[tuple[str, ...], int] = {}  # option texts -> number of its first choice
    markers: list[str] = []
    for gap in definition["gaps"]:
        texts = tuple(o["text"] for o in gap["options"])
        if texts not in groups:
            groups[texts] = len(q.findall("selectoption")) + 1
            for text in texts:
                option = _el(q, "selectoption")
                _el(option, "text", text)
                _el(option, "group", str(len(groups)))
        number = groups[texts] + [o["id"] for o in gap["options"]].index(gap["correct"])
        markers.append(f"[[{number}]]")
    if len(groups) > 20:
        raise ItemSkipped("more than 20 distinct drop-down lists (Moodle's gapselect limit)")
    seen: set[int] = set()

    def renumber(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if not 1 <= index <= len(markers) or index in seen:
            return match.group(0)
        seen.add(index)
        return markers[index - 1]

    text = GAP.sub(renumber, stem)
    if len(seen) < len(markers):
        lost.append("gaps without a [[n]] marker in the stem were appended to its end")
    return text + "".join(" " + m for i, m in enumerate(markers, 1) if i not in seen)


_WRITERS: dict[str, Writer] = {
    "single_choice": _write_choice, "multiple_choice": _write_choice, "true_false": _write_true_false,
    "fill_blank": _write_fill_blank, "numeric": _write_numeric, "essay": _write_essay,
    "short_answer": _write_short_answer, "matching": _write_matching, "inline_choice": _write_inline_choice,
}
