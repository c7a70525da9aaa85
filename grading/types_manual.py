"""short_answer and essay: free text graded by a human.

Only a blank response is graded automatically (0); anything else waits for a
teacher, who sees the reference answer and rubric the student never does.

A definition may also carry (both hidden from students):

* ``score_step`` (给分步长, e.g. 0.5 or 1): every human mark is a multiple of it,
  between 0 and the slot's points. Without it the step is the stored precision,
  0.0001 points. It must itself be a multiple of 0.0001.
* ``criteria``: a rubric of criteria, each with ``max_points`` (a multiple of the
  step) and optional ``levels`` (points on the step within 0..max_points, each
  with a descriptor shown to markers). Such an item is marked per criterion.

``rubric`` stays the free-text marking guide (imported from QTI rubric blocks and
Moodle grader info); the points per criterion live in ``criteria``. Marking itself
(validating a score, rounding a proposed one, summing criteria) is in
:mod:`grading.marks`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from grading.base import QuestionType, StrictModel, normalize_text, require_str
from grading.errors import InvalidResponse
from grading.marks import STORED_STEP, fmt, is_multiple
from grading.outcome import Outcome, blank, needs_manual


class RubricLevel(StrictModel):
    points: float = Field(ge=0.0, allow_inf_nan=False)
    descriptor: str = Field(min_length=1)


class RubricCriterion(StrictModel):
    name: str = Field(min_length=1)
    max_points: float = Field(gt=0.0, le=1000.0, allow_inf_nan=False)
    levels: list[RubricLevel] | None = Field(default=None, min_length=1, max_length=20)


class ManualDefinition(StrictModel):
    reference_answer: str | None = None
    rubric: str | None = None
    max_chars: int | None = Field(default=None, gt=0)
    score_step: float | None = Field(default=None, gt=0.0, le=100.0, allow_inf_nan=False)
    criteria: list[RubricCriterion] | None = Field(default=None, min_length=1, max_length=50)

    def step(self) -> float:
        return STORED_STEP if self.score_step is None else self.score_step


def _criterion_problems(index: int, criterion: RubricCriterion, step: float) -> list[str]:
    where = f"definition.criteria[{index}]"
    problems: list[str] = []
    if not normalize_text(criterion.name):
        problems.append(f"{where}.name: criterion name must not be blank")
    if not is_multiple(criterion.max_points, step):
        problems.append(f"{where}.max_points: {fmt(criterion.max_points)} is not a multiple of the "
                        f"score step {fmt(step)}")
    seen: set[float] = set()
    for l_index, level in enumerate(criterion.levels or ()):
        at = f"{where}.levels[{l_index}]"
        if level.points > criterion.max_points:
            problems.append(f"{at}.points: {fmt(level.points)} is above the criterion's max_points "
                            f"{fmt(criterion.max_points)}")
        elif not is_multiple(level.points, step):
            problems.append(f"{at}.points: {fmt(level.points)} is not a multiple of the score step {fmt(step)}")
        elif level.points in seen:
            problems.append(f"{at}.points: another level already gives {fmt(level.points)} points")
        seen.add(level.points)
        if not normalize_text(level.descriptor):
            problems.append(f"{at}.descriptor: descriptor must not be blank")
    return problems


class _Manual(QuestionType[ManualDefinition]):
    manual = True
    model = ManualDefinition

    def check(self, definition: ManualDefinition) -> list[str]:
        problems: list[str] = []
        if definition.score_step is not None and not is_multiple(definition.score_step, STORED_STEP):
            problems.append(f"definition.score_step: {fmt(definition.score_step)} is finer than the stored "
                            f"precision ({fmt(STORED_STEP)} points)")
        names: set[str] = set()
        for index, criterion in enumerate(definition.criteria or ()):
            problems += _criterion_problems(index, criterion, definition.step())
            name = normalize_text(criterion.name).casefold()
            if name and name in names:
                problems.append(f"definition.criteria[{index}].name: duplicate criterion {criterion.name!r}")
            names.add(name)
        return problems

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
