"""fill_blank: one or more blanks, each with weighted accepted answers.

Matching normalises both sides with NFKC (so full-width IME input such as
``ＨＥＬＬＯ　１`` matches ``hello 1``), trims and collapses whitespace, and
ignores case unless the blank is ``case_sensitive``. ``*`` in an accepted
answer matches any run of characters; everything else is literal. A blank
earns the best fraction among the answers it matches, and the item earns the
mean over its blanks.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import Field

from grading.base import QuestionType, StrictModel, normalize_text, type_name
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, graded


class BlankAnswer(StrictModel):
    text: str = Field(min_length=1)
    fraction: float = Field(gt=0.0, le=1.0, allow_inf_nan=False)


class Blank(StrictModel):
    answers: list[BlankAnswer] = Field(min_length=1)
    case_sensitive: bool = False


class FillBlankDefinition(StrictModel):
    blanks: list[Blank] = Field(min_length=1)


def _fold(text: str, case_sensitive: bool) -> str:
    text = normalize_text(text)
    return text if case_sensitive else text.casefold()


@lru_cache(maxsize=1024)
def _pattern(answer: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = _fold(answer, case_sensitive).split("*")
    return re.compile(".*".join(re.escape(part) for part in parts), re.DOTALL)


def blank_fraction(spec: Blank, given: str | None) -> float:
    """Best fraction among the accepted answers matching `given` (0 when empty)."""
    if not given:
        return 0.0
    text = _fold(given, spec.case_sensitive)
    matches = [a.fraction for a in spec.answers if _pattern(a.text, spec.case_sensitive).fullmatch(text)]
    return max(matches, default=0.0)


class FillBlank(QuestionType[FillBlankDefinition]):
    name = "fill_blank"
    model = FillBlankDefinition

    def check(self, definition: FillBlankDefinition) -> list[str]:
        problems: list[str] = []
        for b_index, spec in enumerate(definition.blanks):
            where = f"definition.blanks[{b_index}].answers"
            for a_index, answer in enumerate(spec.answers):
                if not normalize_text(answer.text):
                    problems.append(f"{where}[{a_index}].text: answer must not be blank")
            if not any(answer.fraction == 1.0 for answer in spec.answers):
                problems.append(f"{where}: at least one answer must have fraction 1.0")
        return problems

    def validate_response(self, definition: FillBlankDefinition, raw: Any) -> list[str | None] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise InvalidResponse(f"response: expected a list of strings, got {type_name(raw)}")
        expected = len(definition.blanks)
        if len(raw) != expected:
            raise InvalidResponse(f"response: expected {expected} blank(s), got {len(raw)}")
        entries = [_entry(item, f"response[{i}]") for i, item in enumerate(raw)]
        return entries if any(entry is not None for entry in entries) else None

    def grade(self, definition: FillBlankDefinition, response: Any) -> Outcome:
        if response is None:
            return blank()
        pairs = zip(definition.blanks, response, strict=True)
        fractions = [blank_fraction(spec, given) for spec, given in pairs]
        return graded(sum(fractions) / len(fractions), {"blanks": fractions})

    def student_view(self, definition: FillBlankDefinition) -> dict[str, Any]:
        return {"blanks": len(definition.blanks)}


def _entry(item: Any, where: str) -> str | None:
    if item is None:
        return None
    if not isinstance(item, str):
        raise InvalidResponse(f"{where}: expected a string or null, got {type_name(item)}")
    # Stored trimmed; internal whitespace is kept as typed for the reviewer.
    return item.strip() or None
