"""Server-issued ids for the entries whose authored ids tend to spell the key.

Students receive entry ids (responses are in canonical ids, so scoring needs no mapping). For
ordering items and matching choices, authors and other systems usually number entries in key
order (``a, b, c`` for the order ``a, b, c``; ``c1`` for the choice matching prompt ``p1``), so the
ids would hand the key to the candidate however the entries are shuffled. When an item is stored,
such entries get random ids (``k`` + 8 hex digits) and the key is rewritten to match; ids the server
issued earlier are kept, so editing an item does not change them.

Choice-type options (A/B/C/D) are not renamed: every option has a letter, so a letter says nothing
about which one is right.
"""

import re
import secrets
from collections.abc import Callable
from typing import Any

ISSUED = re.compile(r"^k[0-9a-f]{8}$")


def _new_id(taken: set[str]) -> str:
    while True:
        candidate = "k" + secrets.token_hex(4)
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _rename(entries: list[dict[str, Any]], taken: set[str]) -> dict[str, str]:
    """Give each entry without a server-issued id a new one; returns old id -> new id."""
    renamed: dict[str, str] = {}
    for entry in entries:
        old = str(entry["id"])
        if not ISSUED.match(old):
            renamed[old] = entry["id"] = _new_id(taken)
    return renamed


def _ordering(definition: dict[str, Any]) -> dict[str, Any]:
    taken = {str(e["id"]) for e in definition["items"]}
    renamed = _rename(definition["items"], taken)
    definition["correct_order"] = [renamed.get(i, i) for i in definition["correct_order"]]
    return definition


def _matching(definition: dict[str, Any]) -> dict[str, Any]:
    taken = {str(e["id"]) for e in definition["choices"]}
    renamed = _rename(definition["choices"], taken)
    definition["correct"] = {p: renamed.get(c, c) for p, c in definition["correct"].items()}
    return definition


_BY_TYPE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"ordering": _ordering, "matching": _matching}


def issue_opaque_ids(item_type: str, definition: dict[str, Any]) -> dict[str, Any]:
    """The definition (validated, a fresh dict) with key-revealing entry ids replaced."""
    rename = _BY_TYPE.get(item_type)
    return rename(definition) if rename else definition
