"""Per-type response size limits: checked before validation, naming the part and the limit."""

from typing import Any

import pytest

import grading
from grading import ResponseLimits, ResponseTooLarge

LIMITS = ResponseLimits(essay_chars=10, short_answer_chars=5, blank_chars=3, numeric_chars=4)
BLANKS = {"blanks": [{"answers": [{"text": "ab", "fraction": 1.0}]}, {"answers": [{"text": "c", "fraction": 1.0}]}]}


@pytest.mark.parametrize(("item_type", "definition", "raw", "message"), [
    ("essay", {}, "x" * 11, "response: 11 characters; the limit for a essay answer is 10"),
    ("short_answer", {}, "x" * 6, "response: 6 characters; the limit for a short answer answer is 5"),
    ("fill_blank", BLANKS, ["ab", "cdef"], "response[1] (blank 2): 4 characters; the limit per blank is 3"),
    ("numeric", {"answers": [{"value": 1}]}, "1.000", "response: 5 characters; the limit for a numeric answer is 4"),
])
def test_over_long_responses_are_refused(item_type: str, definition: dict[str, Any], raw: Any, message: str) -> None:
    with pytest.raises(ResponseTooLarge) as caught:
        grading.validate_response(item_type, definition, raw, LIMITS)
    assert caught.value.detail == message


@pytest.mark.parametrize(("item_type", "definition", "raw"), [
    ("essay", {}, "x" * 10), ("short_answer", {}, "x" * 5), ("fill_blank", BLANKS, ["abc", None]),
    ("numeric", {"answers": [{"value": 1}]}, "1.00"), ("numeric", {"answers": [{"value": 1}]}, 123456789.0),
])
def test_responses_at_the_limit_pass(item_type: str, definition: dict[str, Any], raw: Any) -> None:
    grading.validate_response(item_type, definition, raw, LIMITS)


def test_without_limits_nothing_is_capped_and_wrong_shapes_still_fail_validation() -> None:
    assert grading.validate_response("essay", {}, "x" * 50_000) == "x" * 50_000
    with pytest.raises(grading.InvalidResponse):
        grading.validate_response("fill_blank", BLANKS, "not a list", LIMITS)
    with pytest.raises(grading.InvalidResponse):
        grading.validate_response("essay", {}, ["x" * 100], LIMITS)
