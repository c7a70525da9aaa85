"""QTI interactions -> item types: one builder per interaction kind, and the recognisers of the
response-processing rules the writer produces (per-gap sums, numeric answer chains).

Everything here speaks the 2.1 vocabulary; :func:`interpret` is called on a normalised item.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - normalised trees only; parsing goes through defusedxml
from typing import Any

from item_bank.formats.qti_item import (
    BLOCK_KINDS,
    INLINE_KINDS,
    MAX_CHARS_MASK,
    SHORT_ANSWER_CLASS,
    Declaration,
    Item,
    Rejected,
    parse_number,
    scorer_only,
)


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
    values = [parse_number(e.text) for e in condition if e.tag == "baseValue"]
    score = parse_number(action.findtext("baseValue"))
    if condition.tag not in ("equal", "match") or len(values) != 1 or values[0] is None or score is None:
        return None
    tolerance = 0.0
    if condition.tag == "equal" and condition.get("toleranceMode", "exact") == "absolute":
        tolerance = max((parse_number(t) or 0.0) for t in condition.get("tolerance", "0").split() or ["0"])
    return {"value": values[0], "tolerance": tolerance, "fraction": score}



def interpret(item: Item) -> tuple[str, dict[str, Any]]:
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
    if kind != "extendedTextInteraction" and any(scorer_only(e) for e in item.body.iter()):
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
    max_choices = int(parse_number(interaction.get("maxChoices")) or 0) if interaction.get("maxChoices") else 1
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
    value = parse_number(declaration.correct[0])
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


def _rubric(item: Item) -> str | None:
    texts = [item.text(e) for e in item.body.iter("rubricBlock") if scorer_only(e)]
    return "\n".join(t for t in texts if t) or None

