"""Interpret one QTI 3.0 / 2.1 assessment item as an ItemDraft.

A 3.0 tree is first renamed to the 2.1 vocabulary (``qti-text-entry-interaction`` ->
``textEntryInteraction``, ``base-type`` -> ``baseType``) with namespaces dropped, so everything
below speaks 2.1 names; messages name interactions the way the source file spells them.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET  # noqa: S405 - serialising only; parsing goes through defusedxml
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from grading import GradingError, validate_definition
from item_bank.formats.common import html_to_text
from item_bank.formats.draft import ImportOutcome, ItemDraft, MediaFile

NS_V3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
NS_V21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
GAP = "[[{n}]]"  # the shared gap marker (see formats/draft.py)
INLINE_KINDS = ("textEntryInteraction", "inlineChoiceInteraction")
BLOCK_KINDS = ("choiceInteraction", "matchInteraction", "orderInteraction", "extendedTextInteraction")
CLASS_PREFIX = "partial-credit-"  # class hint on an interaction, e.g. partial-credit-position
SHORT_ANSWER_CLASS = "short-answer"
_SOURCE_BREAK = re.compile(r"[ \t]*[\r\n]\s*")
MAX_CHARS_MASK = re.compile(r"^\^\[\\s\\S\]\{0,(\d+)\}\$$")
Metadata = tuple[list[str], list[tuple[str, ...]]]  # tags, knowledge points


class MediaLookup(Protocol):
    def find(self, src: str) -> MediaFile | None: ...

    def missing(self, src: str) -> str: ...


class NoMedia:
    """A lone item file carries no images."""

    def find(self, src: str) -> MediaFile | None:
        return None

    def missing(self, src: str) -> str:
        return f"image {src!r} is not included: a single item file carries no media (import the content package)"


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def kebab(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), name)


def qti_version(root: ET.Element) -> str | None:
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    name = local_name(tag)
    if name == "qti-assessment-item" or (namespace == NS_V3 and name != "assessmentItem"):
        return "3.0"
    if name == "assessmentItem" and (namespace.startswith(NS_V21[:-1]) or not namespace):
        return "2.1"
    return None


def normalise(root: ET.Element, v3: bool) -> None:
    """Drop namespaces, rename 3.0 names to 2.1 ones, turn image <object>s into <img>s."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = local_name(element.tag)
        element.tag = camel(tag[4:]) if v3 and tag.startswith("qti-") else tag
        for key in list(element.attrib):
            new = local_name(key)
            new = camel(new) if v3 and not new.startswith("data-") else new
            if new != key:
                element.attrib[new] = element.attrib.pop(key)
        if element.tag == "object" and element.get("type", "").startswith("image/"):
            alt = "".join(element.itertext()).strip()
            element.clear()
            element.tag = "img"
            element.attrib.update(src=element.get("data", ""), alt=alt)


@dataclass
class Declaration:
    identifier: str
    cardinality: str
    base_type: str
    correct: list[str]
    mapping: list[tuple[str, float, bool]]  # key, mapped value, case sensitive


@dataclass
class Item:
    root: ET.Element
    body: ET.Element
    v3: bool
    declarations: dict[str, Declaration]
    scoring: str  # match_correct | map_response | recognised | custom | none
    media: MediaLookup
    notes: list[str] = field(default_factory=list)

    def source_name(self, kind: str) -> str:
        return f"qti-{kebab(kind)}" if self.v3 else kind

    def declaration(self, interaction: ET.Element) -> Declaration:
        identifier = interaction.get("responseIdentifier", "")
        found = self.declarations.get(identifier)
        if found is None:
            raise Rejected(f"{self.source_name(interaction.tag)}: no response declaration {identifier!r}")
        return found

    def text(self, element: ET.Element) -> str:
        """Plain text of a choice/prompt element (feedback dropped); conversion notes are kept."""
        element = copy.deepcopy(element)
        _remove(element, lambda e: e.tag in ("feedbackInline", "feedbackBlock"))
        text, notes = html_to_text(_markup(element))
        self.note(*notes)
        return text

    def note(self, *notes: str) -> None:
        self.notes += [n for n in notes if n not in self.notes]

    def key(self, declaration: Declaration) -> list[str]:
        if declaration.correct:
            return declaration.correct
        mapped = [k for k, value, _ in declaration.mapping if value > 0]
        if not mapped:
            raise Rejected(f"response {declaration.identifier!r}: no correct response and no positive mapping")
        self.note(f"response {declaration.identifier!r}: no correctResponse; the key was taken from the mapping")
        return mapped

    def hint(self, interaction: ET.Element) -> str | None:
        hints = [c[len(CLASS_PREFIX):] for c in interaction.get("class", "").split() if c.startswith(CLASS_PREFIX)]
        return hints[0].replace("-", "_") if hints else None


def _markup(element: ET.Element) -> str:
    """Serialise for html_to_text; as in HTML, a line break in the source is only a space."""
    for node in element.iter():
        if node.tag != "pre":
            node.text = _SOURCE_BREAK.sub(" ", node.text) if node.text else node.text
        node.tail = _SOURCE_BREAK.sub(" ", node.tail) if node.tail else node.tail
    return ET.tostring(element, encoding="unicode")


def _remove(root: ET.Element, condition: Any) -> None:
    """Remove matching descendants, keeping their tail text in place."""
    for parent in list(root.iter()):
        for child in list(parent):
            if condition(child):
                _replace(parent, child, None)


def _replace(parent: ET.Element, child: ET.Element, new: ET.Element | None) -> None:
    index = list(parent).index(child)
    parent.remove(child)
    if new is not None:
        new.tail = child.tail
        parent.insert(index, new)
    elif child.tail:
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail


# -- the item -----------------------------------------------------------------------------------


def convert_item(index: int, root: ET.Element, version: str, where: str, media: MediaLookup,
                 metadata: Metadata) -> ImportOutcome:
    normalise(root, version == "3.0")
    identifier = root.get("identifier") or where or f"item {index + 1}"
    label = f"{identifier} ({where})" if where and where != identifier else identifier
    try:
        draft, notes = _draft(root, version == "3.0", media)
        draft.definition = validate_definition(draft.type, draft.definition)
    except Rejected as exc:
        return ImportOutcome(index, label, "rejected", [exc.reason])
    except GradingError as exc:
        return ImportOutcome(index, label, "rejected", [exc.detail])
    draft.tags, draft.knowledge_points = list(metadata[0]), list(metadata[1])
    return ImportOutcome(index, label, "converted" if notes else "imported", notes, draft)


def _draft(root: ET.Element, v3: bool, media: MediaLookup) -> tuple[ItemDraft, list[str]]:
    body = root.find("itemBody")
    if body is None:
        raise Rejected("the item has no itemBody")
    if root.find("templateProcessing") is not None or root.find("templateDeclaration") is not None:
        raise Rejected("template (cloned/randomised) items are not supported")
    item = Item(root, body, v3, _declarations(root), _scoring(root), media)
    item_type, definition = _interpret(item)
    draft = ItemDraft(type=item_type, stem=_stem(item), definition=definition)
    draft.media = _media(item)
    draft.title = root.get("title") or None
    draft.external_id = root.get("identifier") or None
    draft.explanation = _explanation(item)
    draft.default_points = _max_score(root)
    return draft, item.notes


def _declarations(root: ET.Element) -> dict[str, Declaration]:
    found: dict[str, Declaration] = {}
    for element in root.findall("responseDeclaration"):
        correct = [(v.text or "").strip() for v in element.findall("correctResponse/value")]
        mapping = [(e.get("mapKey", "").strip(), value, e.get("caseSensitive", "").lower() == "true")
                   for e in element.findall("mapping/mapEntry")
                   if (value := _number(e.get("mappedValue"))) is not None]
        identifier = element.get("identifier", "")
        found[identifier] = Declaration(identifier, element.get("cardinality", "single"),
                                        element.get("baseType", ""), [c for c in correct if c], mapping)
    return found


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _scoring(root: ET.Element) -> str:
    processing = root.find("responseProcessing")
    if processing is None:
        return "none"
    template = processing.get("template") or processing.get("templateLocation") or ""
    if template:
        name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
        return name if name in ("match_correct", "map_response") else "custom"
    if len(processing) == 0:
        return "none"
    if gap_sum(processing) is not None or numeric_rules(processing) is not None:
        return "recognised"
    return "custom"


def gap_sum(processing: ET.Element) -> list[str] | None:
    """Response ids of the per-gap rule SCORE = sum(mapResponse(R1), mapResponse(R2), ...)."""
    if len(processing) != 1 or processing[0].tag != "setOutcomeValue" or len(processing[0]) != 1:
        return None
    expression = processing[0][0]
    terms = list(expression) if expression.tag == "sum" else [expression]
    if not terms or any(t.tag != "mapResponse" for t in terms):
        return None
    return [t.get("identifier", "") for t in terms]


def numeric_rules(processing: ET.Element) -> list[dict[str, float]] | None:
    """Numeric answers of a responseIf/ElseIf chain of equal(RESPONSE, value) -> SCORE = fraction."""
    if len(processing) != 1 or processing[0].tag != "responseCondition":
        return None
    answers: list[dict[str, float]] = []
    for branch in processing[0]:
        answer = _numeric_branch(branch)
        if answer is None:
            return None
        answers.append(answer)
    return answers or None


def _numeric_branch(branch: ET.Element) -> dict[str, float] | None:
    if branch.tag not in ("responseIf", "responseElseIf") or len(branch) != 2:
        return None
    condition, action = branch
    values = [_number(e.text) for e in condition if e.tag == "baseValue"]
    score = _number(action.findtext("baseValue"))
    if condition.tag not in ("equal", "match") or len(values) != 1 or values[0] is None or score is None:
        return None
    tolerance = 0.0
    if condition.tag == "equal" and condition.get("toleranceMode", "exact") == "absolute":
        tolerance = max((_number(t) or 0.0) for t in condition.get("tolerance", "0").split() or ["0"])
    return {"value": values[0], "tolerance": tolerance, "fraction": score}


# -- interactions -------------------------------------------------------------------------------


def _interpret(item: Item) -> tuple[str, dict[str, Any]]:
    interactions = [e for e in item.body.iter() if e.tag.endswith("Interaction")]
    kinds = list(dict.fromkeys(e.tag for e in interactions))
    unsupported = [k for k in kinds if k not in INLINE_KINDS + BLOCK_KINDS]
    if unsupported:
        names = ", ".join(item.source_name(k) for k in unsupported)
        raise Rejected(f"unsupported interaction: {names}")
    if not kinds:
        raise Rejected("the item has no interaction")
    if len(kinds) > 1:
        raise Rejected("mixed interaction kinds in one item: " + ", ".join(item.source_name(k) for k in kinds))
    kind = kinds[0]
    if kind in BLOCK_KINDS and len(interactions) > 1:
        raise Rejected(f"{len(interactions)} {item.source_name(kind)}s in one item; only one is supported")
    _scoring_notes(item, kind)
    if kind != "extendedTextInteraction" and any(_scorer_only(e) for e in item.body.iter()):
        item.note("the scorer rubric was dropped (only essays and short answers keep one)")
    return _BUILDERS[kind](item, interactions)


def _scoring_notes(item: Item, kind: str) -> None:
    if item.scoring == "custom":
        item.note("custom response processing: the key was taken from correctResponse")
    elif item.scoring == "none" and kind != "extendedTextInteraction":
        item.note("no response processing: the key was taken from correctResponse")


def _options(item: Item, parent: ET.Element, tag: str) -> list[dict[str, str]]:
    return [{"id": c.get("identifier", ""), "text": item.text(c)} for c in parent.iter(tag)]


def _choice(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    interaction = interactions[0]
    declaration = item.declaration(interaction)
    options = _options(item, interaction, "simpleChoice")
    key = item.key(declaration)
    if len(options) == 2 and {o["id"].lower() for o in options} == {"true", "false"} and len(key) == 1:
        return "true_false", {"correct": key[0].lower() == "true"}
    max_choices = int(_number(interaction.get("maxChoices")) or 0) if interaction.get("maxChoices") else 1
    if max_choices == 1 and declaration.cardinality != "multiple":
        if len(key) != 1:
            raise Rejected(f"maxChoices is 1 but the correct response has {len(key)} values")
        return "single_choice", {"options": options, "correct": key[0]}
    rule = item.hint(interaction) or _choice_rule(item, declaration, key)
    return "multiple_choice", {"options": options, "correct": key, "partial_credit": rule}


def _choice_rule(item: Item, declaration: Declaration, key: list[str]) -> str:
    if item.scoring == "match_correct":
        return "all_or_nothing"
    wrong = [value for k, value, _ in declaration.mapping if k not in key]
    return "proportional" if any(-1.0 < value < 0.0 for value in wrong) else "gaokao"


def _text_entry(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    if len(interactions) == 1:
        numeric = _numeric(item, item.declaration(interactions[0]))
        if numeric is not None:
            return "numeric", numeric
    return "fill_blank", {"blanks": [_blank(item, item.declaration(e)) for e in interactions]}


def _numeric(item: Item, declaration: Declaration) -> dict[str, Any] | None:
    if declaration.base_type not in ("float", "integer") or len(declaration.correct) != 1:
        return None
    value = _number(declaration.correct[0])
    if value is None:
        return None
    processing = item.root.find("responseProcessing")
    rules = numeric_rules(processing) if processing is not None else None
    definition: dict[str, Any] = {"answers": rules or [{"value": value, "tolerance": 0.0, "fraction": 1.0}]}
    units = [(u.text or "").strip() for u in item.body.iter("span") if "unit" in u.get("class", "").split()]
    if units and units[0]:
        definition["unit"] = units[0]
    return definition


def _blank(item: Item, declaration: Declaration) -> dict[str, Any]:
    positive = [(k, v, sensitive) for k, v, sensitive in declaration.mapping if v > 0 and k]
    top = max((v for _, v, _ in positive), default=1.0)
    answers: dict[str, float] = {k: min(1.0, v / top) for k, v, _ in positive}
    for value in declaration.correct:
        answers[value] = 1.0
    if not answers:
        raise Rejected(f"response {declaration.identifier!r}: no correct response and no positive mapping")
    # QTI compares strings exactly; a mapping says per entry whether case matters.
    sensitive = all(s for _, _, s in positive) if positive else declaration.base_type == "string"
    return {"answers": [{"text": t, "fraction": f} for t, f in answers.items()], "case_sensitive": sensitive}


def _inline_choice(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    gaps = []
    for interaction in interactions:
        key = item.key(item.declaration(interaction))
        if len(key) != 1:
            raise Rejected(f"{item.source_name(interaction.tag)}: expected one correct choice, got {len(key)}")
        gaps.append({"options": _options(item, interaction, "inlineChoice"), "correct": key[0]})
    return "inline_choice", {"gaps": gaps}


def _match(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    interaction = interactions[0]
    sets = interaction.findall("simpleMatchSet")
    if len(sets) != 2:
        raise Rejected(f"{item.source_name(interaction.tag)}: expected two simpleMatchSets, found {len(sets)}")
    prompts = _options(item, sets[0], "simpleAssociableChoice")
    choices = _options(item, sets[1], "simpleAssociableChoice")
    choice_ids = {c["id"] for c in choices}
    correct: dict[str, str] = {}
    for pair in item.key(item.declaration(interaction)):
        parts = pair.split()
        if len(parts) != 2:
            raise Rejected(f"correct response {pair!r} is not a directedPair")
        source, target = parts if parts[1] in choice_ids else parts[::-1]
        if source in correct:
            raise Rejected(f"prompt {source!r} has several correct matches; only one-to-one keys are supported")
        correct[source] = target
    rule = item.hint(interaction) or ("all_or_nothing" if item.scoring == "match_correct" else "per_pair")
    return "matching", {"prompts": prompts, "choices": choices, "correct": correct, "partial_credit": rule}


def _order(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    interaction = interactions[0]
    key = item.key(item.declaration(interaction))
    rule = item.hint(interaction) or ("all_or_nothing" if item.scoring == "match_correct" else "position")
    items = _options(item, interaction, "simpleChoice")
    return "ordering", {"items": items, "correct_order": key, "partial_credit": rule}


def _extended_text(item: Item, interactions: list[ET.Element]) -> tuple[str, dict[str, Any]]:
    interaction = interactions[0]
    declaration = item.declarations.get(interaction.get("responseIdentifier", ""))
    definition: dict[str, Any] = {}
    if declaration is not None and declaration.correct:
        definition["reference_answer"] = "\n".join(declaration.correct)
    rubric = _rubric(item)
    if rubric:
        definition["rubric"] = rubric
    mask = MAX_CHARS_MASK.match(interaction.get("patternMask", ""))
    if mask:
        definition["max_chars"] = int(mask.group(1))
    short = SHORT_ANSWER_CLASS in interaction.get("class", "").split()
    return ("short_answer" if short else "essay"), definition


_BUILDERS = {
    "choiceInteraction": _choice,
    "textEntryInteraction": _text_entry,
    "inlineChoiceInteraction": _inline_choice,
    "matchInteraction": _match,
    "orderInteraction": _order,
    "extendedTextInteraction": _extended_text,
}


# -- stem, media, feedback ----------------------------------------------------------------------


def _scorer_only(element: ET.Element) -> bool:
    return element.tag == "rubricBlock" and "candidate" not in element.get("view", "candidate").split()


def _rubric(item: Item) -> str | None:
    texts = [item.text(e) for e in item.body.iter("rubricBlock") if _scorer_only(e)]
    return "\n".join(t for t in texts if t) or None


def _stem(item: Item) -> str:
    body = copy.deepcopy(item.body)
    if any(True for _ in body.iter("math")):
        item.note("MathML was converted to plain text")
    if any(e.tag in ("feedbackInline", "feedbackBlock") for e in body.iter()):
        item.note("feedback inside the item body was dropped")
    _remove(body, lambda e: e.tag in ("feedbackInline", "feedbackBlock") or _scorer_only(e)
            or (e.tag == "span" and "unit" in e.get("class", "").split()))
    parents = {child: parent for parent in body.iter() for child in parent}
    removed: set[ET.Element] = set()
    gaps = 0
    for interaction in [e for e in body.iter() if e.tag in INLINE_KINDS + BLOCK_KINDS]:
        parent = parents[interaction]
        if parent in removed:
            continue
        if interaction.tag in BLOCK_KINDS:
            _replace(parent, interaction, _prompt_block(interaction))
        elif _answer_area(parent) and parent in parents:
            _replace(parents[parent], parent, None)
            removed.add(parent)
        else:
            gap = ET.Element("gap")
            gaps += 1
            gap.text = GAP.format(n=gaps)
            _replace(parent, interaction, gap)
    text, notes = html_to_text(_markup(body))
    item.note(*notes)
    return text


def _prompt_block(interaction: ET.Element) -> ET.Element:
    block = ET.Element("div")
    prompt = interaction.find("prompt")
    if prompt is not None:
        block.text = prompt.text
        block.extend(list(prompt))
    return block


def _has_text(text: str | None) -> bool:
    return bool(text and text.strip(" \t\r\n"))  # a no-break space counts: it marks a gap-only stem line


def _answer_area(parent: ET.Element) -> bool:
    """A paragraph holding nothing but the inline interactions: an answer box, not stem text."""
    if parent.tag not in ("p", "div") or _has_text(parent.text):
        return False
    return all(child.tag in INLINE_KINDS and not _has_text(child.tail) for child in parent)


def _media(item: Item) -> list[MediaFile]:
    found: dict[str, MediaFile] = {}
    for image in item.body.iter("img"):
        src = image.get("src", "")
        name = unquote(src.replace("@@PLUGINFILE@@/", "").rsplit("/", 1)[-1])  # as html_to_text names it
        media = item.media.find(src)
        if media is None:
            item.note(item.media.missing(src))
        elif name in found and found[name].data != media.data:
            item.note(f"two different images are named {name!r}; only the first was kept")
        else:
            found[name] = MediaFile(name, media.mime_type, media.data)
    return list(found.values())


def _explanation(item: Item) -> str | None:
    feedback = item.root.findall("modalFeedback")
    preferred = [f for f in feedback if re.search(r"explan|solution|analys", f.get("identifier", ""), re.I)]
    chosen = preferred or feedback
    if len(chosen) > 1:
        item.note("several modal feedbacks were merged into the explanation")
    texts = [item.text(f) for f in chosen]
    return "\n".join(t for t in texts if t) or None


def _max_score(root: ET.Element) -> float | None:
    for outcome in root.findall("outcomeDeclaration"):
        if outcome.get("identifier") == "MAXSCORE":
            value = _number(outcome.findtext("defaultValue/value"))
            return value if value is not None and value > 0 else None
    return None
