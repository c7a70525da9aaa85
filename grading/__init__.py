"""Question-type registry and pure grading, modelled on Moodle's question engine.

Each item type has one definition schema and one pure ``grade(definition,
response) -> Outcome``; no database, HTTP or cache is involved.

Scoring rules: multiple choice with ``gaokao`` / ``proportional`` / ``all_or_nothing`` /
``ladder`` credit and ``pick`` (:mod:`grading.types_choice`); negative marking on single choice
and true/false with group floors (:mod:`grading.types_choice`, :mod:`grading.scoring`); human
marks on a score step and rubric points per criterion (:mod:`grading.marks`,
:mod:`grading.types_manual`).
"""

from grading.errors import (
    GradingError,
    InvalidDefinition,
    InvalidMark,
    InvalidResponse,
    ResponseTooLarge,
    UnknownItemType,
)
from grading.limits import ResponseLimits
from grading.marks import RubricMark
from grading.outcome import GradingState, Outcome
from grading.registry import (
    ITEM_TYPES,
    grade,
    is_manual,
    mark_criteria,
    mark_fraction,
    propose_score,
    student_view,
    validate_definition,
    validate_response,
)
from grading.scoring import AttemptScore, SlotScore, SlotToScore, floored_sum, score_attempt

__all__ = [
    "ITEM_TYPES",
    "AttemptScore",
    "GradingError",
    "GradingState",
    "InvalidDefinition",
    "InvalidMark",
    "InvalidResponse",
    "Outcome",
    "ResponseLimits",
    "ResponseTooLarge",
    "RubricMark",
    "SlotScore",
    "SlotToScore",
    "UnknownItemType",
    "floored_sum",
    "grade",
    "is_manual",
    "mark_criteria",
    "mark_fraction",
    "propose_score",
    "score_attempt",
    "student_view",
    "validate_definition",
    "validate_response",
]
