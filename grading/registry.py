"""Registry of question types and the type-dispatching public functions."""

from __future__ import annotations

from typing import Any

from grading.base import QuestionType
from grading.errors import InvalidMark, UnknownItemType
from grading.limits import ResponseLimits, check_size
from grading.marks import STORED_STEP, Criterion, RubricMark, mark_rubric, round_to_step, score_fraction
from grading.outcome import Outcome
from grading.types_choice import MultipleChoice, SingleChoice, TrueFalse
from grading.types_manual import Essay, ManualDefinition, ShortAnswer
from grading.types_numeric import Numeric
from grading.types_structured import InlineChoice, Matching, Ordering
from grading.types_text import FillBlank

_TYPES: tuple[QuestionType[Any], ...] = (
    SingleChoice(),
    MultipleChoice(),
    TrueFalse(),
    FillBlank(),
    Numeric(),
    ShortAnswer(),
    Essay(),
    Matching(),
    Ordering(),
    InlineChoice(),
)

REGISTRY: dict[str, QuestionType[Any]] = {qtype.name: qtype for qtype in _TYPES}

ITEM_TYPES: tuple[str, ...] = tuple(REGISTRY)


def get_type(item_type: str) -> QuestionType[Any]:
    try:
        return REGISTRY[item_type]
    except (KeyError, TypeError):
        known = ", ".join(ITEM_TYPES)
        raise UnknownItemType(f"item_type: unknown item type {item_type!r}; known types: {known}") from None


def validate_definition(item_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Check an authored definition; returns the normalised JSON-able form to store."""
    qtype = get_type(item_type)
    return qtype.dump(qtype.parse(raw))


def validate_response(item_type: str, definition: dict[str, Any], raw: Any,
                      limits: ResponseLimits | None = None) -> Any:
    """Normalise a student's raw response; None means blank. With ``limits``, an over-long
    response raises ResponseTooLarge before any other work."""
    qtype = get_type(item_type)
    if limits is not None:
        check_size(item_type, raw, limits)
    return qtype.validate_response(qtype.parse(definition), raw)


def grade(item_type: str, definition: dict[str, Any], response: Any) -> Outcome:
    """Grade a response; it is re-normalised first so stale stored data cannot mis-grade."""
    qtype = get_type(item_type)
    parsed = qtype.parse(definition)
    return qtype.grade(parsed, qtype.validate_response(parsed, response))


def student_view(item_type: str, definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every key, reference answer and rubric removed."""
    qtype = get_type(item_type)
    return qtype.student_view(qtype.parse(definition))


def is_manual(item_type: str) -> bool:
    return get_type(item_type).manual


def _marking(item_type: str, definition: dict[str, Any]) -> tuple[float, list[Criterion]]:
    """The score step and rubric criteria of any item a person marks (auto types: no step, no rubric)."""
    parsed = get_type(item_type).parse(definition)
    if not isinstance(parsed, ManualDefinition):
        return STORED_STEP, []
    criteria = [Criterion(c.name, c.max_points) for c in parsed.criteria or ()]
    return parsed.step(), criteria


def mark_fraction(item_type: str, definition: dict[str, Any], points: float, score: Any) -> float:
    """A human's total score for a slot worth ``points``: validated on the item's step (never
    rounded) and returned as the fraction to store. Items with a rubric are marked per criterion."""
    step, criteria = _marking(item_type, definition)
    if criteria:
        raise InvalidMark(f"score: this item has a rubric of {len(criteria)} criteria; "
                          "give one mark per criterion (mark_criteria)")
    return score_fraction(score, points, step)


def propose_score(item_type: str, definition: dict[str, Any], points: float, proposed: Any) -> float:
    """A machine-proposed score rounded to the item's step (halves up) within [0, points]."""
    step, _ = _marking(item_type, definition)
    return round_to_step(proposed, points, step)


def mark_criteria(item_type: str, definition: dict[str, Any], marks: Any) -> RubricMark:
    """One mark per rubric criterion, validated and summed; ``fraction`` is what gets stored."""
    step, criteria = _marking(item_type, definition)
    if not criteria:
        raise InvalidMark("marks: this item has no rubric criteria; give one total score (mark_fraction)")
    return mark_rubric(criteria, marks, step)
