"""Question-type registry and pure grading, modelled on Moodle's question engine.

Each item type has one definition schema and one pure ``grade(definition,
response) -> Outcome``; no database, HTTP or cache is involved.
"""

from grading.errors import GradingError, InvalidDefinition, InvalidResponse, ResponseTooLarge, UnknownItemType
from grading.limits import ResponseLimits
from grading.outcome import GradingState, Outcome
from grading.registry import (
    ITEM_TYPES,
    grade,
    is_manual,
    student_view,
    validate_definition,
    validate_response,
)
from grading.scoring import AttemptScore, SlotScore, SlotToScore, score_attempt

__all__ = [
    "ITEM_TYPES",
    "AttemptScore",
    "GradingError",
    "GradingState",
    "InvalidDefinition",
    "InvalidResponse",
    "Outcome",
    "ResponseLimits",
    "ResponseTooLarge",
    "SlotScore",
    "SlotToScore",
    "UnknownItemType",
    "grade",
    "is_manual",
    "score_attempt",
    "student_view",
    "validate_definition",
    "validate_response",
]
