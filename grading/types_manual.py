"""short_answer and essay: free text graded by a human.

Only a blank response is graded automatically (0); anything else waits for a
teacher, who sees the reference answer and rubric the student never does.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grading.base import QuestionType, StrictModel, require_str
from grading.errors import InvalidResponse
from grading.outcome import Outcome, blank, needs_manual


class ManualDefinition(StrictModel):
    reference_answer: str | None = None
    rubric: str | None = None
    max_chars: int | None = Field(default=None, gt=0)


class _Manual(QuestionType[ManualDefinition]):
    manual = True
    model = ManualDefinition

    def validate_response(self, definition: ManualDefinition, raw: Any) -> str | None:
        if raw is None:
            return None
        text = require_str(raw, "response", "a string")
        if not text.strip():
            return None
        # Kept as typed (indentation can matter in an essay); the limit counts what is stored.
        limit = definition.max_chars
        if limit is not None and len(text) > limit:
            raise InvalidResponse(f"response: {len(text)} characters exceeds max_chars {limit}")
        return text

    def grade(self, definition: ManualDefinition, response: Any) -> Outcome:
        return blank() if not response else needs_manual()

    def student_view(self, definition: ManualDefinition) -> dict[str, Any]:
        return {"max_chars": definition.max_chars} if definition.max_chars is not None else {}


class ShortAnswer(_Manual):
    name = "short_answer"


class Essay(_Manual):
    name = "essay"
