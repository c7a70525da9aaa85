"""Write ItemDrafts as an IMS QTI 3.0 or 2.1 content package (imsmanifest.xml + one file per item).

Scoring uses the standard templates where one fits (match_correct, map_response). Items QTI has no
template for get a small, plain rule that :mod:`item_bank.formats.qti_read` recognises: a sum of
mapResponse per gap (several blanks/gaps), or a responseIf chain with an absolute tolerance
(numeric). The partial-credit rule of multiple_choice and ordering, which the templates cannot
carry, travels as a class on the interaction (``partial-credit-position``).
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building and serialising only
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from grading import validate_definition
from item_bank.formats.draft import ItemDraft, MediaFile
from item_bank.formats.qti_read import CLASS_PREFIX, NS_V3, NS_V21, SHORT_ANSWER_CLASS, kebab

QtiVersion = Literal["3.0", "2.1"]
_HTML = {"p", "br", "img", "span", "div"}
_TEMPLATES = {
    "3.0": "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{}.xml",
    "2.1": "http://www.imsglobal.org/question/qti_v2p1/rptemplates/{}",
}
_SCHEMA = {
    "3.0": f"{NS_V3} https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd",
    "2.1": f"{NS_V21} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1p2.xsd",
}
_MANIFEST_NS = {"3.0": "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1",
                "2.1": "http://www.imsglobal.org/xsd/imscp_v1p1"}
_RESOURCE_TYPE = {"3.0": "imsqti_item_xmlv3p0", "2.1": "imsqti_item_xmlv2p1"}
_LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
# Gap markers: the shared [[n]] form, and runs of underscores that hand-written stems use.
_GAP = r"\[\[\d+\]\]|_{3,}"
_MARKERS = re.compile(rf"(!\[[^\]]*\]\(media:[^)]+\)|{_GAP})")
_MEDIA_REF = re.compile(r"!\[([^\]]*)\]\(media:([^)]+)\)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


def write_qti(drafts: Sequence[ItemDraft], version: QtiVersion = "3.0") -> bytes:
    """A content package ZIP. Definitions are validated first (grading errors propagate)."""
    buffer = io.BytesIO()
    written: dict[str, bytes] = {}
    entries: list[tuple[str, str, list[str], ItemDraft]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        used: set[str] = set()
        for number, draft in enumerate(drafts, start=1):
            identifier = _identifier(draft, number, used)
            media = _store_media(archive, draft.media, identifier, written)
            path = f"items/{identifier}.xml"
            archive.writestr(path, item_xml(draft, identifier, version, media))
            entries.append((identifier, path, sorted(set(media.values())), draft))
        archive.writestr("imsmanifest.xml", _manifest(entries, version))
    return buffer.getvalue()


def _identifier(draft: ItemDraft, number: int, used: set[str]) -> str:
    wanted = draft.external_id or ""
    identifier = wanted if _IDENTIFIER.match(wanted) and wanted not in used else f"item-{number:04d}"
    while identifier in used:
        identifier += "-x"
    used.add(identifier)
    return identifier


def _store_media(archive: zipfile.ZipFile, media: list[MediaFile], identifier: str,
                 written: dict[str, bytes]) -> dict[str, str]:
    """Media name -> package path; a name already taken by different bytes goes in a per-item folder."""
    paths: dict[str, str] = {}
    for file in media:
        safe = re.sub(r"[^\w.\-]", "_", posixpath.basename(file.name)) or "file"
        path = f"media/{safe}"
        if written.get(path, file.data) != file.data:
            path = f"media/{identifier}/{safe}"
        if path not in written:
            archive.writestr(path, file.data)
            written[path] = file.data
        paths[file.name] = path
    return paths


# -- item XML -----------------------------------------------------------------------------------


@dataclass
class _Parts:
    declarations: list[ET.Element] = field(default_factory=list)
    body: list[ET.Element] = field(default_factory=list)
    processing: ET.Element | None = None


def _element(tag: str, text: str | None = None, /, **attrs: str) -> ET.Element:
    element = ET.Element(tag, {k: v for k, v in attrs.items() if v})
    element.text = text
    return element


def _child(parent: ET.Element, tag: str, text: str | None = None, /, **attrs: str) -> ET.Element:
    element = _element(tag, text, **attrs)
    parent.append(element)
    return element


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def item_xml(draft: ItemDraft, identifier: str, version: QtiVersion, media: dict[str, str]) -> bytes:
    definition = validate_definition(draft.type, draft.definition)
    writer = _Writer(draft, definition, version, media)
    root = _element("assessmentItem", identifier=identifier, title=draft.title or _title(draft.stem),
                    adaptive="false", timeDependent="false")
    parts = _BUILDERS[draft.type](writer)
    root.extend(parts.declarations)
    root.extend(_outcomes(draft))
    body = _child(root, "itemBody")
    body.extend(parts.body)
    if parts.processing is not None:
        root.append(parts.processing)
    if draft.explanation:
        feedback = _child(root, "modalFeedback", outcomeIdentifier="FEEDBACK", identifier="EXPLANATION",
                          showHide="hide")
        writer.content(feedback).extend(writer.paragraphs(draft.explanation))
    return _serialise(root, version, "qti")


def _title(stem: str) -> str:
    first = _MEDIA_REF.sub("", stem).strip().split("\n", 1)[0]
    return first[:60] or "item"


def _outcomes(draft: ItemDraft) -> list[ET.Element]:
    score = _element("outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float")
    _child(_child(score, "defaultValue"), "value", "0")
    outcomes = [score]
    if draft.default_points:
        maximum = _element("outcomeDeclaration", identifier="MAXSCORE", cardinality="single", baseType="float")
        _child(_child(maximum, "defaultValue"), "value", _num(draft.default_points))
        outcomes.append(maximum)
    if draft.explanation:
        outcomes.append(_element("outcomeDeclaration", identifier="FEEDBACK", cardinality="single",
                                 baseType="identifier"))
    return outcomes


def _serialise(root: ET.Element, version: QtiVersion, kind: Literal["qti", "manifest"]) -> bytes:
    if version == "3.0" and kind == "qti":
        _to_v3(root)
    if kind == "qti":
        root.set("xmlns", NS_V3 if version == "3.0" else NS_V21)
        root.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
        root.set("xsi:schemaLocation", _SCHEMA[version])
    _indent(root)
    markup: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + markup


def _indent(root: ET.Element) -> None:
    """Indent the structure but not mixed content, where added whitespace would change the text."""
    mixed = {e: list(e) for e in root if "body" in e.tag.lower() or "feedback" in e.tag.lower()}
    for element, children in mixed.items():
        for child in children:
            element.remove(child)
    ET.indent(root)
    for element, children in mixed.items():
        element.extend(children)


def _to_v3(root: ET.Element) -> None:
    for element in root.iter():
        if element.tag not in _HTML:
            element.tag = "qti-" + kebab(element.tag)
        for key in [k for k in element.attrib if k != kebab(k)]:
            element.attrib[kebab(key)] = element.attrib.pop(key)


class _Writer:
    def __init__(self, draft: ItemDraft, definition: dict[str, Any], version: QtiVersion,
                 media: dict[str, str]) -> None:
        self.draft = draft
        self.definition = definition
        self.version = version
        self.media = media

    def content(self, parent: ET.Element) -> ET.Element:
        """3.0 wraps rubric and modal feedback content in a content body."""
        return _child(parent, "contentBody") if self.version == "3.0" else parent

    def src(self, name: str) -> str:
        return "../" + quote(self.media.get(name, f"media/{name}"))

    def inline(self, parent: ET.Element, text: str, gaps: Iterator[ET.Element] | None = None) -> None:
        """Text into parent: media refs become <img>, gap markers the next interaction (if gaps given)."""
        last: ET.Element | None = parent[-1] if len(parent) else None
        for index, piece in enumerate(_MARKERS.split(text)):
            image = _MEDIA_REF.fullmatch(piece) if index % 2 else None
            if image:
                new = _element("img", src=self.src(image.group(2)))
                new.set("alt", image.group(1))
            elif index % 2 and gaps is not None:
                new = next(gaps)
            else:
                _append_text(parent, last, piece)
                continue
            parent.append(new)
            last = new

    def rich(self, parent: ET.Element, text: str) -> ET.Element:
        for number, line in enumerate(text.split("\n")):
            if number:
                _child(parent, "br")
            self.inline(parent, line)
        return parent

    def paragraphs(self, text: str, gaps: list[ET.Element] | None = None) -> list[ET.Element]:
        """Stem paragraphs; gap markers become the gaps when the counts agree, else an answer line."""
        lines = [line for line in text.split("\n") if line.strip()]
        in_place = gaps is not None and sum(len(re.findall(_GAP, _MEDIA_REF.sub("", s))) for s in lines) == len(gaps)
        remaining = iter(gaps or []) if in_place else None
        paragraphs = []
        for line in lines:
            paragraph = _element("p")
            self.inline(paragraph, line, remaining)
            if remaining is not None and re.search(_GAP, line) and not _MARKERS.sub("", line).strip():
                _append_text(paragraph, paragraph[-1] if len(paragraph) else None, "\u00a0")  # keep a gap-only line
            paragraphs.append(paragraph)
        if gaps and not in_place:
            answer = _element("p")
            for gap in gaps:
                gap.tail = " "
                answer.append(gap)
            paragraphs.append(answer)
        return paragraphs


def _append_text(parent: ET.Element, last: ET.Element | None, text: str) -> None:
    if last is None:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _declaration(identifier: str, cardinality: str, base_type: str, correct: list[str],
                 mapping: list[tuple[str, float, bool]] | None = None, **bounds: str) -> ET.Element:
    declaration = _element("responseDeclaration", identifier=identifier, cardinality=cardinality,
                           baseType=base_type)
    if correct:
        values = _child(declaration, "correctResponse")
        for value in correct:
            _child(values, "value", value)
    if mapping is not None:
        table = _child(declaration, "mapping", defaultValue="0", **bounds)
        for key, mapped, sensitive in mapping:
            _child(table, "mapEntry", mapKey=key, mappedValue=_num(mapped), caseSensitive=str(sensitive).lower())
    return declaration


def _template(writer: _Writer, name: str) -> ET.Element:
    return _element("responseProcessing", template=_TEMPLATES[writer.version].format(name))


def _gap_sum(identifiers: list[str]) -> ET.Element:
    processing = _element("responseProcessing")
    total = _child(_child(processing, "setOutcomeValue", identifier="SCORE"), "sum")
    for identifier in identifiers:
        _child(total, "mapResponse", identifier=identifier)
    return processing


def _response_ids(count: int) -> list[str]:
    return ["RESPONSE"] if count == 1 else [f"RESPONSE_{n}" for n in range(1, count + 1)]


def _choices(writer: _Writer, parent: ET.Element, tag: str, options: list[dict[str, str]],
             **attrs: str) -> ET.Element:
    for option in options:
        writer.rich(_child(parent, tag, identifier=option["id"], **attrs), option["text"])
    return parent


# -- one builder per type -----------------------------------------------------------------------


def _single_choice(w: _Writer) -> _Parts:
    d = w.definition
    interaction = _element("choiceInteraction", responseIdentifier="RESPONSE", shuffle="false", maxChoices="1")
    _choices(w, interaction, "simpleChoice", d["options"])
    return _Parts([_declaration("RESPONSE", "single", "identifier", [d["correct"]])],
                  [*w.paragraphs(w.draft.stem), interaction], _template(w, "match_correct"))


def _true_false(w: _Writer) -> _Parts:
    options = [{"id": "true", "text": "正确 (True)"}, {"id": "false", "text": "错误 (False)"}]
    interaction = _element("choiceInteraction", responseIdentifier="RESPONSE", shuffle="false", maxChoices="1")
    _choices(w, interaction, "simpleChoice", options)
    correct = "true" if w.definition["correct"] else "false"
    return _Parts([_declaration("RESPONSE", "single", "identifier", [correct])],
                  [*w.paragraphs(w.draft.stem), interaction], _template(w, "match_correct"))


def _multiple_choice(w: _Writer) -> _Parts:
    d = w.definition
    rule, key, ids = d["partial_credit"], d["correct"], [o["id"] for o in d["options"]]
    # A ladder has no QTI form; its nearest rule (a wrong choice scores 0, partial credit) keeps the
    # package importable, where a ladder hint without its table would be rejected.
    rule = "gaokao" if rule == "ladder" else rule
    interaction = _element("choiceInteraction", responseIdentifier="RESPONSE", shuffle="false", maxChoices="0",
                           **{"class": CLASS_PREFIX + rule.replace("_", "-")})
    _choices(w, interaction, "simpleChoice", d["options"])
    wrong = len(ids) - len(key)
    penalty = -1.0 if rule == "gaokao" else -1.0 / max(wrong, 1)
    mapping = [(i, 1.0 / len(key) if i in key else penalty, True) for i in ids]
    declaration = _declaration("RESPONSE", "multiple", "identifier", key,
                               None if rule == "all_or_nothing" else mapping, lowerBound="0", upperBound="1")
    processing = _template(w, "match_correct" if rule == "all_or_nothing" else "map_response")
    return _Parts([declaration], [*w.paragraphs(w.draft.stem), interaction], processing)


def _fill_blank(w: _Writer) -> _Parts:
    blanks = w.definition["blanks"]
    ids = _response_ids(len(blanks))
    declarations, gaps = [], []
    for identifier, blank in zip(ids, blanks, strict=True):
        full = [a["text"] for a in blank["answers"] if a["fraction"] == 1.0][:1]
        mapping = [(a["text"], a["fraction"], blank["case_sensitive"]) for a in blank["answers"]]
        declarations.append(_declaration(identifier, "single", "string", full, mapping))
        gaps.append(_element("textEntryInteraction", responseIdentifier=identifier))
    processing = _template(w, "map_response") if len(ids) == 1 else _gap_sum(ids)
    return _Parts(declarations, w.paragraphs(w.draft.stem, gaps), processing)


def _numeric(w: _Writer) -> _Parts:
    d = w.definition
    answers = sorted(d["answers"], key=lambda a: -a["fraction"])
    declaration = _declaration("RESPONSE", "single", "float", [_num(answers[0]["value"])])
    gap = _element("textEntryInteraction", responseIdentifier="RESPONSE")
    body = w.paragraphs(w.draft.stem, [gap])
    if d.get("unit"):
        parent = next(p for p in body if gap in list(p))
        unit = _element("span", d["unit"], **{"class": "unit"})
        parent.insert(list(parent).index(gap) + 1, unit)
        unit.tail, gap.tail = gap.tail, " "
    if len(answers) == 1 and answers[0]["tolerance"] == 0 and answers[0]["fraction"] == 1:
        return _Parts([declaration], body, _template(w, "match_correct"))
    return _Parts([declaration], body, _numeric_rules(answers))


def _numeric_rules(answers: list[dict[str, Any]]) -> ET.Element:
    processing = _element("responseProcessing")
    condition = _child(processing, "responseCondition")
    for number, answer in enumerate(answers):
        branch = _child(condition, "responseElseIf" if number else "responseIf")
        tolerance = _num(answer["tolerance"])
        equal = _child(branch, "equal", toleranceMode="absolute", tolerance=f"{tolerance} {tolerance}")
        _child(equal, "variable", identifier="RESPONSE")
        _child(equal, "baseValue", _num(answer["value"]), baseType="float")
        _child(_child(branch, "setOutcomeValue", identifier="SCORE"), "baseValue", _num(answer["fraction"]),
               baseType="float")
    return processing


def _manual(w: _Writer) -> _Parts:
    d = w.definition
    reference = [d["reference_answer"]] if d.get("reference_answer") else []
    attrs = {"class": SHORT_ANSWER_CLASS if w.draft.type == "short_answer" else ""}
    if d.get("max_chars"):
        attrs["patternMask"] = f"^[\\s\\S]{{0,{d['max_chars']}}}$"
    interaction = _element("extendedTextInteraction", responseIdentifier="RESPONSE", **attrs)
    body = [*w.paragraphs(w.draft.stem), interaction]
    if d.get("rubric"):
        rubric = _element("rubricBlock", view="scorer")
        w.content(rubric).extend(w.paragraphs(d["rubric"]))
        body.append(rubric)
    return _Parts([_declaration("RESPONSE", "single", "string", reference)], body, None)


def _matching(w: _Writer) -> _Parts:
    d = w.definition
    pairs = [f"{p} {c}" for p, c in d["correct"].items()]
    per_pair = d["partial_credit"] == "per_pair"
    mapping = [(pair, 1.0, True) for pair in pairs] if per_pair else None
    declaration = _declaration("RESPONSE", "multiple", "directedPair", pairs, mapping)
    interaction = _element("matchInteraction", responseIdentifier="RESPONSE", shuffle="false",
                           maxAssociations=str(len(d["prompts"])))
    _choices(w, _child(interaction, "simpleMatchSet"), "simpleAssociableChoice", d["prompts"], matchMax="1")
    _choices(w, _child(interaction, "simpleMatchSet"), "simpleAssociableChoice", d["choices"], matchMax="0")
    processing = _template(w, "map_response" if per_pair else "match_correct")
    return _Parts([declaration], [*w.paragraphs(w.draft.stem), interaction], processing)


def _ordering(w: _Writer) -> _Parts:
    d = w.definition
    hint = CLASS_PREFIX + d["partial_credit"].replace("_", "-")
    interaction = _element("orderInteraction", responseIdentifier="RESPONSE", shuffle="true", **{"class": hint})
    _choices(w, interaction, "simpleChoice", d["items"])
    declaration = _declaration("RESPONSE", "ordered", "identifier", d["correct_order"])
    return _Parts([declaration], [*w.paragraphs(w.draft.stem), interaction], _template(w, "match_correct"))


def _inline_choice(w: _Writer) -> _Parts:
    gaps_def = w.definition["gaps"]
    ids = _response_ids(len(gaps_def))
    declarations, gaps = [], []
    for identifier, gap in zip(ids, gaps_def, strict=True):
        mapping = None if len(ids) == 1 else [(gap["correct"], 1.0, True)]
        declarations.append(_declaration(identifier, "single", "identifier", [gap["correct"]], mapping))
        interaction = _element("inlineChoiceInteraction", responseIdentifier=identifier, shuffle="false")
        gaps.append(_choices(w, interaction, "inlineChoice", gap["options"]))
    processing = _template(w, "match_correct") if len(ids) == 1 else _gap_sum(ids)
    return _Parts(declarations, w.paragraphs(w.draft.stem, gaps), processing)


_BUILDERS: dict[str, Callable[[_Writer], _Parts]] = {
    "single_choice": _single_choice,
    "multiple_choice": _multiple_choice,
    "true_false": _true_false,
    "fill_blank": _fill_blank,
    "numeric": _numeric,
    "short_answer": _manual,
    "essay": _manual,
    "matching": _matching,
    "ordering": _ordering,
    "inline_choice": _inline_choice,
}


# -- manifest -----------------------------------------------------------------------------------


def _manifest(entries: list[tuple[str, str, list[str], ItemDraft]], version: QtiVersion) -> bytes:
    root = _element("manifest", identifier="MANIFEST-1")
    root.set("xmlns", _MANIFEST_NS[version])
    _child(root, "organizations")
    resources = _child(root, "resources")
    for identifier, path, media, draft in entries:
        resource = _child(resources, "resource", identifier=f"RES-{identifier}", type=_RESOURCE_TYPE[version],
                          href=path)
        _lom(resource, draft)
        for href in [path, *media]:
            _child(resource, "file", href=href)
    return _serialise(root, version, "manifest")


def _lom(resource: ET.Element, draft: ItemDraft) -> None:
    """Tags as LOM keywords and knowledge points as classification taxon paths."""
    if not draft.tags and not draft.knowledge_points:
        return
    lom = _child(_child(resource, "metadata"), "lom", xmlns=_LOM_NS)
    general = _child(lom, "general")
    for tag in draft.tags:
        _child(_child(general, "keyword"), "string", tag)
    if draft.knowledge_points:
        classification = _child(lom, "classification")
        for path in draft.knowledge_points:
            taxon_path = _child(classification, "taxonPath")
            for part in path:
                _child(_child(_child(taxon_path, "taxon"), "entry"), "string", part)
