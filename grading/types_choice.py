"""Choice question types: single_choice, multiple_choice and true_false.

multiple_choice supports four partial-credit rules (n options, k correct,
c = correct options chosen, w = wrong options chosen, t = options needed for
full credit: k, or min(pick, k) with ``pick``):

* ``gaokao`` (default, 新高考多选题): any wrong option chosen scores 0;
  otherwise the fraction is c / t, so the full key scores 1 and a partial
  but clean selection earns proportionally.
* ``proportional`` (Moodle): c / t - w / (n - k), clamped to [0, 1]; when
  every option is correct (n == k) there is no penalty term.
* ``all_or_nothing``: exactly t correct options and no wrong one score 1, anything else 0.
* ``ladder``: any wrong option chosen scores 0; otherwise ``ladder[c - 1]``. The
  table has one entry per count 1..t, never goes down, and ends at 1.0. The
  earlier 新高考 rule "全部选对得5分，部分选对得2分" on a 3-option key is
  ``[0.4, 0.4, 1.0]``; ``[1/3, 2/3, 1.0]`` is the same as ``gaokao`` (2 of 6 points
  per correct option).

``pick`` (optional, 1 <= pick < n) is the instruction "choose at most pick options"
(选出两项 / 任选两项). Choosing more than ``pick`` options scores 0 whatever the rule
(多选不得分: the response is a set, so there is no "first k" to keep). With
pick < k the candidate may choose any ``pick`` of the correct options (任选), so
full credit needs t = min(pick, k) correct options and no wrong one.

single_choice and true_false support negative marking: ``penalty`` is the
fraction lost for a wrong answer, a number in (0, 1] or ``"guessing"`` for the
formula-scoring correction 1 / (n - 1) (n options; 1 for true_false), so
random guessing is worth 0 on average. A wrong answer then scores
``-penalty``; a blank answer always scores 0 and is never penalised. Where the
item's total stops going down (扣完为止, a floor of 0 by default, or a set
negative limit) is a property of the group of slots, applied by
:func:`grading.scoring.score_attempt` (``floors``).

Feedback never names option ids, only counts, so it cannot leak the key. The
student view shows ``pick`` and ``penalty`` (the candidate must know them) but
never the key, the rule or the ladder (its length would tell how many options
are correct).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field

from grading.base import QuestionType, StrictModel, require_str, type_name
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, graded

PartialCredit = Literal["gaokao", "proportional", "all_or_nothing", "ladder"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Penalty = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] | Literal["guessing"]


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
    penalty: Penalty | None = None


class MultipleChoiceDefinition(_ChoiceBase):
    correct: list[str] = Field(min_length=1)
    partial_credit: PartialCredit = "gaokao"
    pick: int | None = Field(default=None, ge=1)
    ladder: list[Fraction] | None = None

    def target(self) -> int:
        """Correct options needed for full credit: k, or min(pick, k)."""
        return len(self.correct) if self.pick is None else min(self.pick, len(self.correct))


class TrueFalseDefinition(StrictModel):
    correct: bool
    penalty: Penalty | None = None


def penalty_fraction(penalty: float | str | None, n: int) -> float:
    """The fraction lost for a wrong answer among n options: 0 without negative marking."""
    if penalty is None:
        return 0.0
    if penalty == "guessing":
        return 1.0 / (n - 1)
    return float(penalty)


def _wrong_answer(correct: bool, penalty: float) -> Outcome:
    if correct:
        return graded(1.0, {"correct": True})
    return graded(-penalty if penalty else 0.0, {"correct": False}, minimum=-penalty)


def _penalty_view(penalty: float | str | None, n: int) -> dict[str, Any]:
    return {} if penalty is None else {"penalty": round(penalty_fraction(penalty, n), 7)}


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
        penalty = penalty_fraction(definition.penalty, len(definition.options))
        return _wrong_answer(response == definition.correct, penalty)

    def student_view(self, definition: SingleChoiceDefinition) -> dict[str, Any]:
        return _options_view(definition) | _penalty_view(definition.penalty, len(definition.options))


def multiple_choice_fraction(rule: PartialCredit, n: int, k: int, right: int, wrong: int,
                             pick: int | None = None, ladder: Sequence[float] = ()) -> float:
    """Fraction for `right` correct and `wrong` incorrect options chosen (see module doc)."""
    if pick is not None and right + wrong > pick:
        return 0.0
    target = k if pick is None else min(pick, k)
    if rule == "all_or_nothing":
        return 1.0 if right == target and wrong == 0 else 0.0
    if rule in ("gaokao", "ladder") and (wrong or not right):
        return 0.0
    if rule == "gaokao":
        return min(right, target) / target
    if rule == "ladder":
        return ladder[min(right, target) - 1]
    penalty = wrong / (n - k) if n > k else 0.0
    return min(1.0, max(0.0, right / target - penalty))


def _pick_ladder_problems(definition: MultipleChoiceDefinition) -> list[str]:
    problems: list[str] = []
    n, rule, ladder = len(definition.options), definition.partial_credit, definition.ladder
    if definition.pick is not None and definition.pick >= n:
        problems.append(f"definition.pick: {definition.pick} must be less than the number of options ({n}); "
                        "omit pick when any number may be chosen")
    if rule != "ladder":
        if ladder is not None:
            problems.append(f"definition.ladder: only used when partial_credit is 'ladder' (it is {rule!r})")
        return problems
    if ladder is None:
        return [*problems, "definition.ladder: required when partial_credit is 'ladder'"]
    target = definition.target()
    if len(ladder) != target:
        return [*problems, f"definition.ladder: expected {target} entries (fractions for 1..{target} correct "
                           f"options chosen and no wrong one), got {len(ladder)}"]
    for index in range(1, target):
        if ladder[index] < ladder[index - 1]:
            problems.append(f"definition.ladder[{index}]: {ladder[index]} is below the entry before it "
                            f"({ladder[index - 1]}); a ladder never goes down")
    if ladder[-1] != 1.0:
        problems.append(f"definition.ladder[{target - 1}]: the last entry (all {target} needed correct options "
                        f"chosen) must be 1.0, got {ladder[-1]}")
    return problems


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
        return problems + _pick_ladder_problems(definition)

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
        rule, pick = definition.partial_credit, definition.pick
        fraction = multiple_choice_fraction(rule, len(definition.options), len(key), right, wrong,
                                            pick, definition.ladder or ())
        feedback: dict[str, Any] = {"rule": rule, "right_chosen": right, "wrong_chosen": wrong}
        if pick is not None and right + wrong > pick:
            feedback["over_pick"] = True
        return graded(fraction, feedback)

    def student_view(self, definition: MultipleChoiceDefinition) -> dict[str, Any]:
        view = _options_view(definition)
        return view if definition.pick is None else view | {"pick": definition.pick}


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
        return _wrong_answer(response is definition.correct, penalty_fraction(definition.penalty, 2))

    def student_view(self, definition: TrueFalseDefinition) -> dict[str, Any]:
        return _penalty_view(definition.penalty, 2)
