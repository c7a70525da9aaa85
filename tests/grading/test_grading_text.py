"""fill_blank matching: wildcards, full-width input, case, weights."""

from typing import Any

import pytest

from grading import GradingState, InvalidDefinition, InvalidResponse, grade, validate_definition
from grading import validate_response as vr

CAPITAL = {
    "blanks": [
        {"answers": [{"text": "Beijing", "fraction": 1.0}, {"text": "Peking", "fraction": 0.5}]},
        {"answers": [{"text": "H2O", "fraction": 1.0}], "case_sensitive": True},
    ]
}
WILDCARD = {
    "blanks": [
        {"answers": [{"text": "photo*synthesis", "fraction": 1.0}, {"text": "*cell*", "fraction": 0.3}]}
    ]
}


def fb(definition: dict[str, Any], response: Any) -> float | None:
    return grade("fill_blank", definition, vr("fill_blank", definition, response)).fraction


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (["Beijing", "H2O"], 1.0),
        (["beijing", "H2O"], 1.0),  # blank 0 is case-insensitive
        (["Beijing", "h2o"], 0.5),  # blank 1 is case-sensitive
        (["Peking", "H2O"], 0.75),  # (0.5 + 1) / 2
        (["Shanghai", "H2O"], 0.5),
        (["Shanghai", "CO2"], 0.0),
        (["  Beijing  ", None], 0.5),  # one blank empty
        (["Beijing", ""], 0.5),
    ],
)
def test_fill_blank_fractions(response: list[Any], expected: float) -> None:
    assert fb(CAPITAL, response) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (["ＢＥＩＪＩＮＧ", "Ｈ２Ｏ"], 1.0),  # full-width IME input folds via NFKC
        (["Ｂｅｉｊｉｎｇ", "ｈ２ｏ"], 0.5),  # ...but case sensitivity still applies
    ],
)
def test_fill_blank_full_width(response: list[str], expected: float) -> None:
    assert fb(CAPITAL, response) == expected


def test_fill_blank_full_width_answer_matches_ascii_response() -> None:
    definition = {"blanks": [{"answers": [{"text": "ｘ　＋　１", "fraction": 1.0}]}]}
    assert fb(definition, ["x   +  1"]) == 1.0


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("photosynthesis", 1.0),
        ("photo-synthesis", 1.0),
        ("Photo synthesis", 1.0),
        ("synthesis", 0.0),
        ("cell wall", 0.3),
        ("a cellular thing", 0.3),
        ("photo", 0.0),
    ],
)
def test_fill_blank_wildcard(response: str, expected: float) -> None:
    assert fb(WILDCARD, [response]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("answer", "response", "expected"),
    [("a.b", "axb", 0.0), ("a.b", "a.b", 1.0), ("(x)", "(x)", 1.0), ("a+", "aa", 0.0)],
)
def test_fill_blank_regex_characters_are_literal(answer: str, response: str, expected: float) -> None:
    definition = {"blanks": [{"answers": [{"text": answer, "fraction": 1.0}]}]}
    assert fb(definition, [response]) == expected


@pytest.mark.parametrize("raw", [None, [None, None], ["", "  "]])
def test_fill_blank_blank(raw: Any) -> None:
    assert vr("fill_blank", CAPITAL, raw) is None
    outcome = grade("fill_blank", CAPITAL, raw)
    assert (outcome.fraction, outcome.state, outcome.feedback) == (0.0, GradingState.GRADED, {"blank": True})


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (["Beijing"], "expected 2 blank(s), got 1"),
        (["a", "b", "c"], "expected 2 blank(s), got 3"),
        ("Beijing", "expected a list"),
        (["Beijing", 2], "response[1]: expected a string"),
    ],
)
def test_fill_blank_invalid_response(raw: Any, fragment: str) -> None:
    with pytest.raises(InvalidResponse) as info:
        vr("fill_blank", CAPITAL, raw)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"blanks": []}, "definition.blanks"),
        ({"blanks": [{"answers": []}]}, "definition.blanks[0].answers"),
        (
            {"blanks": [{"answers": [{"text": "x", "fraction": 0.5}]}]},
            "definition.blanks[0].answers: at least one answer must have fraction 1.0",
        ),
        (
            {"blanks": [{"answers": [{"text": "x", "fraction": 0}]}]},
            "definition.blanks[0].answers[0].fraction",
        ),
        (
            {"blanks": [{"answers": [{"text": "x", "fraction": 1.5}]}]},
            "definition.blanks[0].answers[0].fraction",
        ),
        ({"blanks": [{"answers": [{"text": "", "fraction": 1}]}]}, "definition.blanks[0].answers[0].text"),
        (
            {
                "blanks": [
                    {"answers": [{"text": "x", "fraction": 1}]},
                    {"answers": [{"text": " ", "fraction": 1}]},
                ]
            },
            "definition.blanks[1].answers[0].text: answer must not be blank",
        ),
        (
            {"blanks": [{"answers": [{"text": "x", "fraction": 1}], "case": True}]},
            "definition.blanks[0].case",
        ),
        (
            {"blanks": [{"answers": [{"text": "x", "fraction": 1}], "case_sensitive": "no"}]},
            "definition.blanks[0].case_sensitive",
        ),
    ],
)
def test_fill_blank_invalid_definition(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("fill_blank", raw)
    assert path in str(info.value)


def test_fill_blank_normalised_definition() -> None:
    raw = {"blanks": [{"answers": [{"text": "x", "fraction": 1}]}]}
    assert validate_definition("fill_blank", raw) == {
        "blanks": [{"answers": [{"text": "x", "fraction": 1.0}], "case_sensitive": False}]
    }
