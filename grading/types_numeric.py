"""numeric: a number compared with one or more answers by absolute tolerance.

The response may be a JSON number or a string; strings are NFKC-normalised
(full-width digits and signs from Chinese IMEs become ASCII) and may end with
the definition's unit. The best fraction among answers with
``|response - value| <= tolerance`` wins.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field

from grading.base import QuestionType, StrictModel, normalize_text
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, graded

# Decimal values like 3.15 - 3.14 land a hair above 0.01 in binary floating
# point; this slack keeps a boundary answer inside its tolerance.
_REL_EPSILON = 1e-9

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class NumericAnswer(StrictModel):
    value: float = Field(allow_inf_nan=False)
    tolerance: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    fraction: float = Field(default=1.0, gt=0.0, le=1.0, allow_inf_nan=False)


class NumericDefinition(StrictModel):
    answers: list[NumericAnswer] = Field(min_length=1)
    unit: str | None = Field(default=None, min_length=1)


def within(answer: NumericAnswer, value: float) -> bool:
    slack = _REL_EPSILON * max(1.0, abs(answer.value), abs(value))
    return abs(value - answer.value) <= answer.tolerance + slack


def parse_number(raw: str, unit: str | None) -> float | None:
    """Parse a numeric string, dropping an optional trailing unit; None if blank."""
    text = normalize_text(raw).replace("\u2212", "-")  # U+2212 MINUS SIGN survives NFKC
    if not text:
        return None
    if unit:
        folded = normalize_text(unit)
        if text.endswith(folded):
            text = text[: -len(folded)].rstrip()
    if not _NUMBER.fullmatch(text):
        hint = f" (unit must be {unit!r})" if unit else ""
        raise InvalidResponse(f"response: {raw!r} is not a number{hint}")
    return _finite(float(text))


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise InvalidResponse(f"response: {value!r} is not a finite number")
    return value


class Numeric(QuestionType[NumericDefinition]):
    name = "numeric"
    model = NumericDefinition

    def check(self, definition: NumericDefinition) -> list[str]:
        if definition.unit is not None and not normalize_text(definition.unit):
            return ["definition.unit: unit must not be blank"]
        return []

    def validate_response(self, definition: NumericDefinition, raw: Any) -> float | None:
        if raw is None:
            return None
        # bool is an int subclass; a checkbox value is never a numeric answer.
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise InvalidResponse(f"response: expected a number, got {type(raw).__name__}")
        if isinstance(raw, str):
            return parse_number(raw, definition.unit)
        return _finite(float(raw))

    def grade(self, definition: NumericDefinition, response: Any) -> Outcome:
        if response is None:
            return blank()
        fraction = max((a.fraction for a in definition.answers if within(a, response)), default=0.0)
        return graded(fraction)

    def student_view(self, definition: NumericDefinition) -> dict[str, Any]:
        return {"unit": definition.unit} if definition.unit else {}
