"""matching, ordering and inline_choice: hand-computed fractions, bad input, key-free views."""

import json
from typing import Any

import pytest

from grading import GradingState, InvalidDefinition, InvalidResponse, grade, student_view, validate_definition
from grading import validate_response as normalise

MATCHING: dict[str, Any] = {
    "prompts": [{"id": "p1", "text": "水 water"}, {"id": "p2", "text": "盐 salt"}, {"id": "p3", "text": "糖 sugar"}],
    "choices": [{"id": "c1", "text": "H2O"}, {"id": "c2", "text": "NaCl"}, {"id": "c3", "text": "C12H22O11"},
                {"id": "c4", "text": "CO2"}],
    "correct": {"p1": "c1", "p2": "c2", "p3": "c3"},
}
ORDERING: dict[str, Any] = {
    "items": [{"id": x, "text": t} for x, t in [("a", "春"), ("b", "夏"), ("c", "秋"), ("d", "冬")]],
    "correct_order": ["a", "b", "c", "d"],
}
INLINE: dict[str, Any] = {"gaps": [
    {"options": [{"id": "1", "text": "is"}, {"id": "2", "text": "are"}], "correct": "1"},
    {"options": [{"id": "1", "text": "a"}, {"id": "2", "text": "an"}], "correct": "2"},
]}


def _fraction(item_type: str, definition: dict[str, Any], response: Any) -> float | None:
    d = validate_definition(item_type, definition)
    return grade(item_type, d, normalise(item_type, d, response)).fraction


@pytest.mark.parametrize(("response", "expected"), [
    ({"p1": "c1", "p2": "c2", "p3": "c3"}, 1.0),
    ({"p1": "c1", "p2": "c4", "p3": "c3"}, 2 / 3),
    ({"p1": "c2"}, 0.0),
    ({}, 0.0),
])
def test_matching_per_pair(response: dict[str, str], expected: float) -> None:
    assert _fraction("matching", MATCHING, response) == pytest.approx(expected, abs=1e-6)


def test_matching_all_or_nothing() -> None:
    strict = {**MATCHING, "partial_credit": "all_or_nothing"}
    assert _fraction("matching", strict, {"p1": "c1", "p2": "c2", "p3": "c4"}) == 0.0
    assert _fraction("matching", strict, {"p1": "c1", "p2": "c2", "p3": "c3"}) == 1.0


@pytest.mark.parametrize(("rule", "response", "expected"), [
    ("position", ["a", "b", "c", "d"], 1.0),
    ("position", ["b", "a", "c", "d"], 0.5),
    ("position", ["d", "a", "b", "c"], 0.0),  # every item displaced by one
    ("adjacent_pairs", ["d", "a", "b", "c"], 2 / 3),  # a-b and b-c kept, c-d lost
    ("adjacent_pairs", ["d", "c", "b", "a"], 0.0),
    ("all_or_nothing", ["a", "b", "d", "c"], 0.0),
    ("all_or_nothing", ["a", "b", "c", "d"], 1.0),
])
def test_ordering_rules(rule: str, response: list[str], expected: float) -> None:
    assert _fraction("ordering", {**ORDERING, "partial_credit": rule}, response) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("response", "expected"), [(["1", "2"], 1.0), (["1", "1"], 0.5), ([None, "2"], 0.5)])
def test_inline_choice_mean_over_gaps(response: list[str | None], expected: float) -> None:
    assert _fraction("inline_choice", INLINE, response) == pytest.approx(expected)


def test_blank_responses_score_zero() -> None:
    for item_type, definition, empty in [("matching", MATCHING, {}), ("ordering", ORDERING, []),
                                         ("inline_choice", INLINE, [None, None])]:
        d = validate_definition(item_type, definition)
        outcome = grade(item_type, d, normalise(item_type, d, empty))
        assert outcome.state == GradingState.GRADED and outcome.feedback == {"blank": True}


@pytest.mark.parametrize(("item_type", "definition", "where"), [
    ("matching", {**MATCHING, "correct": {"p1": "c1", "p2": "c2"}}, "prompt 'p3' has no matching choice"),
    ("matching", {**MATCHING, "correct": {"p1": "c1", "p2": "c2", "p3": "zz"}}, "definition.correct.p3"),
    ("ordering", {**ORDERING, "correct_order": ["a", "b", "c"]}, "definition.correct_order"),
    ("inline_choice", {"gaps": [{"options": INLINE["gaps"][0]["options"], "correct": "9"}]},
     "definition.gaps[0].correct"),
])
def test_invalid_definitions_name_the_field(item_type: str, definition: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidDefinition, match=where.replace("[", r"\[").replace("]", r"\]")):
        validate_definition(item_type, definition)


@pytest.mark.parametrize(("item_type", "definition", "response", "where"), [
    ("matching", MATCHING, {"p9": "c1"}, "response.p9"),
    ("matching", MATCHING, {"p1": "c9"}, "response.p1"),
    ("ordering", ORDERING, ["a", "b", "c"], "exactly once"),
    ("ordering", ORDERING, ["a", "a", "b", "c"], "exactly once"),
    ("inline_choice", INLINE, ["1"], "list of 2"),
    ("inline_choice", INLINE, ["1", "7"], r"response\[1\]"),
])
def test_invalid_responses_are_named(item_type: str, definition: dict[str, Any], response: Any, where: str) -> None:
    with pytest.raises(InvalidResponse, match=where):
        normalise(item_type, validate_definition(item_type, definition), response)


def test_views_list_entries_by_text_whatever_the_key() -> None:
    view = student_view("ordering", ORDERING)
    assert [i["text"] for i in view["items"]] == sorted(["春", "夏", "秋", "冬"])
    # the same entries under another key give the same view: the order is not a function of the key
    reversed_key = {**ORDERING, "correct_order": ["d", "c", "b", "a"]}
    assert student_view("ordering", reversed_key) == view
    two = {"items": [{"id": "x", "text": "1"}, {"id": "y", "text": "2"}], "correct_order": ["x", "y"]}
    assert [i["id"] for i in student_view("ordering", two)["items"]] == ["x", "y"]
    assert student_view("ordering", {**two, "correct_order": ["y", "x"]}) == student_view("ordering", two)
    swapped = {**MATCHING, "correct": {"p1": "c4", "p2": "c1", "p3": "c2"}}
    assert student_view("matching", swapped) == student_view("matching", MATCHING)
    for item_type, definition in [("matching", MATCHING), ("inline_choice", INLINE), ("ordering", ORDERING)]:
        text = json.dumps(student_view(item_type, definition))
        assert "correct" not in text
