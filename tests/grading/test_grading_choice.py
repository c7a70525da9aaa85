"""single_choice, multiple_choice and true_false."""

from typing import Any

import pytest

from grading import GradingState, InvalidDefinition, InvalidResponse, grade, validate_definition
from grading import validate_response as vr

OPTIONS = [{"id": i, "text": f"option {i}"} for i in "ABCDE"]
SINGLE = {"options": OPTIONS[:4], "correct": "B"}


def mc(correct: list[str], rule: str, n: int = 4) -> dict[str, Any]:
    return validate_definition(
        "multiple_choice", {"options": OPTIONS[:n], "correct": correct, "partial_credit": rule}
    )


@pytest.mark.parametrize(("response", "fraction"), [("B", 1.0), ("A", 0.0), ("D", 0.0)])
def test_single_choice_correct_and_wrong(response: str, fraction: float) -> None:
    outcome = grade("single_choice", SINGLE, vr("single_choice", SINGLE, response))
    assert outcome.fraction == fraction
    assert outcome.state is GradingState.GRADED


@pytest.mark.parametrize("raw", [None, ""])
def test_single_choice_blank(raw: Any) -> None:
    assert vr("single_choice", SINGLE, raw) is None
    outcome = grade("single_choice", SINGLE, None)
    assert (outcome.fraction, outcome.state, outcome.feedback) == (0.0, GradingState.GRADED, {"blank": True})


@pytest.mark.parametrize(("raw", "fragment"), [("Z", "'Z' is not an option"), (1, "expected an option id")])
def test_single_choice_invalid_response(raw: Any, fragment: str) -> None:
    with pytest.raises(InvalidResponse, match=fragment) as info:
        vr("single_choice", SINGLE, raw)
    assert info.value.detail.startswith("response")


# n=4 options A-D; key A,C (k=2) unless stated. Expected values computed by hand.
@pytest.mark.parametrize(
    ("rule", "key", "chosen", "expected"),
    [
        ("gaokao", ["A", "C"], ["A", "C"], 1.0),
        ("gaokao", ["A", "C"], ["A"], 0.5),
        ("gaokao", ["A", "B", "C"], ["A", "B"], 2 / 3),
        ("gaokao", ["A", "C"], ["A", "B"], 0.0),
        ("gaokao", ["A", "C"], ["A", "B", "C"], 0.0),
        ("gaokao", ["A", "C"], ["B", "D"], 0.0),
        ("proportional", ["A", "C"], ["A", "C"], 1.0),
        ("proportional", ["A", "C"], ["A"], 0.5),
        ("proportional", ["A", "C"], ["A", "C", "B"], 0.5),  # 1 - 1/2
        ("proportional", ["A", "C"], ["A", "B"], 0.0),  # 1/2 - 1/2
        ("proportional", ["A", "C"], ["B", "D"], 0.0),  # 0 - 1 clamped to 0
        ("proportional", ["A", "C"], ["A", "B", "C", "D"], 0.0),  # 1 - 1
        ("proportional", ["A"], ["A", "B"], 2 / 3),  # 1 - 1/3
        ("proportional", ["A", "B", "C", "D"], ["A", "B"], 0.5),  # n == k: no penalty
        ("all_or_nothing", ["A", "C"], ["A", "C"], 1.0),
        ("all_or_nothing", ["A", "C"], ["A"], 0.0),
        ("all_or_nothing", ["A", "C"], ["A", "B", "C"], 0.0),
    ],
)
def test_multiple_choice_rules(rule: str, key: list[str], chosen: list[str], expected: float) -> None:
    definition = mc(key, rule)
    outcome = grade("multiple_choice", definition, vr("multiple_choice", definition, chosen))
    assert outcome.fraction == pytest.approx(expected)
    assert outcome.state is GradingState.GRADED


def test_multiple_choice_default_rule_is_gaokao() -> None:
    definition = validate_definition("multiple_choice", {"options": OPTIONS[:4], "correct": ["C", "A"]})
    assert definition["partial_credit"] == "gaokao"
    assert definition["correct"] == ["A", "C"]
    assert grade("multiple_choice", definition, ["A", "B"]).fraction == 0.0


def test_multiple_choice_response_dedupes_and_sorts() -> None:
    definition = mc(["A", "C"], "gaokao")
    assert vr("multiple_choice", definition, ["C", "A", "C"]) == ["A", "C"]


@pytest.mark.parametrize("raw", [None, []])
def test_multiple_choice_blank(raw: Any) -> None:
    definition = mc(["A", "C"], "gaokao")
    assert vr("multiple_choice", definition, raw) is None
    assert grade("multiple_choice", definition, raw).feedback == {"blank": True}
    assert grade("multiple_choice", definition, raw).fraction == 0.0


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("A", "expected a list"), (["A", "Z"], r"response\[1\]: 'Z' is not an option"), ([3], r"response\[0\]")],
)
def test_multiple_choice_invalid_response(raw: Any, fragment: str) -> None:
    with pytest.raises(InvalidResponse, match=fragment):
        vr("multiple_choice", mc(["A"], "gaokao"), raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), (False, False), ("true", True), ("false", False), (None, None)]
)
def test_true_false_response(raw: Any, expected: bool | None) -> None:
    assert vr("true_false", {"correct": True}, raw) is expected


@pytest.mark.parametrize("raw", [1, 0, "yes", "1", [True]])
def test_true_false_rejects_non_bool(raw: Any) -> None:
    with pytest.raises(InvalidResponse, match="response"):
        vr("true_false", {"correct": True}, raw)


@pytest.mark.parametrize(
    ("key", "response", "fraction"), [(True, True, 1.0), (True, False, 0.0), (False, False, 1.0)]
)
def test_true_false_grade(key: bool, response: bool, fraction: float) -> None:
    assert grade("true_false", {"correct": key}, response).fraction == fraction


def test_true_false_blank() -> None:
    assert grade("true_false", {"correct": False}, None).feedback == {"blank": True}


@pytest.mark.parametrize(
    ("item_type", "raw", "path"),
    [
        ("single_choice", {"options": OPTIONS[:1], "correct": "A"}, "definition.options"),
        (
            "single_choice",
            {"options": [{"id": f"{i}", "text": ""} for i in range(27)], "correct": "1"},
            "definition.options",
        ),
        ("single_choice", {"options": OPTIONS[:3], "correct": "Z"}, "definition.correct: 'Z'"),
        (
            "single_choice",
            {"options": [*OPTIONS[:3], {"id": "B", "text": "x"}], "correct": "A"},
            "definition.options[3].id: duplicate option id 'B'",
        ),
        (
            "single_choice",
            {"options": [{"id": "", "text": "x"}, *OPTIONS[:2]], "correct": "A"},
            r"definition.options[0].id",
        ),
        (
            "single_choice",
            {"options": [{"id": " ", "text": "x"}, *OPTIONS[:2]], "correct": "A"},
            r"definition.options[0].id: option id must not be blank",
        ),
        (
            "single_choice",
            {"options": [{"id": 1, "text": "x"}, *OPTIONS[:2]], "correct": "A"},
            "definition.options[0].id",
        ),
        (
            "single_choice",
            {"options": [{"id": "A", "txt": "x"}, OPTIONS[1]], "correct": "A"},
            "definition.options[0].txt: Extra inputs",
        ),
        ("single_choice", {"options": OPTIONS[:2], "correct": "A", "points": 3}, "definition.points"),
        ("single_choice", {"options": OPTIONS[:2]}, "definition.correct: Field required"),
        ("multiple_choice", {"options": OPTIONS[:3], "correct": []}, "definition.correct"),
        ("multiple_choice", {"options": OPTIONS[:3], "correct": ["A", "Q"]}, "definition.correct[1]: 'Q'"),
        (
            "multiple_choice",
            {"options": OPTIONS[:3], "correct": ["A", "A"]},
            "definition.correct[1]: duplicate",
        ),
        (
            "multiple_choice",
            {"options": OPTIONS[:3], "correct": ["A"], "partial_credit": "x"},
            "definition.partial_credit",
        ),
        ("true_false", {"correct": "true"}, "definition.correct"),
        ("true_false", {"correct": 1}, "definition.correct"),
        ("true_false", {}, "definition.correct"),
        ("true_false", ["correct"], "definition: expected an object"),
    ],
)
def test_invalid_choice_definitions(item_type: str, raw: Any, path: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition(item_type, raw)
    assert path in str(info.value)
    assert info.value.detail == str(info.value)


def test_definition_errors_are_joined() -> None:
    raw = {"options": [OPTIONS[0], OPTIONS[0], OPTIONS[0]], "correct": "Z"}
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("single_choice", raw)
    assert str(info.value) == (
        "definition.options[1].id: duplicate option id 'A'; "
        "definition.options[2].id: duplicate option id 'A'; "
        "definition.correct: 'Z' is not an option id"
    )
