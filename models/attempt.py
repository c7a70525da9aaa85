"""Attempts. ``attempt_steps`` is append-only (the audit trail and the source for regrading);
``attempt_answers`` is the latest accepted response per slot (a projection for fast reads)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import AttemptState, FinishReason, StepKind


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("exam_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[AttemptState] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    finish_reason: Mapped[FinishReason | None] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    max_score: Mapped[float] = mapped_column(Numeric(10, 4, asdecimal=False))
    needs_manual_grading: Mapped[bool] = mapped_column(default=False)
    variant_seed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AttemptStep(Base):
    __tablename__ = "attempt_steps"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    kind: Mapped[StepKind] = mapped_column(String(30))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("paper_slots.id"))
    client_seq: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AttemptAnswer(Base):
    __tablename__ = "attempt_answers"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("paper_slots.id"), primary_key=True)
    response: Mapped[Any] = mapped_column(JSON)
    client_seq: Mapped[int] = mapped_column(BigInteger)
    saved_at: Mapped[datetime]
    fraction: Mapped[float | None] = mapped_column(Numeric(8, 6, asdecimal=False))
    grading_state: Mapped[str | None] = mapped_column(String(20))
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
