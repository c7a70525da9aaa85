"""Scoring rules of issue 8: pick k and ladder multiple choice, negative marking with floors,
score steps for human marks, rubric points per criterion. Expected values computed by hand."""

import math
from typing import Any

import pytest

from grading import (
    GradingError,
    GradingState,
    InvalidDefinition,
    InvalidMark,
    SlotToScore,
    floored_sum,
    grade,
    mark_criteria,
    mark_fraction,
    propose_score,
    score_attempt,
    student_view,
    validate_definition,
)
from grading import validate_response as vr

OPTIONS = [{"id": i, "text": f"option {i}"} for i in "ABCDE"]


def mc(key: list[str], rule: str = "gaokao", **extra: Any) -> dict[str, Any]:
    return validate_definition("multiple_choice", {"options": OPTIONS, "correct": key, "partial_credit": rule, **extra})


def mc_grade(definition: dict[str, Any], chosen: list[str]) -> float | None:
    return grade("multiple_choice", definition, vr("multiple_choice", definition, chosen)).fraction


# --- 1. multiple choice: pick k and ladder ------------------------------------------------------

# n = 5 options A-E. (rule, key, extra fields, chosen, expected fraction)
MC_TABLE: list[tuple[str, list[str], dict[str, Any], list[str], float]] = [
    # pick 2 of a 3-option key: any two correct options are full credit (任选两项)
    ("gaokao", ["A", "B", "C"], {"pick": 2}, ["A", "B"], 1.0),
    ("gaokao", ["A", "B", "C"], {"pick": 2}, ["B", "C"], 1.0),
    ("gaokao", ["A", "B", "C"], {"pick": 2}, ["C"], 0.5),
    ("gaokao", ["A", "B", "C"], {"pick": 2}, ["A", "B", "C"], 0.0),  # three chosen: over pick
    ("gaokao", ["A", "B", "C"], {"pick": 2}, ["A", "D"], 0.0),  # a wrong one
    ("gaokao", ["A", "C"], {"pick": 2}, ["A", "C", "E"], 0.0),  # over pick, even with the key inside
    ("gaokao", ["A", "B"], {"pick": 3}, ["A", "B"], 1.0),  # pick above k: "at most 3"
    ("gaokao", ["A", "B"], {"pick": 3}, ["A"], 0.5),
    ("gaokao", ["A", "B"], {"pick": 3}, ["A", "B", "C"], 0.0),  # within pick but wrong
    ("all_or_nothing", ["A", "B", "C"], {"pick": 2}, ["A", "C"], 1.0),
    ("all_or_nothing", ["A", "B", "C"], {"pick": 2}, ["A"], 0.0),
    ("all_or_nothing", ["A", "B", "C"], {"pick": 2}, ["A", "B", "C"], 0.0),
    ("all_or_nothing", ["A", "B"], {"pick": 3}, ["A", "B"], 1.0),
    ("proportional", ["A", "B", "C"], {"pick": 2}, ["A", "B"], 1.0),
    ("proportional", ["A", "B", "C"], {"pick": 2}, ["A", "D"], 0.0),  # 1/2 - 1/2
    ("proportional", ["A", "B", "C"], {"pick": 2}, ["B"], 0.5),
    ("proportional", ["A", "B"], {"pick": 3}, ["A", "B", "C"], 2 / 3),  # 1 - 1/3
    ("proportional", ["A", "B"], {"pick": 3}, ["A", "B", "C", "D"], 0.0),  # over pick
    # ladder: the earlier 新高考 rule "全部选对得5分，部分选对得2分" on a 3-option key
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["A"], 0.4),
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["A", "C"], 0.4),
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["A", "B", "C"], 1.0),
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["A", "B", "D"], 0.0),
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["D"], 0.0),
    ("ladder", ["A", "B", "C"], {"ladder": [0.4, 0.4, 1.0]}, ["A", "B", "C", "D", "E"], 0.0),
    # a per-count ladder: 2 of 6, 4 of 6, 6 of 6
    ("ladder", ["B", "D", "E"], {"ladder": [1 / 3, 2 / 3, 1.0]}, ["D", "E"], 2 / 3),
    ("ladder", ["B", "D"], {"ladder": [0.5, 1.0]}, ["D"], 0.5),
    ("ladder", ["B", "D"], {"ladder": [0.0, 1.0]}, ["D"], 0.0),  # only the full key counts
    # ladder with pick 2 of a 3-option key: two steps
    ("ladder", ["A", "B", "C"], {"pick": 2, "ladder": [0.3, 1.0]}, ["C"], 0.3),
    ("ladder", ["A", "B", "C"], {"pick": 2, "ladder": [0.3, 1.0]}, ["A", "C"], 1.0),
    ("ladder", ["A", "B", "C"], {"pick": 2, "ladder": [0.3, 1.0]}, ["A", "B", "C"], 0.0),
]


@pytest.mark.parametrize(("rule", "key", "extra", "chosen", "expected"), MC_TABLE)
def test_multiple_choice_pick_and_ladder(
    rule: str, key: list[str], extra: dict[str, Any], chosen: list[str], expected: float
) -> None:
    definition = mc(key, rule, **extra)
    outcome = grade("multiple_choice", definition, vr("multiple_choice", definition, chosen))
    assert outcome.fraction == pytest.approx(expected)
    assert outcome.state is GradingState.GRADED
    over = extra.get("pick") is not None and len(chosen) > extra["pick"]
    assert outcome.feedback.get("over_pick", False) is over


def test_pick_blank_is_zero() -> None:
    definition = mc(["A", "B", "C"], "ladder", pick=2, ladder=[0.3, 1.0])
    assert grade("multiple_choice", definition, []).feedback == {"blank": True}


def test_existing_definitions_unchanged() -> None:
    raw = {"options": OPTIONS[:4], "correct": ["C", "A"]}
    assert validate_definition("multiple_choice", raw) == {
        "options": OPTIONS[:4], "correct": ["A", "C"], "partial_credit": "gaokao"
    }
    assert validate_definition("single_choice", {"options": OPTIONS[:2], "correct": "A"}) == {
        "options": OPTIONS[:2], "correct": "A"
    }
    assert validate_definition("essay", {}) == {}


def test_pick_shown_to_students_ladder_and_key_not() -> None:
    definition = mc(["A", "B", "C"], "ladder", pick=2, ladder=[0.3, 1.0])
    assert student_view("multiple_choice", definition) == {"options": OPTIONS, "pick": 2}
    assert validate_definition("multiple_choice", definition) == definition


@pytest.mark.parametrize(
    ("key", "extra", "message"),
    [
        (["A"], {"pick": 0}, "definition.pick: Input should be greater than or equal to 1"),
        (["A"], {"pick": 5}, "definition.pick: 5 must be less than the number of options (5)"),
        (["A"], {"pick": "2"}, "definition.pick: Input should be a valid integer"),
        (["A"], {"pick": True}, "definition.pick: Input should be a valid integer"),
        (["A"], {"pick": 2.0}, "definition.pick: Input should be a valid integer"),
        (["A", "B"], {"ladder": [0.5, 1.0]}, "definition.ladder: only used when partial_credit is 'ladder'"),
        (["A", "B"], {"partial_credit": "ladder"}, "definition.ladder: required when partial_credit is 'ladder'"),
        (["A", "B", "C"], {"partial_credit": "ladder", "ladder": [1.0]}, "definition.ladder: expected 3 entries"),
        (
            ["A", "B", "C"],
            {"partial_credit": "ladder", "pick": 2, "ladder": [0.4, 0.4, 1.0]},
            "definition.ladder: expected 2 entries",
        ),
        (
            ["A", "B", "C"],
            {"partial_credit": "ladder", "ladder": [0.5, 0.4, 1.0]},
            "definition.ladder[1]: 0.4 is below the entry before it (0.5)",
        ),
        (
            ["A", "B"],
            {"partial_credit": "ladder", "ladder": [0.2, 0.5]},
            "definition.ladder[1]: the last entry (all 2 needed correct options chosen) must be 1.0",
        ),
        (["A", "B"], {"partial_credit": "ladder", "ladder": [0.5, 1.5]}, "definition.ladder[1]: Input should be less"),
        (["A", "B"], {"partial_credit": "ladder", "ladder": [-0.1, 1.0]}, "definition.ladder[0]: Input should be"),
        (["A", "B"], {"partial_credit": "ladder", "ladder": ["0.5", 1.0]}, "definition.ladder[0]"),
        (["A", "B"], {"partial_credit": "ladder", "ladder": [math.nan, 1.0]}, "definition.ladder[0]"),
        (["A", "B"], {"partial_credit": "steps"}, "definition.partial_credit"),
    ],
)
def test_invalid_pick_and_ladder(key: list[str], extra: dict[str, Any], message: str) -> None:
    raw = {"options": OPTIONS, "correct": key, **extra}
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("multiple_choice", raw)
    assert message in str(info.value)


# --- 2. negative marking -----------------------------------------------------------------------

SINGLE4 = {"options": OPTIONS[:4], "correct": "B"}


# (item type, definition, response, expected fraction)
PENALTY_TABLE: list[tuple[str, dict[str, Any], Any, float]] = [
    ("single_choice", {**SINGLE4, "penalty": "guessing"}, "A", -1 / 3),  # 4 options: 1/(n-1)
    ("single_choice", {**SINGLE4, "penalty": "guessing"}, "B", 1.0),
    ("single_choice", {"options": OPTIONS, "correct": "E", "penalty": "guessing"}, "A", -0.25),
    ("single_choice", {**SINGLE4, "penalty": 0.25}, "D", -0.25),
    ("single_choice", {**SINGLE4, "penalty": 1}, "C", -1.0),
    ("single_choice", {**SINGLE4}, "C", 0.0),  # no penalty: unchanged
    ("true_false", {"correct": True, "penalty": "guessing"}, False, -1.0),
    ("true_false", {"correct": True, "penalty": 0.5}, False, -0.5),  # 答对得2分，答错扣1分
    ("true_false", {"correct": False, "penalty": 0.5}, False, 1.0),
    ("true_false", {"correct": False}, True, 0.0),
]


@pytest.mark.parametrize(("item_type", "definition", "response", "expected"), PENALTY_TABLE)
def test_negative_marking(item_type: str, definition: dict[str, Any], response: Any, expected: float) -> None:
    outcome = grade(item_type, definition, vr(item_type, definition, response))
    assert outcome.fraction == pytest.approx(expected)
    assert outcome.fraction is not None
    assert math.copysign(1.0, outcome.fraction) == math.copysign(1.0, expected)  # never -0.0
    assert outcome.feedback == {"correct": expected == 1.0}


@pytest.mark.parametrize(
    ("item_type", "definition"),
    [("single_choice", {**SINGLE4, "penalty": "guessing"}), ("true_false", {"correct": True, "penalty": 1})],
)
@pytest.mark.parametrize("raw", [None, ""])
def test_blank_never_penalised(item_type: str, definition: dict[str, Any], raw: Any) -> None:
    outcome = grade(item_type, definition, vr(item_type, definition, raw))
    assert (outcome.fraction, outcome.feedback) == (0.0, {"blank": True})


def test_penalty_shown_to_students() -> None:
    assert student_view("single_choice", {**SINGLE4, "penalty": "guessing"}) == {
        "options": OPTIONS[:4], "penalty": pytest.approx(1 / 3)
    }
    assert student_view("true_false", {"correct": True, "penalty": 0.5}) == {"penalty": 0.5}
    assert student_view("true_false", {"correct": True}) == {}


@pytest.mark.parametrize(
    ("item_type", "definition", "path"),
    [
        ("single_choice", {**SINGLE4, "penalty": 0}, "definition.penalty"),
        ("single_choice", {**SINGLE4, "penalty": 1.5}, "definition.penalty"),
        ("single_choice", {**SINGLE4, "penalty": -0.25}, "definition.penalty"),
        ("single_choice", {**SINGLE4, "penalty": "half"}, "definition.penalty"),
        ("single_choice", {**SINGLE4, "penalty": math.inf}, "definition.penalty"),
        ("true_false", {"correct": True, "penalty": True}, "definition.penalty"),
        ("true_false", {"correct": True, "penalty": "0.5"}, "definition.penalty"),
    ],
)
def test_invalid_penalty(item_type: str, definition: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition(item_type, definition)
    assert str(info.value).startswith(path)


TF_PENALISED = {"correct": True, "penalty": 0.5}
ESSAY = {"score_step": 0.5}


def _tf_section(group: str, first_id: int) -> list[SlotToScore]:
    return [SlotToScore(first_id + i, "true_false", TF_PENALISED, 2.0, group) for i in range(4)]


# section "TF": four true/false worth 2, a wrong answer costs 1 (section max 8). Section "SC": one
# plain single choice worth 3. (responses to the TF slots 1-4, floors, expected auto score, adjustment)
FLOOR_TABLE: list[tuple[list[Any], dict[str, float], float, float]] = [
    ([True, True, True, True], {}, 11.0, 0.0),
    ([True, False, None, None], {}, 4.0, 0.0),  # 2 - 1 + SC 3
    ([False, False, False, None], {}, 3.0, 3.0),  # -3 floored at 0 (扣完为止); SC not used to pay it
    ([False, False, False, False], {"TF": -0.25}, 1.0, 2.0),  # -4 floored at -0.25 * 8 = -2
    ([False, False, True, None], {"TF": -0.25}, 3.0, 0.0),  # 0 is above both floors
    ([False, False, False, False], {"TF": -1.0}, -1.0, 0.0),  # -4 + 3, a floor of -8 does not bite
]


@pytest.mark.parametrize(("tf", "floors", "auto", "adjustment"), FLOOR_TABLE)
def test_group_floors(tf: list[Any], floors: dict[str, float], auto: float, adjustment: float) -> None:
    slots = [*_tf_section("TF", 1), SlotToScore(9, "single_choice", SINGLE4, 3.0, "SC")]
    responses: dict[int, Any] = {i + 1: r for i, r in enumerate(tf)} | {9: "B"}
    result = score_attempt(slots, responses, floors)
    assert (result.auto_score, result.floor_adjustment) == (auto, adjustment)
    assert result.max_score == 11.0
    assert [s.score for s in result.slots[:4]] == [0.0 if r is None else (2.0 if r else -1.0) for r in tf]


def test_ungrouped_slots_are_one_group() -> None:
    slots = [SlotToScore(1, "true_false", TF_PENALISED, 2.0), SlotToScore(2, "true_false", {"correct": True}, 2.0)]
    result = score_attempt(slots, {1: False, 2: False})
    assert (result.auto_score, result.floor_adjustment) == (0.0, 1.0)


def test_group_waiting_for_a_human_is_not_floored() -> None:
    slots = [*_tf_section("A", 1), SlotToScore(5, "essay", ESSAY, 10.0, "A")]
    result = score_attempt(slots, {1: False, 2: False, 5: "an essay"})
    assert (result.auto_score, result.floor_adjustment, result.needs_manual) == (-2.0, 0.0, True)
    assert floored_sum([-1.0, -1.0, 0.0, 0.0, 1.5], 18.0) == 0.0  # once the essay's 1.5 is in
    assert floored_sum([-1.0, -1.0, 0.0, 0.0, 3.5], 18.0) == 1.5


@pytest.mark.parametrize(
    ("scores", "maximum", "floor", "expected"),
    [
        ([-1.0, -1.0], 2.0, 0.0, 0.0),
        ([-1.0, -1.0], 4.0, -0.25, -1.0),
        ([1.0, -0.5], 2.0, 0.0, 0.5),
        ([], 0.0, 0.0, 0.0),
    ],
)
def test_floored_sum(scores: list[float], maximum: float, floor: float, expected: float) -> None:
    assert floored_sum(scores, maximum, floor) == expected


@pytest.mark.parametrize("floor", [0.5, -1.5, True, math.nan, "0"])
def test_invalid_floor(floor: Any) -> None:
    with pytest.raises(GradingError, match=r"floors\['TF'\]: a floor is a fraction of the group's points"):
        score_attempt(_tf_section("TF", 1), {}, {"TF": floor})


# --- 3. score steps ----------------------------------------------------------------------------

# (definition, slot points, human score, expected fraction)
STEP_OK: list[tuple[dict[str, Any], float, Any, float]] = [
    ({"score_step": 0.5}, 4.0, 2.5, 0.625),
    ({"score_step": 0.5}, 4.0, 0, 0.0),
    ({"score_step": 0.5}, 4.0, 4, 1.0),
    ({"score_step": 1}, 10.0, 7, 0.7),
    ({"score_step": 0.1}, 1.0, 0.3, 0.3),  # 0.1 * 3 is not 0.3 in binary; still on the step
    ({"score_step": 0.5}, 3.0, 2.5, 0.8333333),
    ({}, 3.0, 2.3333, 0.7777667),  # no step: the stored precision
    ({"score_step": 0.5}, 0.0, 0, 0.0),  # a 0-point slot
]


@pytest.mark.parametrize(("definition", "points", "score", "fraction"), STEP_OK)
@pytest.mark.parametrize("item_type", ["essay", "short_answer"])
def test_mark_on_step(item_type: str, definition: dict[str, Any], points: float, score: Any, fraction: float) -> None:
    assert mark_fraction(item_type, definition, points, score) == fraction


@pytest.mark.parametrize(
    ("definition", "points", "score", "message"),
    [
        ({"score_step": 0.5}, 4.0, 2.3, "score: 2.3 is not a multiple of the score step 0.5 "
                                        "(nearest allowed: 2 or 2.5)"),
        ({"score_step": 1}, 10.0, 7.5, "score: 7.5 is not a multiple of the score step 1 (nearest allowed: 7 or 8)"),
        ({"score_step": 0.5}, 4.0, 4.5, "score: 4.5 is above the maximum of 4 points"),
        ({"score_step": 0.5}, 4.0, -0.5, "score: -0.5 is below 0"),
        ({"score_step": 0.5}, 4.0, True, "score: expected a number, got bool"),
        ({"score_step": 0.5}, 4.0, "2", "score: expected a number, got str"),
        ({"score_step": 0.5}, 4.0, None, "score: expected a number, got NoneType"),
        ({"score_step": 0.5}, 4.0, math.nan, "score: nan is not a finite number"),
        ({"score_step": 0.5}, 4.0, math.inf, "score: inf is not a finite number"),
        ({}, 3.0, 2.33333, "score: 2.33333 is not a multiple of the score step 0.0001 "
                           "(nearest allowed: 2.3333 or 2.3334)"),
        ({"score_step": 0.5}, 0.0, 0.5, "score: 0.5 is above the maximum of 0 points"),
    ],
)
def test_mark_rejected(definition: dict[str, Any], points: float, score: Any, message: str) -> None:
    with pytest.raises(InvalidMark) as info:
        mark_fraction("essay", definition, points, score)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (1.5, "points: the slot's 1.5 points are not a multiple of the score step 1"),
        (-2.0, "points: must be a finite number >= 0"),
        (math.nan, "points: must be a finite number >= 0"),
    ],
)
def test_slot_points_off_step(points: float, message: str) -> None:
    with pytest.raises(GradingError, match=message):
        mark_fraction("essay", {"score_step": 1}, points, 1)
    with pytest.raises(GradingError, match=message):
        propose_score("essay", {"score_step": 1}, points, 1)


@pytest.mark.parametrize(
    ("definition", "points", "proposed", "expected"),
    [
        ({"score_step": 0.5}, 4.0, 2.24, 2.0),
        ({"score_step": 0.5}, 4.0, 2.2499, 2.0),
        ({"score_step": 0.5}, 4.0, 2.25, 2.5),  # halves go up
        ({"score_step": 0.5}, 4.0, 2.74, 2.5),
        ({"score_step": 0.5}, 4.0, 2.75, 3.0),
        ({"score_step": 0.5}, 4.0, 3.9, 4.0),
        ({"score_step": 0.5}, 4.0, 5.0, 4.0),  # clamped to the slot's points
        ({"score_step": 0.5}, 4.0, -1.0, 0.0),  # clamped to 0
        ({"score_step": 1}, 10.0, 0.5, 1.0),  # half up, not to even (banker's rounding gives 0)
        ({"score_step": 1}, 10.0, 2.5, 3.0),  # banker's rounding gives 2
        ({"score_step": 0.1}, 1.0, 0.35, 0.4),
        ({}, 5.0, 1.23456, 1.2346),
        ({}, 5.0, 3, 3.0),
    ],
)
def test_propose_score_rounds_to_step(definition: dict[str, Any], points: float, proposed: float,
                                      expected: float) -> None:
    assert propose_score("essay", definition, points, proposed) == expected


@pytest.mark.parametrize("proposed", [math.nan, True, "3"])
def test_propose_score_rejects_non_numbers(proposed: Any) -> None:
    with pytest.raises(InvalidMark, match="proposed: "):
        propose_score("essay", {"score_step": 0.5}, 4.0, proposed)


@pytest.mark.parametrize(("points", "step"), [(7.0, 0.5), (3.0, 0.5), (100.0, 0.5), (1.0, 0.25), (45.0, 1.0)])
def test_stored_fraction_gives_the_score_back(points: float, step: float) -> None:
    """Every mark on the step survives NUMERIC(8, 6) storage of its fraction and * points, rounded to 4."""
    for n in range(int(points / step) + 1):
        score = n * step
        fraction = mark_fraction("essay", {"score_step": step}, points, score)
        assert round(round(fraction, 6) * points, 4) == pytest.approx(score, abs=5e-4)
        assert round(fraction * points, 4) == score


def test_auto_types_marked_by_a_person_use_the_stored_precision() -> None:
    definition = {"blanks": [{"answers": [{"text": "x", "fraction": 1}]}]}
    assert mark_fraction("fill_blank", definition, 2.0, 1.5) == 0.75
    assert propose_score("fill_blank", definition, 2.0, 1.23456) == 1.2346


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"score_step": 0}, "definition.score_step: Input should be greater than 0"),
        ({"score_step": -0.5}, "definition.score_step: Input should be greater than 0"),
        ({"score_step": "0.5"}, "definition.score_step: Input should be a valid number"),
        ({"score_step": 0.00005}, "definition.score_step: 5e-05 is finer than the stored precision"),
        ({"score_step": math.nan}, "definition.score_step"),
        ({"score_step": 500}, "definition.score_step: Input should be less than or equal to 100"),
    ],
)
def test_invalid_score_step(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("short_answer", raw)
    assert str(info.value).startswith(message)


# --- 4. rubric points per criterion ------------------------------------------------------------

RUBRIC: dict[str, Any] = {
    "rubric": "Mark content before language.",
    "score_step": 0.5,
    "criteria": [
        {
            "name": "Content",
            "max_points": 6,
            "levels": [
                {"points": 6, "descriptor": "一类: complete and accurate"},
                {"points": 4, "descriptor": "二类: mostly accurate"},
                {"points": 1.5, "descriptor": "三类: fragments"},
            ],
        },
        {"name": "Structure", "max_points": 3},
        {"name": "Language", "max_points": 1},
    ],
}


@pytest.mark.parametrize(
    ("marks", "total", "fraction"),
    [([5.5, 2, 1], 8.5, 0.85), ([0, 0, 0], 0.0, 0.0), ([6, 3, 1], 10.0, 1.0), ((1.5, 0.5, 0.5), 2.5, 0.25)],
)
@pytest.mark.parametrize("item_type", ["essay", "short_answer"])
def test_rubric_marks_summed(item_type: str, marks: list[float], total: float, fraction: float) -> None:
    result = mark_criteria(item_type, RUBRIC, marks)
    assert (result.total, result.max_points, result.fraction) == (total, 10.0, fraction)
    assert result.marks == tuple(float(m) for m in marks)


@pytest.mark.parametrize(
    ("marks", "fraction"), [([2, 1], 0.6666667), ([3, 1.5], 1.0), ([0.5, 0], 0.1111111), ([0, 1.5], 0.3333333)]
)
def test_rubric_fraction_is_over_the_rubric_total(marks: list[float], fraction: float) -> None:
    rubric = {"score_step": 0.5, "criteria": [{"name": "Idea", "max_points": 3}, {"name": "Form", "max_points": 1.5}]}
    result = mark_criteria("short_answer", rubric, marks)
    assert (result.max_points, result.fraction) == (4.5, fraction)


def test_rubric_is_normalised_to_the_slot() -> None:
    """A 10-point rubric on a 20-point slot: the fraction is the unit, the slot's points scale it."""
    fraction = mark_criteria("essay", RUBRIC, [5.5, 2, 1]).fraction
    assert round(fraction * 20.0, 4) == 17.0
    assert round(fraction * 10.0, 4) == 8.5


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        ([7, 2, 1], "marks[0] (criterion 'Content'): 7 is above the maximum of 6 points"),
        ([5.25, 2, 1], "marks[0] (criterion 'Content'): 5.25 is not a multiple of the score step 0.5"),
        ([5, -1, 1], "marks[1] (criterion 'Structure'): -1 is below 0"),
        ([5, 2, 1.5], "marks[2] (criterion 'Language'): 1.5 is above the maximum of 1 points"),
        ([5, "2", 1], "marks[1] (criterion 'Structure'): expected a number, got str"),
        ([5, 2, True], "marks[2] (criterion 'Language'): expected a number, got bool"),
        ([5, 2], "marks: expected 3 marks (one per criterion: 'Content', 'Structure', 'Language'), got 2"),
        ([5, 2, 1, 0], "marks: expected 3 marks"),
        ({"Content": 5}, "marks: expected a list with one mark per criterion, got dict"),
        (8.5, "marks: expected a list with one mark per criterion, got float"),
    ],
)
def test_rubric_marks_rejected(marks: Any, message: str) -> None:
    with pytest.raises(InvalidMark) as info:
        mark_criteria("essay", RUBRIC, marks)
    assert str(info.value).startswith(message)


def test_rubric_item_refuses_a_single_total_and_plain_item_refuses_criteria() -> None:
    with pytest.raises(InvalidMark, match="score: this item has a rubric of 3 criteria"):
        mark_fraction("essay", RUBRIC, 10.0, 8.5)
    with pytest.raises(InvalidMark, match="marks: this item has no rubric criteria"):
        mark_criteria("essay", {"score_step": 0.5}, [1])
    with pytest.raises(InvalidMark, match="marks: this item has no rubric criteria"):
        mark_criteria("single_choice", SINGLE4, [1])


def test_rubric_definition_round_trip_and_hidden_from_students() -> None:
    normalised = validate_definition("essay", RUBRIC)
    assert validate_definition("essay", normalised) == normalised
    assert normalised["criteria"][1] == {"name": "Structure", "max_points": 3.0}
    assert student_view("essay", RUBRIC) == {}


def _criteria(*entries: dict[str, Any], step: float | None = 0.5) -> dict[str, Any]:
    return {"criteria": list(entries)} | ({} if step is None else {"score_step": step})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_criteria(), "definition.criteria: List should have at least 1 item"),
        (
            _criteria({"name": "A", "max_points": 2}, {"name": "B", "max_points": 1}, {"name": "C", "max_points": 0}),
            "definition.criteria[2].max_points: Input should be greater than 0",
        ),
        (
            _criteria({"name": "A", "max_points": 2}, {"name": "B", "max_points": 1},
                      {"name": "C", "max_points": 2.25}),
            "definition.criteria[2].max_points: 2.25 is not a multiple of the score step 0.5",
        ),
        (_criteria({"name": "A", "max_points": "6"}), "definition.criteria[0].max_points: Input should be a valid"),
        (_criteria({"name": "A", "max_points": True}), "definition.criteria[0].max_points"),
        (_criteria({"name": "A"}), "definition.criteria[0].max_points: Field required"),
        (_criteria({"name": "A", "max": 3}), "definition.criteria[0].max_points: Field required"),
        (_criteria({"name": "", "max_points": 3}), "definition.criteria[0].name: String should have at least 1"),
        (_criteria({"name": "  ", "max_points": 3}), "definition.criteria[0].name: criterion name must not be blank"),
        (
            _criteria({"name": "Content", "max_points": 3}, {"name": "ｃｏｎｔｅｎｔ", "max_points": 3}),
            "definition.criteria[1].name: duplicate criterion 'ｃｏｎｔｅｎｔ'",
        ),
        (
            _criteria({"name": "A", "max_points": 6, "levels": [{"points": 6, "descriptor": "x"},
                                                                {"points": 7, "descriptor": "y"}]}),
            "definition.criteria[0].levels[1].points: 7 is above the criterion's max_points 6",
        ),
        (
            _criteria({"name": "A", "max_points": 6, "levels": [{"points": 2.25, "descriptor": "x"}]}),
            "definition.criteria[0].levels[0].points: 2.25 is not a multiple of the score step 0.5",
        ),
        (
            _criteria({"name": "A", "max_points": 6, "levels": [{"points": 2, "descriptor": "x"},
                                                                {"points": 2.0, "descriptor": "y"}]}),
            "definition.criteria[0].levels[1].points: another level already gives 2 points",
        ),
        (
            _criteria({"name": "A", "max_points": 6, "levels": [{"points": 2, "descriptor": " "}]}),
            "definition.criteria[0].levels[0].descriptor: descriptor must not be blank",
        ),
        (
            _criteria({"name": "A", "max_points": 6, "levels": [{"points": -1, "descriptor": "x"}]}),
            "definition.criteria[0].levels[0].points: Input should be greater than or equal to 0",
        ),
        (_criteria({"name": "A", "max_points": 6, "levels": []}), "definition.criteria[0].levels: List should have"),
        (
            _criteria({"name": "A", "max_points": 2.00005}, step=None),
            "definition.criteria[0].max_points: 2.00005 is not a multiple of the score step 0.0001",
        ),
        ({"criteria": "Content 6, Language 4"}, "definition.criteria: Input should be a valid list"),
    ],
)
def test_invalid_rubric_definitions(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("essay", raw)
    assert str(info.value).startswith(message)
