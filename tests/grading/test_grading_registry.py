"""Registry-level behaviour: public names, unknown types, student views."""

import json
from typing import Any

import pytest

import grading
from grading import (
    ITEM_TYPES,
    GradingError,
    InvalidDefinition,
    InvalidResponse,
    UnknownItemType,
    grade,
    is_manual,
    student_view,
    validate_definition,
    validate_response,
)

EXPECTED_TYPES = (
    "single_choice",
    "multiple_choice",
    "true_false",
    "fill_blank",
    "numeric",
    "short_answer",
    "essay",
    "matching",
    "ordering",
    "inline_choice",
)

# (item_type, definition, secrets that must never reach a student, expected view)
SECRETS: list[tuple[str, dict[str, Any], list[str], dict[str, Any]]] = [
    (
        "single_choice",
        {"options": [{"id": "A", "text": "red"}, {"id": "Q", "text": "blue"}], "correct": "Q"},
        ['"correct"', '"Q"]'],
        {"options": [{"id": "A", "text": "red"}, {"id": "Q", "text": "blue"}]},
    ),
    (
        "multiple_choice",
        {"options": [{"id": i, "text": i.lower()} for i in "ABCD"], "correct": ["A", "C"]},
        ['"correct"', '["A", "C"]', "partial_credit"],
        {"options": [{"id": i, "text": i.lower()} for i in "ABCD"]},
    ),
    ("true_false", {"correct": True}, ["true", "correct"], {}),
    (
        "fill_blank",
        {
            "blanks": [
                {"answers": [{"text": "mitochondria", "fraction": 1}]},
                {"answers": [{"text": "ATP", "fraction": 1}]},
            ]
        },
        ["mitochondria", "ATP", "answers", "fraction"],
        {"blanks": 2},
    ),
    (
        "numeric",
        {"answers": [{"value": 42.5, "tolerance": 0.25}], "unit": "kg"},
        ["42.5", "0.25", "answers"],
        {"unit": "kg"},
    ),
    ("numeric", {"answers": [{"value": 7}]}, ["7"], {}),
    (
        "short_answer",
        {"reference_answer": "Osmosis", "rubric": "Mention membranes", "max_chars": 200},
        ["Osmosis", "membranes", "reference_answer", "rubric"],
        {"max_chars": 200},
    ),
    (
        "essay",
        {"reference_answer": "Industrial revolution", "rubric": "Structure"},
        ["Industrial", "Structure"],
        {},
    ),
]


def test_public_api_names() -> None:
    assert set(grading.__all__) == {
        "GradingState",
        "Outcome",
        "GradingError",
        "UnknownItemType",
        "InvalidDefinition",
        "InvalidResponse",
        "ResponseLimits",
        "ResponseTooLarge",
        "ITEM_TYPES",
        "validate_definition",
        "validate_response",
        "grade",
        "student_view",
        "is_manual",
        "SlotToScore",
        "SlotScore",
        "AttemptScore",
        "score_attempt",
        "floored_sum",
        "InvalidMark",
        "RubricMark",
        "mark_fraction",
        "propose_score",
        "mark_criteria",
    }
    for name in grading.__all__:
        assert hasattr(grading, name)


def test_item_types() -> None:
    assert ITEM_TYPES == EXPECTED_TYPES


@pytest.mark.parametrize("cls", [UnknownItemType, InvalidDefinition, InvalidResponse])
def test_error_tree(cls: type[GradingError]) -> None:
    assert issubclass(cls, GradingError)
    error = cls("where: what")
    assert error.detail == str(error) == "where: what"


@pytest.mark.parametrize(
    ("item_type", "manual"), [(t, t in ("short_answer", "essay")) for t in EXPECTED_TYPES]
)
def test_is_manual(item_type: str, manual: bool) -> None:
    assert is_manual(item_type) is manual


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_definition("crossword", {}),
        lambda: validate_response("crossword", {}, None),
        lambda: grade("crossword", {}, None),
        lambda: student_view("crossword", {}),
        lambda: is_manual("crossword"),
    ],
)
def test_unknown_type_lists_known_types(call: Any) -> None:
    with pytest.raises(UnknownItemType) as info:
        call()
    message = str(info.value)
    assert "'crossword'" in message
    for name in EXPECTED_TYPES:
        assert name in message


@pytest.mark.parametrize(("item_type", "definition", "secrets", "view"), SECRETS)
def test_student_view_hides_keys(
    item_type: str, definition: dict[str, Any], secrets: list[str], view: dict[str, Any]
) -> None:
    normalised = validate_definition(item_type, definition)
    for source in (definition, normalised):
        shown = student_view(item_type, source)
        assert shown == view
        dumped = json.dumps(shown, ensure_ascii=False)
        for secret in secrets:
            assert secret not in dumped


def test_student_view_validates_definition() -> None:
    with pytest.raises(InvalidDefinition, match="definition.correct"):
        student_view("true_false", {"correct": "yes"})


@pytest.mark.parametrize(("item_type", "definition", "secrets", "view"), SECRETS)
def test_definitions_round_trip(
    item_type: str, definition: dict[str, Any], secrets: list[str], view: dict[str, Any]
) -> None:
    normalised = validate_definition(item_type, definition)
    assert json.loads(json.dumps(normalised)) == normalised
    assert validate_definition(item_type, normalised) == normalised


def test_grade_revalidates_response() -> None:
    definition = {"options": [{"id": "A", "text": "a"}, {"id": "B", "text": "b"}], "correct": "A"}
    with pytest.raises(InvalidResponse):
        grade("single_choice", definition, "Z")
