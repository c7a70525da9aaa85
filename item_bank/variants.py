"""Per-candidate variants: items shuffled within sections and options within items, seeded and
reproducible. Ordering entries and matching choices are shuffled for every attempt even when the
exam does not shuffle options, because their authored order reveals the key. Responses always
carry the canonical option ids, so scoring needs no mapping; what changes per candidate is the
order and the letter (``label``) shown beside each option. A paper answer sheet is read in labels,
so :func:`label_map` turns a candidate's labels back into ids.

Pure functions over the student view built by :func:`item_bank.papers.paper_student_view`.
"""

import copy
import random
import string
from typing import Any

# Content lists that may be reordered for display without changing meaning, shuffled when the exam
# shuffles options. Labels (A, B, ...) go on those a paper answer sheet refers to.
_OPTION_LISTS = ("options", "choices")
# Lists whose authored order gives the key away (authors write ordering entries in key order and
# importers name matching choices in prompt order): shuffled for every attempt, whatever the exam says.
_ALWAYS_SHUFFLED: dict[str, tuple[str, ...]] = {"ordering": ("items",), "matching": ("choices",)}


def variant_view(view: dict[str, Any], seed: int, shuffle_items: bool, shuffle_options: bool) -> dict[str, Any]:
    """The candidate's own arrangement of a paper view (the input is left untouched)."""
    result = copy.deepcopy(view)
    for index, section in enumerate(result["sections"]):
        if shuffle_items:
            random.Random(f"{seed}:section:{index}").shuffle(section["slots"])
        for slot in section["slots"]:
            _arrange_slot(slot, seed, shuffle_options)
    return result


def _arrange_slot(slot: dict[str, Any], seed: int, shuffle_options: bool) -> None:
    content = slot.get("content") or {}
    rng = random.Random(f"{seed}:slot:{slot['slot_id']}")
    always = _ALWAYS_SHUFFLED.get(str(slot.get("type")), ())
    for key in (*_OPTION_LISTS, "items"):
        entries = content.get(key)
        if not isinstance(entries, list):
            continue
        if key in always or (shuffle_options and key in _OPTION_LISTS):
            rng.shuffle(entries)
        if key in _OPTION_LISTS:
            _label(entries)
    for gap in content.get("gaps", []) if isinstance(content.get("gaps"), list) else []:
        if shuffle_options:
            rng.shuffle(gap["options"])
        _label(gap["options"])


def _label(options: list[dict[str, Any]]) -> None:
    for position, option in enumerate(options):
        option["label"] = string.ascii_uppercase[position] if position < 26 else str(position + 1)


def label_map(view: dict[str, Any]) -> dict[int, dict[str, str]]:
    """slot id -> {shown label: canonical option id}, for reading a candidate's answer sheet."""
    mapping: dict[int, dict[str, str]] = {}
    for section in view["sections"]:
        for slot in section["slots"]:
            options = (slot.get("content") or {}).get("options")
            if isinstance(options, list):
                mapping[slot["slot_id"]] = {o.get("label", o["id"]): o["id"] for o in options}
    return mapping
