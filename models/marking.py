"""Online marking (网上阅卷) of subjective answers: units, anonymous tasks, append-only marks.

A **marking unit** is one question of an exam (a paper slot; ``slot_ids`` leaves room for a group
of blanks) marked in one mode (single, double or triple) with a tolerance in points and a score
step. A **task** is one candidate's answer to a unit; markers see it only by its opaque ``token``.
A task is leased to one marker at a time (``leased_by`` until ``lease_expires_at``) so a batch is
never handed out twice. **Marks** are append-only: every score given, by whom, in which round, the
marks per rubric criterion and the seconds spent. The state machine is :mod:`grading.marking`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class MarkingUnit(Base):
    __tablename__ = "marking_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    slot_ids: Mapped[list[int]] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Numeric(8, 2, asdecimal=False))
    mode: Mapped[str] = mapped_column(String(10))  # single, double, triple (grading.marking.MarkingMode)
    tolerance: Mapped[float] = mapped_column(Numeric(8, 4, asdecimal=False), default=0)
    score_step: Mapped[float] = mapped_column(Numeric(8, 4, asdecimal=False))
    lead_marker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class MarkingAssignment(Base):
    """A marker on a unit, with an optional quota (the most tasks they mark on it)."""

    __tablename__ = "marking_assignments"

    unit_id: Mapped[int] = mapped_column(ForeignKey("marking_units.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    quota: Mapped[int | None] = mapped_column(Integer)


class MarkingTask(Base):
    __tablename__ = "marking_tasks"
    __table_args__ = (UniqueConstraint("unit_id", "attempt_id"), Index("ix_marking_tasks_queue", "unit_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # what markers see instead of anyone's id
    unit_id: Mapped[int] = mapped_column(ForeignKey("marking_units.id"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    crop_id: Mapped[int | None] = mapped_column(ForeignKey("answer_crops.id"))
    state: Mapped[str] = mapped_column(String(20))  # grading.marking.TaskStatus
    resume_state: Mapped[str | None] = mapped_column(String(20))  # where a problem task goes back to
    problem: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str | None] = mapped_column(String(12))
    final_score: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    leased_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MarkingMark(Base):
    """Append-only: one score given to one task."""

    __tablename__ = "marking_marks"
    __table_args__ = (UniqueConstraint("task_id", "marker_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("marking_tasks.id"), index=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    round: Mapped[str] = mapped_column(String(12))  # first, second, third, arbitration
    score: Mapped[float] = mapped_column(Numeric(10, 4, asdecimal=False))
    criteria: Mapped[list[float] | None] = mapped_column(JSON)
    seconds_spent: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MarkingResend(Base):
    """A lead's request that a marker mark one of their marked scripts again, blind (回评).

    The marker sees it in a batch under its own opaque ``token`` (never the task's), so it looks like
    any other script; the answer is a :class:`MarkingRemark` and never changes the task's score."""

    __tablename__ = "marking_resends"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("marking_tasks.id"), index=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("marking_marks.id"))  # the mark being checked
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class MarkingRemark(Base):
    """Append-only: the blind second look at a re-sent script (a score, or a problem flag)."""

    __tablename__ = "marking_remarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    resend_id: Mapped[int] = mapped_column(ForeignKey("marking_resends.id"), unique=True)
    score: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    criteria: Mapped[list[float] | None] = mapped_column(JSON)
    problem: Mapped[str | None] = mapped_column(String(300))
    seconds_spent: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class MarkingVoid(Base):
    """Append-only: a mark sent back by the lead marker. The mark row stays; it no longer counts."""

    __tablename__ = "marking_voids"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("marking_marks.id"), unique=True)
    voided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
