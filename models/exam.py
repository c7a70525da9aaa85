"""Exams: a paper scheduled in a window, with a duration and a roster of candidates."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import ExamDuty


class Exam(Base):
    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    results_released: Mapped[bool] = mapped_column(default=False)
    # Per-candidate variants (seeded by the attempt): order of items within sections, of options.
    shuffle_items: Mapped[bool] = mapped_column(default=False, server_default=false())
    shuffle_options: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class ExamCandidate(Base):
    """The roster, copied from the class when the exam is scheduled (later moves don't change it)."""

    __tablename__ = "exam_candidates"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)


class ExamStaff(Base):
    """People assigned to an exam besides its creator: proctors, markers, organisers."""

    __tablename__ = "exam_staff"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    duty: Mapped[ExamDuty] = mapped_column(String(20), primary_key=True)
