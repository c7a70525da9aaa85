"""Admission-number templates: validation with named errors, rendering, uniqueness."""

import pytest

from exam_server.seating import SchemeError, render_numbers, validate_scheme
from exam_server.seating.admission import NumberFields


def _row(candidate: int, room: int, seat: int, seq: int, site: str = "0101") -> NumberFields:
    return NumberFields(candidate, 2026, 5, 1, site, room, seat, "3301", seq)


def test_the_documented_example_renders() -> None:
    numbers = render_numbers("{year}{site}{room:03}{seat:02}", [_row(1, 7, 3, 1), _row(2, 12, 30, 2)])
    assert numbers == {1: "2026010100703", 2: "2026010101230"}


@pytest.mark.parametrize(("scheme", "message"), [
    ("{year}{room:03}{desk}", r"unknown field \{desk\}; known fields: year, exam"),
    ("{year}{room!r}", "format spec only"),
    ("{year", "expected '}'"),
    ("2026", "no fields"),
    ("  ", "empty"),
    ("{seat:q}", "Unknown format code"),
    ("{seq:050}", "1..40 characters"),
    ("{year} {seq}", "no spaces"),
    ("{room.real}", "unknown field"),
])
def test_bad_schemes_are_named(scheme: str, message: str) -> None:
    with pytest.raises(SchemeError, match=message):
        validate_scheme(scheme)


def test_padding_text_fields_works() -> None:
    validate_scheme("{school:0>6}{seq:05}")
    assert render_numbers("{site:0>6}-{seq}", [_row(1, 1, 1, 1, site="12")]) == {1: "000012-1"}


def test_a_collision_names_both_candidates() -> None:
    with pytest.raises(SchemeError, match=r"candidates 11 and 12 would both get 20260101"):
        render_numbers("{year}{site}", [_row(11, 1, 1, 1), _row(12, 1, 2, 2)])
