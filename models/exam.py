"""Exams: a paper scheduled in a window, with a duration and a roster of candidates.

A joint exam (联考) adds forms (A/B卷), sittings (场次) with their own windows, the rooms used in each
sitting, and per candidate a sitting, room, seat and admission number (准考证号)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, false
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
    # Joint exams: the admission-number template, when numbers were published (then they never
    # change), and the seed of the seat allocation (so it can be repeated).
    admission_scheme: Mapped[str | None] = mapped_column(String(200))
    admission_published_at: Mapped[datetime | None]
    seat_seed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ExamForm(Base):
    """A form (A卷, B卷) of a joint exam: its own paper. Exam.paper_id is the default form."""

    __tablename__ = "exam_forms"
    __table_args__ = (UniqueConstraint("exam_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    label: Mapped[str] = mapped_column(String(10))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), index=True)


class ExamSitting(Base):
    """A sitting (场次) with its own window; make-up sittings (补考) are flagged."""

    __tablename__ = "exam_sittings"
    __table_args__ = (UniqueConstraint("exam_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    is_makeup: Mapped[bool] = mapped_column(default=False, server_default=false())


class ExamRoom(Base):
    """A room used by one sitting of an exam, optionally with the form everyone there sits."""

    __tablename__ = "exam_rooms"
    __table_args__ = (UniqueConstraint("sitting_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("exam_sittings.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 考场号 within the exam, used in admission numbers
    form_label: Mapped[str | None] = mapped_column(String(10))


class ExamCandidate(Base):
    """The roster, copied when the exam is scheduled (later class moves don't change it); for a
    joint exam also the sitting, room, seat, form and admission number."""

    __tablename__ = "exam_candidates"
    __table_args__ = (UniqueConstraint("exam_id", "admission_no"),)

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("exam_sittings.id"), index=True)
    exam_room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_rooms.id"), index=True)
    seat_no: Mapped[int | None] = mapped_column(Integer)
    form_label: Mapped[str | None] = mapped_column(String(10))
    admission_no: Mapped[str | None] = mapped_column(String(40), index=True)
    absent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Other accommodations (large print, a separate room, ...): {"kind": "note"}.
    accommodations: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ExamStaff(Base):
    """People assigned to an exam besides its creator: proctors, markers, organisers."""

    __tablename__ = "exam_staff"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    duty: Mapped[ExamDuty] = mapped_column(String(20), primary_key=True)
    # A proctor may be given one room of the exam (None: the whole exam).
    exam_room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_rooms.id"), index=True)
