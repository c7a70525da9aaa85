"""numeric: tolerance boundaries, units, full-width digits, weights."""

from typing import Any

import pytest

from grading import InvalidDefinition, InvalidResponse, grade, validate_definition
from grading import validate_response as vr

PI = {
    "answers": [
        {"value": 3.14, "tolerance": 0.01, "fraction": 1.0},
        {"value": 3.0, "tolerance": 0.0, "fraction": 0.5},
    ]
}
SPEED = {"answers": [{"value": 9.8, "tolerance": 0.05, "fraction": 1.0}], "unit": "m/s"}


def num(definition: dict[str, Any], raw: Any) -> float | None:
    return grade("numeric", definition, vr("numeric", definition, raw)).fraction


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3.14, 1.0),
        (3.13, 1.0),  # lower boundary is inclusive
        (3.15, 1.0),  # upper boundary is inclusive despite binary float error
        (3.1501, 0.0),
        (3.1299, 0.0),
        (3, 0.5),  # second answer, exact
        (3.001, 0.0),
        (-3.14, 0.0),
        ("3.14", 1.0),
        (" 3.15 ", 1.0),
        ("314e-2", 1.0),
        (".5", 0.0),
    ],
)
def test_numeric_tolerance(raw: Any, expected: float) -> None:
    assert num(PI, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("３.１４", 1.0), ("３．１４", 1.0), ("－３", 0.0), ("\u22123.14", 0.0)]
)
def test_numeric_full_width_digits(raw: str, expected: float) -> None:
    assert num(PI, raw) == expected


def test_numeric_full_width_minus_parses_negative() -> None:
    assert vr("numeric", PI, "－３．１４") == -3.14
    assert vr("numeric", PI, "\u22122") == -2.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9.8 m/s", 1.0), ("9.8m/s", 1.0), ("9.8", 1.0), ("９.８ ｍ/ｓ", 1.0), ("9.9 m/s", 0.0)],
)
def test_numeric_unit(raw: str, expected: float) -> None:
    assert num(SPEED, raw) == expected


@pytest.mark.parametrize(
    ("definition", "raw", "fragment"),
    [
        (SPEED, "9.8 km/h", "is not a number (unit must be 'm/s')"),
        (PI, "3.14 m", "is not a number"),
        (PI, "abc", "'abc' is not a number"),
        (PI, "nan", "is not a number"),
        (PI, "inf", "is not a number"),
        (PI, "1e999", "not a finite number"),
        (PI, float("nan"), "not a finite number"),
        (PI, float("inf"), "not a finite number"),
        (PI, True, "expected a number"),
        (PI, [3.14], "expected a number"),
        (PI, "3,14", "is not a number"),
    ],
)
def test_numeric_invalid_response(definition: dict[str, Any], raw: Any, fragment: str) -> None:
    with pytest.raises(InvalidResponse) as info:
        vr("numeric", definition, raw)
    assert fragment in str(info.value)
    assert str(info.value).startswith("response")


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_numeric_blank(raw: Any) -> None:
    assert vr("numeric", PI, raw) is None
    assert grade("numeric", PI, raw).feedback == {"blank": True}
    assert grade("numeric", PI, raw).fraction == 0.0


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"answers": []}, "definition.answers"),
        ({"answers": [{"value": 1, "tolerance": -0.1}]}, "definition.answers[0].tolerance"),
        ({"answers": [{"value": float("nan")}]}, "definition.answers[0].value"),
        ({"answers": [{"value": float("inf")}]}, "definition.answers[0].value"),
        ({"answers": [{"value": "3"}]}, "definition.answers[0].value"),
        ({"answers": [{"value": 1, "fraction": 0}]}, "definition.answers[0].fraction"),
        ({"answers": [{"value": 1}], "unit": ""}, "definition.unit"),
        ({"answers": [{"value": 1}], "unit": "  "}, "definition.unit: unit must not be blank"),
        ({"answers": [{"value": 1}], "units": "m"}, "definition.units"),
    ],
)
def test_numeric_invalid_definition(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as info:
        validate_definition("numeric", raw)
    assert path in str(info.value)


def test_numeric_normalised_definition() -> None:
    assert validate_definition("numeric", {"answers": [{"value": 2}]}) == {
        "answers": [{"value": 2.0, "tolerance": 0.0, "fraction": 1.0}]
    }
