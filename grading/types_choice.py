"""Choice question types: single_choice, multiple_choice and true_false.

multiple_choice supports three partial-credit rules (n options, k correct,
c = correct options chosen, w = wrong options chosen):

* ``gaokao`` (default, 新高考多选题): any wrong option chosen scores 0;
  otherwise the fraction is c / k, so the full key scores 1 and a partial
  but clean selection earns proportionally.
* ``proportional`` (Moodle): c / k - w / (n - k), clamped to [0, 1]; when
  every option is correct (n == k) there is no penalty term.
* ``all_or_nothing``: exactly the key scores 1, anything else 0.

Feedback never names option ids, only counts, so it cannot leak the key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from grading.base import QuestionType, StrictModel, require_str, type_name
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, graded

PartialCredit = Literal["gaokao", "proportional", "all_or_nothing"]


class ChoiceOption(StrictModel):
    id: str = Field(min_length=1)
    text: str


class _ChoiceBase(StrictModel):
    # 26 is the A..Z limit of printed answer sheets.
    options: list[ChoiceOption] = Field(min_length=2, max_length=26)

    def option_ids(self) -> list[str]:
        return [option.id for option in self.options]


class SingleChoiceDefinition(_ChoiceBase):
    correct: str


class MultipleChoiceDefinition(_ChoiceBase):
    correct: list[str] = Field(min_length=1)
    partial_credit: PartialCredit = "gaokao"


class TrueFalseDefinition(StrictModel):
    correct: bool


def _option_problems(options: list[ChoiceOption]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        where = f"definition.options[{index}].id"
        if not option.id.strip():
            problems.append(f"{where}: option id must not be blank")
        elif option.id in seen:
            problems.append(f"{where}: duplicate option id {option.id!r}")
        seen.add(option.id)
    return problems


def _options_view(definition: _ChoiceBase) -> dict[str, Any]:
    return {"options": [{"id": o.id, "text": o.text} for o in definition.options]}


def _check_option(definition: _ChoiceBase, raw: Any, where: str) -> str:
    choice = require_str(raw, where, "an option id string")
    if choice not in definition.option_ids():
        known = ", ".join(definition.option_ids())
        raise InvalidResponse(f"{where}: {choice!r} is not an option of this item (options: {known})")
    return choice


class SingleChoice(QuestionType[SingleChoiceDefinition]):
    name = "single_choice"
    model = SingleChoiceDefinition

    def check(self, definition: SingleChoiceDefinition) -> list[str]:
        problems = _option_problems(definition.options)
        if definition.correct not in definition.option_ids():
            problems.append(f"definition.correct: {definition.correct!r} is not an option id")
        return problems

    def validate_response(self, definition: SingleChoiceDefinition, raw: Any) -> str | None:
        if raw is None or raw == "":
            return None
        return _check_option(definition, raw, "response")

    def grade(self, definition: SingleChoiceDefinition, response: Any) -> Outcome:
        if response is None:
            return blank()
        correct = response == definition.correct
        return graded(1.0 if correct else 0.0, {"correct": correct})

    def student_view(self, definition: SingleChoiceDefinition) -> dict[str, Any]:
        return _options_view(definition)


def multiple_choice_fraction(rule: PartialCredit, n: int, k: int, right: int, wrong: int) -> float:
    """Fraction for `right` correct and `wrong` incorrect options chosen (see module doc)."""
    if rule == "all_or_nothing":
        return 1.0 if right == k and wrong == 0 else 0.0
    if rule == "gaokao":
        return 0.0 if wrong else right / k
    penalty = wrong / (n - k) if n > k else 0.0
    return min(1.0, max(0.0, right / k - penalty))


class MultipleChoice(QuestionType[MultipleChoiceDefinition]):
    name = "multiple_choice"
    model = MultipleChoiceDefinition

    def check(self, definition: MultipleChoiceDefinition) -> list[str]:
        problems = _option_problems(definition.options)
        ids = definition.option_ids()
        seen: set[str] = set()
        for index, key in enumerate(definition.correct):
            if key not in ids:
                problems.append(f"definition.correct[{index}]: {key!r} is not an option id")
            elif key in seen:
                problems.append(f"definition.correct[{index}]: duplicate correct id {key!r}")
            seen.add(key)
        return problems

    def dump(self, definition: MultipleChoiceDefinition) -> dict[str, Any]:
        data = super().dump(definition)
        data["correct"] = sorted(definition.correct)
        return data

    def validate_response(self, definition: MultipleChoiceDefinition, raw: Any) -> list[str] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise InvalidResponse(f"response: expected a list of option ids, got {type_name(raw)}")
        chosen = {_check_option(definition, item, f"response[{i}]") for i, item in enumerate(raw)}
        return sorted(chosen) or None

    def grade(self, definition: MultipleChoiceDefinition, response: Any) -> Outcome:
        if not response:
            return blank()
        chosen, key = set(response), set(definition.correct)
        right, wrong = len(chosen & key), len(chosen - key)
        rule = definition.partial_credit
        fraction = multiple_choice_fraction(rule, len(definition.options), len(key), right, wrong)
        return graded(fraction, {"rule": rule, "right_chosen": right, "wrong_chosen": wrong})

    def student_view(self, definition: MultipleChoiceDefinition) -> dict[str, Any]:
        return _options_view(definition)


class TrueFalse(QuestionType[TrueFalseDefinition]):
    name = "true_false"
    model = TrueFalseDefinition

    def validate_response(self, definition: TrueFalseDefinition, raw: Any) -> bool | None:
        if raw is None or raw == "":
            return None
        # bool is checked before anything numeric: 1/0 are deliberately rejected.
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise InvalidResponse(f"response: expected true/false or 'true'/'false', got {raw!r}")

    def grade(self, definition: TrueFalseDefinition, response: Any) -> Outcome:
        if response is None:
            return blank()
        correct = response is definition.correct
        return graded(1.0 if correct else 0.0, {"correct": correct})

    def student_view(self, definition: TrueFalseDefinition) -> dict[str, Any]:
        return {}
