"""The one shared schema: SQLAlchemy 2.x ORM tables, one module per aggregate.

This package imports nothing from the rest of the project. Alembic migrations in
``models/migrations`` are the only way the schema changes.
"""

from models.attempt import Attempt, AttemptAnswer, AttemptStep
from models.audit import AuditEvent, OutboxJob
from models.base import Base
from models.enums import AttemptState, ExamDuty, FinishReason, ItemStatus, ItemType, Role, ShareScope, StepKind
from models.exam import Exam, ExamCandidate, ExamForm, ExamRoom, ExamSitting, ExamStaff
from models.item import EnemySet, EnemySetMember, Item, ItemKnowledgePoint, ItemUsage, KnowledgePoint
from models.marking import (
    MarkingAssignment,
    MarkingMark,
    MarkingRemark,
    MarkingResend,
    MarkingTask,
    MarkingUnit,
    MarkingVoid,
)
from models.ocr import CropReading
from models.org import District, Grade, Room, School, SchoolClass, Site, TeacherAssignment
from models.paper import Paper, PaperSection, PaperSlot
from models.printing import PrintJob
from models.proctoring import (
    EnrolledPhoto,
    ProctorAction,
    ProctorConsent,
    ProctorEvent,
    ProctorFlag,
    ProctorFrame,
    ProctorRuleState,
    ProctorSession,
    ProctorSettings,
)
from models.scanning import AnswerCrop, AnswerSheet, ScanBatch, ScanPage
from models.user import ClassMembership, RefreshToken, User

__all__ = [
    "EnrolledPhoto",
    "ProctorAction",
    "ProctorConsent",
    "ProctorEvent",
    "ProctorFlag",
    "ProctorFrame",
    "ProctorRuleState",
    "ProctorSession",
    "ProctorSettings",
    "CropReading",
    "MarkingAssignment",
    "MarkingMark",
    "MarkingRemark",
    "MarkingResend",
    "MarkingTask",
    "MarkingUnit",
    "MarkingVoid",
    "PrintJob",
    "AnswerCrop",
    "AnswerSheet",
    "ScanBatch",
    "ScanPage",
    "Attempt",
    "AttemptAnswer",
    "AttemptState",
    "AttemptStep",
    "AuditEvent",
    "Base",
    "ClassMembership",
    "District",
    "EnemySet",
    "EnemySetMember",
    "Exam",
    "ExamCandidate",
    "ExamDuty",
    "ExamForm",
    "ExamRoom",
    "ExamSitting",
    "ExamStaff",
    "FinishReason",
    "Grade",
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
    "Room",
    "School",
    "SchoolClass",
    "ShareScope",
    "Site",
    "StepKind",
    "TeacherAssignment",
    "User",
]
