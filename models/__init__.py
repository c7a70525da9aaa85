"""The one shared schema: SQLAlchemy 2.x ORM tables, one module per aggregate.

This package imports nothing from the rest of the project. Alembic migrations in
``models/migrations`` are the only way the schema changes.
"""

from models.attempt import Attempt, AttemptAnswer, AttemptStep
from models.audit import AuditEvent, OutboxJob
from models.base import Base
from models.enums import AttemptState, ExamDuty, FinishReason, ItemStatus, ItemType, Role, ShareScope, StepKind
from models.exam import Exam, ExamCandidate, ExamStaff
from models.item import EnemySet, EnemySetMember, Item, ItemKnowledgePoint, ItemUsage, KnowledgePoint
from models.paper import Paper, PaperSection, PaperSlot
from models.user import ClassMembership, RefreshToken, School, SchoolClass, User

__all__ = [
    "Attempt",
    "AttemptAnswer",
    "AttemptState",
    "AttemptStep",
    "AuditEvent",
    "Base",
    "ClassMembership",
    "EnemySet",
    "EnemySetMember",
    "Exam",
    "ExamCandidate",
    "ExamDuty",
    "ExamStaff",
    "FinishReason",
    "Item",
    "ItemKnowledgePoint",
    "ItemStatus",
    "ItemType",
    "ItemUsage",
    "KnowledgePoint",
    "OutboxJob",
    "Paper",
    "PaperSection",
    "PaperSlot",
    "RefreshToken",
    "Role",
    "School",
    "SchoolClass",
    "ShareScope",
    "StepKind",
    "User",
]
