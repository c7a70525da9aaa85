"""The one shared schema: SQLAlchemy 2.x ORM tables, one module per aggregate.

This package imports nothing from the rest of the project. Alembic migrations in
``models/migrations`` are the only way the schema changes.
"""

from models.attempt import Attempt, AttemptAnswer, AttemptStep
from models.base import Base
from models.enums import AttemptState, FinishReason, ItemStatus, ItemType, Role, StepKind
from models.exam import Exam, ExamCandidate
from models.item import EnemySet, EnemySetMember, Item, ItemKnowledgePoint, ItemUsage, KnowledgePoint
from models.paper import Paper, PaperSection, PaperSlot
from models.user import ClassMembership, RefreshToken, School, SchoolClass, User

__all__ = [
    "Attempt",
    "AttemptAnswer",
    "AttemptState",
    "AttemptStep",
    "Base",
    "ClassMembership",
    "Exam",
    "ExamCandidate",
    "FinishReason",
    "EnemySet",
    "EnemySetMember",
    "Item",
    "ItemKnowledgePoint",
    "ItemUsage",
    "KnowledgePoint",
    "ItemStatus",
    "ItemType",
    "Paper",
    "PaperSection",
    "PaperSlot",
    "RefreshToken",
    "Role",
    "School",
    "SchoolClass",
    "StepKind",
    "User",
]
