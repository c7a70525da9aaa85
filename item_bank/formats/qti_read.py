"""Interpret one QTI 3.0 / 2.1 assessment item as an ItemDraft.

A 3.0 tree is first renamed to the 2.1 vocabulary (``qti-text-entry-interaction`` ->
``textEntryInteraction``, ``base-type`` -> ``baseType``) with namespaces dropped, so everything
below speaks 2.1 names; messages name interactions the way the source file spells them.

The item model lives in :mod:`item_bank.formats.qti_item` and the per-interaction builders in
:mod:`item_bank.formats.qti_interactions`; this module turns one item into a draft (declarations,
scoring, stem, media, feedback) and keeps the names other modules import from here.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET  # noqa: S405 - serialising only; parsing goes through defusedxml
from urllib.parse import unquote

from grading import GradingError, validate_definition
from item_bank.formats.common import html_to_text
from item_bank.formats.draft import ImportOutcome, ItemDraft, MediaFile
from item_bank.formats.qti_interactions import gap_sum, interpret, numeric_rules
from item_bank.formats.qti_item import (
    BLOCK_KINDS,
    CLASS_PREFIX,
    GAP,
    INLINE_KINDS,
    MAX_CHARS_MASK,
    NS_V3,
    NS_V21,
    SHORT_ANSWER_CLASS,
    Declaration,
    Item,
    MediaLookup,
    Metadata,
    NoMedia,
    Rejected,
    camel,
    kebab,
    local_name,
    markup,
    normalise,
    parse_number,
    qti_version,
    remove_matching,
    replace_child,
    scorer_only,
)

__all__ = [
    "BLOCK_KINDS", "CLASS_PREFIX", "GAP", "INLINE_KINDS", "MAX_CHARS_MASK", "NS_V21", "NS_V3",
    "SHORT_ANSWER_CLASS", "Declaration", "Item", "MediaLookup", "Metadata", "NoMedia", "Rejected", "camel",
    "convert_item", "gap_sum", "kebab", "local_name", "normalise", "numeric_rules", "qti_version",
]


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
    item_type, definition = interpret(item)
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
                   if (value := parse_number(e.get("mappedValue"))) is not None]
        identifier = element.get("identifier", "")
        found[identifier] = Declaration(identifier, element.get("cardinality", "single"),
                                        element.get("baseType", ""), [c for c in correct if c], mapping)
    return found



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


def _stem(item: Item) -> str:
    body = copy.deepcopy(item.body)
    if any(True for _ in body.iter("math")):
        item.note("MathML was converted to plain text")
    if any(e.tag in ("feedbackInline", "feedbackBlock") for e in body.iter()):
        item.note("feedback inside the item body was dropped")
    remove_matching(body, lambda e: e.tag in ("feedbackInline", "feedbackBlock") or scorer_only(e)
            or (e.tag == "span" and "unit" in e.get("class", "").split()))
    parents = {child: parent for parent in body.iter() for child in parent}
    removed: set[ET.Element] = set()
    gaps = 0
    for interaction in [e for e in body.iter() if e.tag in INLINE_KINDS + BLOCK_KINDS]:
        parent = parents[interaction]
        if parent in removed:
            continue
        if interaction.tag in BLOCK_KINDS:
            replace_child(parent, interaction, _prompt_block(interaction))
        elif _answer_area(parent) and parent in parents:
            replace_child(parents[parent], parent, None)
            removed.add(parent)
        else:
            gap = ET.Element("gap")
            gaps += 1
            gap.text = GAP.format(n=gaps)
            replace_child(parent, interaction, gap)
    text, notes = html_to_text(markup(body))
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
            value = parse_number(outcome.findtext("defaultValue/value"))
            return value if value is not None and value > 0 else None
    return None
