"""short_answer and essay: blank is auto-graded, anything else waits for a human."""

from typing import Any

import pytest

from grading import GradingState, InvalidDefinition, InvalidResponse, grade, is_manual, validate_definition
from grading import validate_response as vr

MANUAL = ["short_answer", "essay"]
DEFINITION = {
    "reference_answer": "Because of photosynthesis.",
    "rubric": "2 points for mentioning light",
    "max_chars": 20,
}


@pytest.mark.parametrize("item_type", MANUAL)
def test_manual_needs_manual(item_type: str) -> None:
    outcome = grade(item_type, DEFINITION, vr(item_type, DEFINITION, "plants use light"))
    assert (outcome.fraction, outcome.state) == (None, GradingState.NEEDS_MANUAL)
    assert is_manual(item_type)


@pytest.mark.parametrize("item_type", MANUAL)
@pytest.mark.parametrize("raw", [None, "", "  \n "])
def test_manual_blank_is_graded_zero(item_type: str, raw: Any) -> None:
    assert vr(item_type, DEFINITION, raw) is None
    outcome = grade(item_type, DEFINITION, raw)
    assert (outcome.fraction, outcome.state, outcome.feedback) == (0.0, GradingState.GRADED, {"blank": True})


@pytest.mark.parametrize("item_type", MANUAL)
def test_manual_max_chars(item_type: str) -> None:
    assert vr(item_type, DEFINITION, "x" * 20) == "x" * 20
    with pytest.raises(InvalidResponse, match="response: 21 characters exceeds max_chars 20"):
        vr(item_type, DEFINITION, "x" * 21)


@pytest.mark.parametrize("item_type", MANUAL)
def test_manual_rejects_non_string(item_type: str) -> None:
    with pytest.raises(InvalidResponse, match="response: expected a string, got int"):
        vr(item_type, {}, 42)


@pytest.mark.parametrize("item_type", MANUAL)
def test_manual_empty_definition_is_valid(item_type: str) -> None:
    assert validate_definition(item_type, {}) == {}
    assert grade(item_type, {}, "anything").state is GradingState.NEEDS_MANUAL


@pytest.mark.parametrize("item_type", MANUAL)
@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"max_chars": 0}, "definition.max_chars"),
        ({"max_chars": -5}, "definition.max_chars"),
        ({"max_chars": True}, "definition.max_chars"),
        ({"max_chars": "100"}, "definition.max_chars"),
        ({"reference_answer": 3}, "definition.reference_answer"),
        ({"answer": "x"}, "definition.answer: Extra inputs are not permitted"),
    ],
)
def test_manual_invalid_definition(item_type: str, raw: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition(item_type, raw)
    assert path in str(info.value)
