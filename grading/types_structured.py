"""Structured response types from QTI and Moodle: matching, ordering and inline_choice.

* ``matching``: prompts are paired with choices (choices may include distractors). Rules:
  ``per_pair`` (default) scores the share of prompts matched correctly; ``all_or_nothing``.
* ``ordering``: put items in order. Rules: ``position`` (default, Moodle's absolute position)
  scores the share of items in their correct place; ``adjacent_pairs`` scores the share of
  adjacent pairs of the key that also follow each other in the response (kind to one
  misplaced block); ``all_or_nothing``.
* ``inline_choice``: a drop-down in each gap of the stem; the item earns the mean over gaps.

Student views list ordering entries and matching choices sorted by their text: an order that is a
function of what the student sees anyway, never of the key (the authored order often is the key).
Each attempt then shuffles them with its own seed (``item_bank.variants``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from grading.base import QuestionType, StrictModel, require_str, type_name
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, graded
from grading.types_choice import ChoiceOption


def _duplicate_ids(ids: list[str], where: str) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, value in enumerate(ids):
        if value in seen:
            problems.append(f"{where}[{index}].id: duplicate id {value!r}")
        seen.add(value)
    return problems


class MatchingDefinition(StrictModel):
    prompts: list[ChoiceOption] = Field(min_length=1, max_length=50)
    choices: list[ChoiceOption] = Field(min_length=2, max_length=60)
    correct: dict[str, str]
    partial_credit: Literal["per_pair", "all_or_nothing"] = "per_pair"


class Matching(QuestionType[MatchingDefinition]):
    name = "matching"
    model = MatchingDefinition

    def check(self, definition: MatchingDefinition) -> list[str]:
        prompts = [p.id for p in definition.prompts]
        choices = {c.id for c in definition.choices}
        problems = _duplicate_ids(prompts, "definition.prompts")
        problems += _duplicate_ids([c.id for c in definition.choices], "definition.choices")
        for prompt in prompts:
            if prompt not in definition.correct:
                problems.append(f"definition.correct: prompt {prompt!r} has no matching choice")
        for prompt, choice in definition.correct.items():
            if prompt not in prompts:
                problems.append(f"definition.correct.{prompt}: not a prompt id")
            elif choice not in choices:
                problems.append(f"definition.correct.{prompt}: {choice!r} is not a choice id")
        return problems

    def validate_response(self, definition: MatchingDefinition, raw: Any) -> dict[str, str] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise InvalidResponse(f"response: expected an object of prompt id -> choice id, got {type_name(raw)}")
        prompts, choices = {p.id for p in definition.prompts}, {c.id for c in definition.choices}
        pairs: dict[str, str] = {}
        for prompt, choice in raw.items():
            if prompt not in prompts:
                raise InvalidResponse(f"response.{prompt}: not a prompt of this item")
            if choice is None or choice == "":
                continue
            if require_str(choice, f"response.{prompt}", "a choice id") not in choices:
                raise InvalidResponse(f"response.{prompt}: {choice!r} is not a choice of this item")
            pairs[prompt] = choice
        return pairs or None

    def grade(self, definition: MatchingDefinition, response: Any) -> Outcome:
        if not response:
            return blank()
        right = sum(1 for p, c in definition.correct.items() if response.get(p) == c)
        total = len(definition.prompts)
        if definition.partial_credit == "all_or_nothing":
            return graded(1.0 if right == total else 0.0, {"right_pairs": right, "pairs": total})
        return graded(right / total, {"right_pairs": right, "pairs": total})

    def student_view(self, definition: MatchingDefinition) -> dict[str, Any]:
        return {"prompts": [p.model_dump() for p in definition.prompts],
                "choices": [c.model_dump() for c in _text_order(definition.choices)]}


class OrderingDefinition(StrictModel):
    items: list[ChoiceOption] = Field(min_length=2, max_length=50)
    correct_order: list[str] = Field(min_length=2)
    partial_credit: Literal["position", "adjacent_pairs", "all_or_nothing"] = "position"


class Ordering(QuestionType[OrderingDefinition]):
    name = "ordering"
    model = OrderingDefinition

    def check(self, definition: OrderingDefinition) -> list[str]:
        ids = [i.id for i in definition.items]
        problems = _duplicate_ids(ids, "definition.items")
        if sorted(definition.correct_order) != sorted(set(ids)):
            problems.append("definition.correct_order: must list every item id exactly once")
        return problems

    def validate_response(self, definition: OrderingDefinition, raw: Any) -> list[str] | None:
        if raw is None or raw == []:
            return None
        if not isinstance(raw, list):
            raise InvalidResponse(f"response: expected a list of item ids, got {type_name(raw)}")
        ids = sorted(i.id for i in definition.items)
        if sorted(str(x) for x in raw) != ids or not all(isinstance(x, str) for x in raw):
            raise InvalidResponse(f"response: expected each of the {len(ids)} item ids exactly once")
        return list(raw)

    def grade(self, definition: OrderingDefinition, response: Any) -> Outcome:
        if not response:
            return blank()
        key = definition.correct_order
        rule = definition.partial_credit
        if rule == "all_or_nothing":
            return graded(1.0 if response == key else 0.0, {"rule": rule})
        if rule == "position":
            right = sum(1 for a, b in zip(response, key, strict=True) if a == b)
            return graded(right / len(key), {"rule": rule, "in_place": right})
        follows = set(zip(response, response[1:], strict=False))
        kept = sum(1 for pair in zip(key, key[1:], strict=False) if pair in follows)
        return graded(kept / (len(key) - 1), {"rule": rule, "pairs_kept": kept})

    def student_view(self, definition: OrderingDefinition) -> dict[str, Any]:
        return {"items": [i.model_dump() for i in _text_order(definition.items)]}


class InlineGap(StrictModel):
    options: list[ChoiceOption] = Field(min_length=2, max_length=26)
    correct: str


class InlineChoiceDefinition(StrictModel):
    gaps: list[InlineGap] = Field(min_length=1)


class InlineChoice(QuestionType[InlineChoiceDefinition]):
    name = "inline_choice"
    model = InlineChoiceDefinition

    def check(self, definition: InlineChoiceDefinition) -> list[str]:
        problems: list[str] = []
        for index, gap in enumerate(definition.gaps):
            where = f"definition.gaps[{index}]"
            problems += _duplicate_ids([o.id for o in gap.options], f"{where}.options")
            if gap.correct not in {o.id for o in gap.options}:
                problems.append(f"{where}.correct: {gap.correct!r} is not an option id")
        return problems

    def validate_response(self, definition: InlineChoiceDefinition, raw: Any) -> list[str | None] | None:
        if raw is None:
            return None
        if not isinstance(raw, list) or len(raw) != len(definition.gaps):
            raise InvalidResponse(f"response: expected a list of {len(definition.gaps)} option ids (null = empty)")
        chosen: list[str | None] = []
        for index, (gap, value) in enumerate(zip(definition.gaps, raw, strict=True)):
            if value is None or value == "":
                chosen.append(None)
                continue
            if require_str(value, f"response[{index}]", "an option id") not in {o.id for o in gap.options}:
                raise InvalidResponse(f"response[{index}]: {value!r} is not an option of gap {index + 1}")
            chosen.append(value)
        return chosen if any(c is not None for c in chosen) else None

    def grade(self, definition: InlineChoiceDefinition, response: Any) -> Outcome:
        if response is None:
            return blank()
        right = [1.0 if r == g.correct else 0.0 for g, r in zip(definition.gaps, response, strict=True)]
        return graded(sum(right) / len(right), {"gaps": right})

    def student_view(self, definition: InlineChoiceDefinition) -> dict[str, Any]:
        return {"gaps": [{"options": [o.model_dump() for o in g.options]} for g in definition.gaps]}


def _text_order(options: list[ChoiceOption]) -> list[ChoiceOption]:
    """Sorted by the shown text alone, so the order says nothing the texts do not (ids may encode the key)."""
    return sorted(options, key=lambda o: o.text)
