"""Scheduling exams, reading rosters and releasing results."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db import enqueue_after_commit
from exam_server.errors import Forbidden, NotFound, Unprocessable
from item_bank.papers import freeze_paper, load_paper
from item_bank.usage import record_usage
from models import ClassMembership, Exam, ExamCandidate, Role, SchoolClass, User


@dataclass(frozen=True)
class ExamInput:
    title: str
    paper_id: int
    class_id: int
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int
    shuffle_items: bool = False
    shuffle_options: bool = False


def schedule_exam(session: Session, teacher: User, data: ExamInput, now: datetime) -> Exam:
    _check_window(data, now)
    paper = load_paper(session, data.paper_id)
    if paper is None:
        raise NotFound(f"paper_id: paper {data.paper_id} does not exist")
    if session.get(SchoolClass, data.class_id) is None:
        raise NotFound(f"class_id: class {data.class_id} does not exist")
    exam = Exam(
        title=data.title, paper_id=paper.id, class_id=data.class_id, opens_at=data.opens_at,
        closes_at=data.closes_at, duration_minutes=data.duration_minutes, results_released=False,
        shuffle_items=data.shuffle_items, shuffle_options=data.shuffle_options,
        created_by=teacher.id, created_at=now,
    )
    session.add(exam)
    session.flush()
    members = session.scalars(
        select(User.id).join(ClassMembership, ClassMembership.user_id == User.id)
        .where(ClassMembership.class_id == data.class_id, User.role == Role.STUDENT)
    )
    session.add_all(ExamCandidate(exam_id=exam.id, user_id=uid, extra_minutes=0) for uid in members)
    freeze_paper(session, paper)
    record_usage(session, [slot.item_id for section in paper.sections for slot in section.slots], exam.id,
                 data.class_id, now)
    session.flush()
    return exam


def _check_window(data: ExamInput, now: datetime) -> None:
    if data.opens_at.tzinfo is None or data.closes_at.tzinfo is None:
        raise Unprocessable("opens_at/closes_at: give a timezone (e.g. 2026-11-24T09:00:00+08:00)")
    if data.closes_at <= now:
        raise Unprocessable(f"closes_at: the exam window ends in the past ({data.closes_at.isoformat()})")
    if data.closes_at <= data.opens_at:
        raise Unprocessable("closes_at: must be after opens_at")
    if data.duration_minutes <= 0:
        raise Unprocessable(f"duration_minutes: must be positive, got {data.duration_minutes}")


def get_exam(session: Session, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    return exam


def exams_for_student(session: Session, user_id: int) -> list[Exam]:
    query = (
        select(Exam).join(ExamCandidate, ExamCandidate.exam_id == Exam.id)
        .where(ExamCandidate.user_id == user_id).order_by(Exam.opens_at)
    )
    return list(session.scalars(query))


def exams_for_staff(session: Session, user: User) -> list[Exam]:
    query = select(Exam).order_by(Exam.opens_at)
    if user.role == Role.TEACHER:
        query = query.where(Exam.created_by == user.id)
    return list(session.scalars(query))


def ensure_staff_owns(exam: Exam, user: User) -> None:
    if user.role == Role.TEACHER and exam.created_by != user.id:
        raise Forbidden(f"exam {exam.id} belongs to another teacher")


def release_results(session: Session, exam: Exam) -> None:
    exam.results_released = True
    enqueue_after_commit(session, "update_item_statistics", exam.id)
