"""Scheduling exams, reading rosters and releasing results."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.db import enqueue_after_commit
from exam_server.errors import NotFound, NotYours, Unprocessable
from item_bank.papers import freeze_paper, load_paper
from item_bank.usage import record_usage
from models import ClassMembership, Exam, ExamCandidate, ExamDuty, ExamStaff, Role, SchoolClass, User


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
    """Schedule a paper the teacher may read for a class they teach (or administer)."""
    _check_window(data, now)
    paper = load_paper(session, data.paper_id)
    if paper is None or not permissions.may_read_paper(session, teacher, paper, now):
        raise NotFound(f"paper_id: paper {data.paper_id} does not exist or is not yours to use")
    klass = session.get(SchoolClass, data.class_id)
    if klass is None or not permissions.may_manage_class(session, teacher, klass):
        raise NotFound(f"class_id: class {data.class_id} does not exist among the classes you teach")
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
    session.add_all(ExamCandidate(exam_id=exam.id, user_id=uid, extra_minutes=0, class_id=data.class_id)
                    for uid in members)
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


def visible_exam(session: Session, user: User, exam_id: int) -> Exam:
    """The exam if the user may see it; otherwise NotFound, as if it did not exist."""
    exam = session.get(Exam, exam_id)
    if exam is None or not permissions.may_see_exam(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist")
    return exam


def managed_exam(session: Session, user: User, exam_id: int) -> Exam:
    exam = visible_exam(session, user, exam_id)
    if not permissions.may_manage_exam(session, user, exam):
        raise NotYours(f"exam {exam_id}: only its creator, an organiser or a district admin may change it")
    return exam


def exam_for_results(session: Session, user: User, exam_id: int) -> Exam:
    exam = visible_exam(session, user, exam_id)
    if not permissions.may_read_results(session, user, exam):
        raise NotYours(f"exam {exam_id}: only its creator, organisers, markers and district admins read results")
    return exam


def exams_for_student(session: Session, user_id: int) -> list[Exam]:
    query = (
        select(Exam).join(ExamCandidate, ExamCandidate.exam_id == Exam.id)
        .where(ExamCandidate.user_id == user_id).order_by(Exam.opens_at)
    )
    return list(session.scalars(query))


def exams_for_staff(session: Session, user: User) -> list[Exam]:
    return list(session.scalars(select(Exam).where(permissions.exams_clause(user)).order_by(Exam.opens_at)))


def exam_school(session: Session, exam: Exam) -> int | None:
    klass = session.get(SchoolClass, exam.class_id) if exam.class_id is not None else None
    return klass.school_id if klass is not None else None


# Which roles may take which duty on an exam.
DUTY_ROLES: dict[ExamDuty, frozenset[Role]] = {
    ExamDuty.PROCTOR: frozenset({Role.PROCTOR, Role.TEACHER, Role.REVIEWER}),
    ExamDuty.MARKER: frozenset({Role.MARKER, Role.TEACHER, Role.REVIEWER}),
    ExamDuty.ORGANISER: frozenset({Role.TEACHER, Role.REVIEWER, Role.ADMIN, Role.CENTRE_STAFF}),
}


def assign_staff(session: Session, exam: Exam, user_id: int, duty: ExamDuty) -> ExamStaff:
    """Add a proctor, marker or organiser from the exam's own school (district admins from anywhere)."""
    member = session.get(User, user_id)
    if member is None or not member.is_active:
        raise NotFound(f"user_id: user {user_id} does not exist")
    if member.role not in DUTY_ROLES[duty]:
        allowed = ", ".join(sorted(DUTY_ROLES[duty]))
        raise Unprocessable(f"user_id: a {member.role} cannot be {duty}; allowed roles: {allowed}")
    school = exam_school(session, exam)
    if member.role != Role.ADMIN and school is not None and member.school_id != school:
        raise Unprocessable(f"user_id: user {user_id} is not from school {school}, where exam {exam.id} is held")
    staff = session.get(ExamStaff, (exam.id, user_id, duty))
    if staff is None:
        staff = ExamStaff(exam_id=exam.id, user_id=user_id, duty=duty)
        session.add(staff)
        session.flush()
    return staff


def remove_staff(session: Session, exam: Exam, user_id: int, duty: ExamDuty) -> None:
    staff = session.get(ExamStaff, (exam.id, user_id, duty))
    if staff is None:
        raise NotFound(f"user {user_id} is not {duty} of exam {exam.id}")
    session.delete(staff)


def staff_of(session: Session, exam: Exam) -> list[tuple[ExamStaff, User]]:
    query = (select(ExamStaff, User).join(User, User.id == ExamStaff.user_id)
             .where(ExamStaff.exam_id == exam.id).order_by(ExamStaff.duty, User.username))
    return [(staff, user) for staff, user in session.execute(query)]


def release_results(session: Session, exam: Exam) -> None:
    exam.results_released = True
    enqueue_after_commit(session, "update_item_statistics", exam.id)
