"""Moodle XML question files: read into :class:`ImportReport`, write from drafts.

Stem conventions shared with the GIFT and Aiken modules: gaps of multi-gap items
(``inline_choice``, a Cloze ``fill_blank``) are marked ``[[1]]``, ``[[2]]``, ... in gap order;
a one-blank ``fill_blank`` (Moodle "shortanswer") has no marker. Option ids are A, B, C, ...;
matching prompts are 1, 2, ... and its choices A, B, ....

Export cannot represent everything: pass ``notes`` (a list) to :func:`write_moodle_xml` to
collect one line per item that was skipped (``ordering``, no core Moodle type) or exported
with a loss (``short_answer`` becomes an essay, extra knowledge points are dropped, ...).
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building output only; parsing uses common.parse_xml
from collections.abc import Callable, Sequence
from typing import Any

from item_bank.formats.common import MAX_ITEMS, html_to_text, parse_xml, text_to_html
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft, MediaFile
from item_bank.formats.shared import (
    ItemRejected,
    ItemSkipped,
    category_path,
    category_text,
    choice_definition,
    choice_percents,
    common_losses,
    finish_outcome,
    format_number,
    format_percent,
    label,
    weighted,
)

__all__ = ["read_moodle_xml", "write_moodle_xml"]

Definition = dict[str, Any]


# ---------------------------------------------------------------- reading


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
    prompts: list[dict[str, str]] = []
    choices: dict[str, str] = {}  # text -> id
    correct: dict[str, str] = {}
    for sub in q.findall("subquestion"):
        answer = (sub.findtext("answer/text") or "").strip()
        if not answer:
            raise ItemRejected(f"subquestion {len(prompts) + 1} has no answer")
        choice_id = choices.setdefault(answer, label(len(choices)))
        prompt = _rich(sub, notes)
        if prompt:
            prompts.append({"id": str(len(prompts) + 1), "text": prompt})
            correct[prompts[-1]["id"]] = choice_id
    definition = {"prompts": prompts, "choices": [{"id": i, "text": t} for t, i in choices.items()],
                  "correct": correct}
    return "matching", _stem(q, notes), definition


_GAP = re.compile(r"\[\[(\d+)\]\]")


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

    stem = _GAP.sub(gap, _stem(q, notes))
    if not gaps:
        raise ItemRejected("no gaps [[n]] in the question text")
    return "inline_choice", stem, {"gaps": gaps}


def _read_multianswer(q: ET.Element, notes: list[str]) -> tuple[str, str, Definition]:
    return _read_cloze(_stem(q, notes), notes)


_CLOZE = re.compile(r"\{(\d*):([A-Za-z_]+):((?:\\.|[^\\}])*)\}")
_CLOZE_SA = {"SHORTANSWER": False, "SA": False, "MW": False, "SHORTANSWER_C": True, "SAC": True, "MWC": True}
_CLOZE_MC = {"MULTICHOICE", "MC", "MULTICHOICE_V", "MCV", "MULTICHOICE_H", "MCH", "MULTICHOICE_S", "MCS",
             "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS"}


def _read_cloze(text: str, notes: list[str]) -> tuple[str, str, Definition]:
    """Moodle Cloze text -> fill_blank (all gaps short answer) or inline_choice (all multichoice)."""
    gaps: list[tuple[str, str, list[tuple[str, float]]]] = []

    def gap(match: re.Match[str]) -> str:
        answers = [weighted(p[:1] if p[:1] == "=" else "~", p[1:] if p[:1] == "=" else p, notes)
                   for p in re.split(r"(?<!\\)~", match.group(3)) if p.strip()]
        gaps.append((match.group(1) or "1", match.group(2).upper(), answers))
        return f"[[{len(gaps)}]]"

    stem = _CLOZE.sub(gap, text)
    kinds = {kind for _, kind, _ in gaps}
    if not gaps:
        raise ItemRejected("Cloze question without {n:TYPE:answers} gaps")
    if len({weight for weight, _, _ in gaps}) > 1:
        notes.append("Cloze gap weights were dropped; every gap counts the same")
    notes.append("Moodle Cloze (multianswer) imported; gaps are marked [[1]], [[2]], ... in the stem")
    if kinds <= set(_CLOZE_SA):
        blanks = [{"answers": [{"text": t, "fraction": p / 100} for t, p in answers if p > 0],
                   "case_sensitive": _CLOZE_SA[kind]} for _, kind, answers in gaps]
        return "fill_blank", stem, {"blanks": blanks}
    if kinds <= _CLOZE_MC:
        return "inline_choice", stem, {"gaps": [_cloze_choice(n, a, notes) for n, (_, _, a) in enumerate(gaps, 1)]}
    raise ItemRejected(f"Cloze gap types {', '.join(sorted(kinds))}: only all-short-answer (fill_blank) or "
                       "all-multichoice (inline_choice) Cloze questions can be imported")


def _cloze_choice(number: int, answers: list[tuple[str, float]], notes: list[str]) -> Definition:
    full = [i for i, (_, p) in enumerate(answers) if abs(p - 100) < 0.01]
    if not full or len(full) > 1 or len(answers) > 26:
        raise ItemRejected(f"Cloze gap {number}: needs one 100% answer among at most 26")
    if any(0 < p < 100 for _, p in answers):
        notes.append(f"Cloze gap {number}: partial credit dropped")
    return {"options": [{"id": label(i), "text": t} for i, (t, _) in enumerate(answers)], "correct": label(full[0])}


def _write_cloze(stem: str, blanks: list[Definition], notes: list[str]) -> str:
    """A multi-blank fill_blank as Cloze text: each ``[[n]]`` becomes ``{1:SA:=...}``."""
    def code(blank: Definition) -> str:
        answers = "~".join(("=" if a["fraction"] == 1 else f"%{format_percent(a['fraction'])}%")
                           + re.sub(r"([}~#])", r"\\\1", a["text"]) for a in blank["answers"])
        return f"{{1:{'SAC' if blank.get('case_sensitive') else 'SA'}:{answers}}}"

    used: set[int] = set()

    def marker(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(blanks) or number in used:
            return match.group(0)
        used.add(number)
        return code(blanks[number - 1])

    text = _GAP.sub(marker, stem)
    missing = [b for n, b in enumerate(blanks, 1) if n not in used]
    if missing:
        notes.append("blanks without a [[n]] marker in the stem were appended to its end")
    return text + "".join(" " + code(b) for b in missing)


_READERS: dict[str, Reader] = {
    "multichoice": _read_multichoice, "truefalse": _read_truefalse, "shortanswer": _read_shortanswer,
    "numerical": _read_numerical, "essay": _read_essay, "matching": _read_matching,
    "ddwtos": _read_gaps, "gapselect": _read_gaps, "multianswer": _read_multianswer,
}


# ---------------------------------------------------------------- writing


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
        return _write_cloze(stem, blanks, lost)
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

    text = _GAP.sub(renumber, stem)
    if len(seen) < len(markers):
        lost.append("gaps without a [[n]] marker in the stem were appended to its end")
    return text + "".join(" " + m for i, m in enumerate(markers, 1) if i not in seen)


_WRITERS: dict[str, Writer] = {
    "single_choice": _write_choice, "multiple_choice": _write_choice, "true_false": _write_true_false,
    "fill_blank": _write_fill_blank, "numeric": _write_numeric, "essay": _write_essay,
    "short_answer": _write_short_answer, "matching": _write_matching, "inline_choice": _write_inline_choice,
}
