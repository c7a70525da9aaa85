"""Exams: scheduling (staff), listing, releasing results, and the results table."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from exam_server.deps import RuntimeDep, SchedulerDep, SessionDep, SignedInDep, atomic
from exam_server.services import attempts, exams, regrade
from exam_server.services import results as result_views
from models import Attempt, Exam, ExamCandidate, ExamDuty, Role, User

router = APIRouter(prefix="/api/exams", tags=["exams"])


class ExamIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    paper_id: int
    class_id: int
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int = Field(gt=0, le=24 * 60, description="minutes each candidate gets, > 0")
    shuffle_items: bool = Field(False, description="each candidate gets the items of a section in their own order")
    shuffle_options: bool = Field(False, description="each candidate gets the options of an item in their own order")


class MyAttempt(BaseModel):
    attempt_id: int
    state: str
    deadline: datetime
    finished_at: datetime | None
    score: float | None = Field(description="only once results are released")
    max_score: float
    provisional: bool = Field(False, description="released, but some answers are still being marked")


class ExamOut(BaseModel):
    id: int
    title: str
    paper_id: int
    class_id: int | None
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int
    results_released: bool
    shuffle_items: bool
    shuffle_options: bool
    my_attempt: MyAttempt | None = Field(default=None, description="students: their own attempt, if started")
    pending_answers: int | None = Field(default=None, description="staff: answers waiting for marking")

    @classmethod
    def of(cls, exam: Exam, attempt: Attempt | None = None, pending: int | None = None) -> "ExamOut":
        mine = None
        if attempt is not None:
            score = attempt.score if exam.results_released else None
            mine = MyAttempt(attempt_id=attempt.id, state=attempt.state, deadline=attempt.deadline,
                             finished_at=attempt.finished_at, score=score, max_score=attempt.max_score,
                             provisional=exam.results_released and attempt.needs_manual_grading)
        return cls(id=exam.id, title=exam.title, paper_id=exam.paper_id, class_id=exam.class_id,
                   opens_at=exam.opens_at, closes_at=exam.closes_at, duration_minutes=exam.duration_minutes,
                   results_released=exam.results_released, shuffle_items=exam.shuffle_items,
                   shuffle_options=exam.shuffle_options, my_attempt=mine, pending_answers=pending)


class ResultRow(BaseModel):
    user_id: int
    username: str
    display_name: str
    attempt_id: int | None
    state: str | None
    score: float | None
    max_score: float | None
    finish_reason: str | None
    pending_answers: int = Field(0, description="this candidate's answers waiting for marking")


@router.post("", status_code=201)
@atomic
def schedule(body: ExamIn, user: SchedulerDep, runtime: RuntimeDep, session: SessionDep) -> ExamOut:
    data = exams.ExamInput(body.title, body.paper_id, body.class_id, body.opens_at, body.closes_at,
                           body.duration_minutes, body.shuffle_items, body.shuffle_options)
    exam = exams.schedule_exam(session, user, data, runtime.clock())
    runtime.paper_views.pop(exam.paper_id, None)
    return ExamOut.of(exam)


@router.get("")
def list_exams(user: SignedInDep, session: SessionDep) -> list[ExamOut]:
    """Students: the exams they are on. Staff: the exams they created or are assigned to
    (district admins: all)."""
    if user.role == Role.STUDENT:
        mine = {a.exam_id: a for a in session.scalars(select(Attempt).where(Attempt.user_id == user.id))}
        return [ExamOut.of(e, mine.get(e.id)) for e in exams.exams_for_student(session, user.id)]
    staff_exams = exams.exams_for_staff(session, user)
    pending = result_views.pending_by_exam(session, (e.id for e in staff_exams))
    return [ExamOut.of(e, pending=pending.get(e.id, 0)) for e in staff_exams]


@router.get("/{exam_id}")
def get_exam(exam_id: int, user: SignedInDep, session: SessionDep) -> ExamOut:
    exam = exams.visible_exam(session, user, exam_id)
    mine = attempts.find_attempt(session, exam_id, user.id) if user.role == Role.STUDENT else None
    return ExamOut.of(exam, mine)


@router.post("/{exam_id}/release")
@atomic
def release(exam_id: int, user: SchedulerDep, session: SessionDep) -> ExamOut:
    exam = exams.managed_exam(session, user, exam_id)
    exams.release_results(session, exam)
    return ExamOut.of(exam)


@router.get("/{exam_id}/results")
def results(exam_id: int, user: SchedulerDep, session: SessionDep) -> list[ResultRow]:
    exams.exam_for_results(session, user, exam_id)
    rows = session.execute(
        select(User, Attempt)
        .join(ExamCandidate, ExamCandidate.user_id == User.id)
        .outerjoin(Attempt, (Attempt.user_id == User.id) & (Attempt.exam_id == exam_id))
        .where(ExamCandidate.exam_id == exam_id)
        .order_by(User.username)
    )
    pending = result_views.pending_by_attempt(session, exam_id)
    return [
        ResultRow(user_id=u.id, username=u.username, display_name=u.display_name,
                  attempt_id=a.id if a else None, state=a.state if a else None,
                  score=a.score if a else None, max_score=a.max_score if a else None,
                  finish_reason=a.finish_reason if a else None, pending_answers=pending.get(a.id, 0) if a else 0)
        for u, a in rows
    ]


@router.post("/{exam_id}/regrade")
@atomic
def regrade_exam(exam_id: int, user: SchedulerDep, runtime: RuntimeDep, session: SessionDep,
                 dry_run: bool = True) -> dict[str, Any]:
    """Re-score every finished attempt with the latest version of each item (after a key or rule
    fix). ``dry_run`` (the default) only lists what would change: per attempt and slot the old and
    new fraction and score, and the old and new total. Slots marked by a person are never touched."""
    exam = exams.managed_exam(session, user, exam_id)
    report = regrade.regrade_exam(session, exam.id, user, dry_run, runtime.clock())
    if not dry_run:
        runtime.paper_views.pop(exam.paper_id, None)
    return report.as_dict()


class StaffIn(BaseModel):
    user_id: int
    duty: ExamDuty


class StaffOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    duty: str


@router.get("/{exam_id}/staff")
def list_staff(exam_id: int, user: SchedulerDep, session: SessionDep) -> list[StaffOut]:
    return _staff(session, exams.managed_exam(session, user, exam_id))


@router.post("/{exam_id}/staff", status_code=201)
@atomic
def assign_staff(exam_id: int, body: StaffIn, user: SchedulerDep, session: SessionDep) -> list[StaffOut]:
    """Assign a proctor, marker or organiser (from the exam's school). Proctors then see this exam only."""
    exam = exams.managed_exam(session, user, exam_id)
    exams.assign_staff(session, exam, body.user_id, body.duty)
    return _staff(session, exam)


@router.delete("/{exam_id}/staff/{user_id}/{duty}", status_code=204)
@atomic
def remove_staff(exam_id: int, user_id: int, duty: ExamDuty, user: SchedulerDep, session: SessionDep) -> None:
    exam = exams.managed_exam(session, user, exam_id)
    exams.remove_staff(session, exam, user_id, duty)


def _staff(session: SessionDep, exam: Exam) -> list[StaffOut]:
    return [StaffOut(user_id=u.id, username=u.username, display_name=u.display_name, role=u.role, duty=s.duty)
            for s, u in exams.staff_of(session, exam)]
