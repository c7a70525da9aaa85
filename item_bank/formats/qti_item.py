"""The QTI item model shared by the reader and the interaction builders.

Constants of both QTI versions, the 3.0 -> 2.1 renaming (:func:`normalise`), the parsed
response declarations, :class:`Item` (one item being read, with its conversion notes) and the
element-tree helpers used to cut a body down to stem text.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET  # noqa: S405 - serialising only; parsing goes through defusedxml
from dataclasses import dataclass, field
from typing import Any, Protocol

from item_bank.formats.common import html_to_text
from item_bank.formats.draft import MediaFile

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
        remove_matching(element, lambda e: e.tag in ("feedbackInline", "feedbackBlock"))
        text, notes = html_to_text(markup(element))
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


def markup(element: ET.Element) -> str:
    """Serialise for html_to_text; as in HTML, a line break in the source is only a space."""
    for node in element.iter():
        if node.tag != "pre":
            node.text = _SOURCE_BREAK.sub(" ", node.text) if node.text else node.text
        node.tail = _SOURCE_BREAK.sub(" ", node.tail) if node.tail else node.tail
    return ET.tostring(element, encoding="unicode")


def remove_matching(root: ET.Element, condition: Any) -> None:
    """Remove matching descendants, keeping their tail text in place."""
    for parent in list(root.iter()):
        for child in list(parent):
            if condition(child):
                replace_child(parent, child, None)


def replace_child(parent: ET.Element, child: ET.Element, new: ET.Element | None) -> None:
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



def parse_number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def scorer_only(element: ET.Element) -> bool:
    return element.tag == "rubricBlock" and "candidate" not in element.get("view", "candidate").split()

