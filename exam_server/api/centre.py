"""Joint exams (联考) as the exam centre runs them: roster, forms, sittings, rooms, seats,
admission numbers and the day itself; plus a teacher's read-only part of a joint exam."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from exam_server import permissions
from exam_server.deps import CentreDep, RuntimeDep, SchedulerDep, SessionDep, SignedInDep, atomic
from exam_server.errors import NotFound
from exam_server.services import attendance, joint, seat_plan
from models import Exam, ExamCandidate, Role, User

router = APIRouter(prefix="/api/centre/exams", tags=["centre"])
teacher_router = APIRouter(prefix="/api/teacher/joint-exams", tags=["centre"])


class RosterIn(BaseModel):
    school_id: int | None = None
    student_numbers: list[str] = Field(default_factory=list, max_length=100_000)
    user_ids: list[int] = Field(default_factory=list, max_length=100_000)


class TargetsIn(BaseModel):
    class_ids: list[int] = Field(default_factory=list)
    school_ids: list[int] = Field(default_factory=list)
    roster: list[RosterIn] = Field(default_factory=list, description="imported: student numbers per school, or ids")


class JointIn(TargetsIn):
    title: str = Field(min_length=1, max_length=300)
    paper_id: int
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int = Field(gt=0, le=24 * 60)


class FormIn(BaseModel):
    label: str = Field(min_length=1, max_length=10)
    paper_id: int


class SittingIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    opens_at: datetime
    closes_at: datetime
    is_makeup: bool = False


class ExamRoomIn(BaseModel):
    sitting_id: int
    room_id: int
    form_label: str | None = Field(None, description="one form for this room (per-room forms)")


class SettingsIn(BaseModel):
    admission_scheme: str | None = Field(None, max_length=200, description="e.g. {year}{site}{room:03}{seat:02}")
    seat_seed: int | None = Field(None, ge=0, lt=2**62)


class AbsentIn(BaseModel):
    absent: bool = True


class MoveIn(BaseModel):
    exam_room_id: int
    seat_no: int | None = Field(None, gt=0, description="default: the first free seat")


class AccommodationsIn(BaseModel):
    extra_minutes: int = Field(0, ge=0, le=600)
    accommodations: dict[str, str] | None = None


class JointOut(BaseModel):
    id: int
    title: str
    paper_id: int
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int
    admission_scheme: str | None
    admission_published_at: datetime | None
    seat_seed: int
    form_mode: str
    candidates: int
    seated: int
    forms: list[dict[str, Any]]
    sittings: list[dict[str, Any]]
    rooms: list[dict[str, Any]]


class CandidateOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    class_id: int | None
    class_name: str | None
    sitting_id: int | None
    exam_room_id: int | None
    room_number: int | None
    site_code: str | None
    seat_no: int | None
    form_label: str | None
    admission_no: str | None
    absent: bool
    extra_minutes: int


class PlanOut(BaseModel):
    exam_room_id: int
    number: int
    room_code: str
    rows: int
    cols: int
    capacity: int
    form_label: str | None
    seats: list[CandidateOut]


class AuditOut(BaseModel):
    id: int
    actor_id: int | None
    actor: str | None
    action: str
    data: dict[str, Any] | None
    created_at: datetime


def _overview(session: SessionDep, exam: Exam) -> JointOut:
    rows = session.execute(select(ExamCandidate.exam_room_id).where(ExamCandidate.exam_id == exam.id)).all()
    rooms = [{"exam_room_id": er.id, "sitting_id": er.sitting_id, "room_id": r.id, "site_id": r.site_id,
              "number": er.number, "code": r.code, "name": r.name, "rows": r.rows, "cols": r.cols,
              "capacity": r.capacity, "form_label": er.form_label} for er, r in joint.rooms_of(session, exam.id)]
    sittings = [{"id": s.id, "name": s.name, "opens_at": s.opens_at, "closes_at": s.closes_at,
                 "is_makeup": s.is_makeup} for s in joint.sittings_of(session, exam.id)]
    return JointOut(id=exam.id, title=exam.title, paper_id=exam.paper_id, opens_at=exam.opens_at,
                    closes_at=exam.closes_at, duration_minutes=exam.duration_minutes,
                    admission_scheme=exam.admission_scheme, admission_published_at=exam.admission_published_at,
                    seat_seed=exam.seat_seed, form_mode=joint.form_mode(session, exam.id), candidates=len(rows),
                    seated=sum(1 for (room,) in rows if room is not None),
                    forms=[{"label": f.label, "paper_id": f.paper_id} for f in joint.forms_of(session, exam.id)],
                    sittings=sittings, rooms=rooms)


def _targets(body: TargetsIn) -> joint.JointInput:
    roster = tuple(joint.RosterEntry(r.school_id, tuple(r.student_numbers), tuple(r.user_ids)) for r in body.roster)
    epoch = datetime.min
    return joint.JointInput("", 0, epoch, epoch, 0, tuple(body.class_ids), tuple(body.school_ids), roster)


@router.post("", status_code=201)
@atomic
def create(body: JointIn, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> JointOut:
    targets = _targets(body)
    data = joint.JointInput(body.title, body.paper_id, body.opens_at, body.closes_at, body.duration_minutes,
                            targets.class_ids, targets.school_ids, targets.roster)
    return _overview(session, joint.create_joint_exam(session, user, data, runtime.clock()))


@router.get("")
def list_joint(user: CentreDep, session: SessionDep) -> list[JointOut]:
    """The joint exams (no single class) this user runs or is staff on; admins: all."""
    query = select(Exam).where(Exam.class_id.is_(None)).order_by(Exam.opens_at)
    if user.role != Role.ADMIN:
        query = query.where(permissions.centre_exams_clause(user))
    return [_overview(session, e) for e in session.scalars(query)]


@router.get("/{exam_id}")
def overview(exam_id: int, user: CentreDep, session: SessionDep) -> JointOut:
    return _overview(session, joint.read_exam(session, user, exam_id))


@router.post("/{exam_id}/candidates")
@atomic
def add_candidates(exam_id: int, body: TargetsIn, user: CentreDep, runtime: RuntimeDep,
                   session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    joint.add_targets(session, user, exam, _targets(body), runtime.clock())
    return _overview(session, exam)


@router.get("/{exam_id}/candidates")
def list_candidates(exam_id: int, user: CentreDep, session: SessionDep,
                    exam_room_id: int | None = None) -> list[CandidateOut]:
    exam = joint.read_exam(session, user, exam_id)
    return [CandidateOut(**row.__dict__) for row in attendance.candidates(session, exam, exam_room_id)]


@router.post("/{exam_id}/forms", status_code=201)
@atomic
def add_form(exam_id: int, body: FormIn, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    joint.add_form(session, user, exam, body.label, body.paper_id, runtime.clock())
    return _overview(session, exam)


@router.post("/{exam_id}/sittings", status_code=201)
@atomic
def add_sitting(exam_id: int, body: SittingIn, user: CentreDep, runtime: RuntimeDep,
                session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    joint.add_sitting(session, user, exam, body.name, body.opens_at, body.closes_at, body.is_makeup, runtime.clock())
    return _overview(session, exam)


@router.post("/{exam_id}/rooms", status_code=201)
@atomic
def add_room(exam_id: int, body: ExamRoomIn, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    joint.add_room(session, user, exam, body.sitting_id, body.room_id, body.form_label, runtime.clock())
    return _overview(session, exam)


@router.put("/{exam_id}/settings")
@atomic
def configure(exam_id: int, body: SettingsIn, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    joint.configure(session, user, exam, body.admission_scheme, body.seat_seed, runtime.clock())
    return _overview(session, exam)


@router.post("/{exam_id}/allocate")
@atomic
def allocate(exam_id: int, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> list[dict[str, Any]]:
    """Seat everyone (seeded by seat_seed); per sitting: seats used, same-class adjacent pairs
    left, a lower bound no seating beats, and why pairs remain."""
    exam = joint.run_exam(session, user, exam_id)
    return [r.__dict__ for r in seat_plan.allocate_exam(session, user, exam, runtime.clock())]


@router.post("/{exam_id}/publish")
@atomic
def publish(exam_id: int, user: CentreDep, runtime: RuntimeDep, session: SessionDep) -> JointOut:
    exam = joint.run_exam(session, user, exam_id)
    seat_plan.publish(session, user, exam, runtime.clock())
    return _overview(session, exam)


@router.get("/{exam_id}/rooms/{exam_room_id}/plan")
def plan(exam_id: int, exam_room_id: int, user: CentreDep, session: SessionDep) -> PlanOut:
    exam = joint.read_exam(session, user, exam_id)
    found = [(er, r) for er, r in joint.rooms_of(session, exam.id) if er.id == exam_room_id]
    if not found:
        raise NotFound(f"exam {exam_id} has no room {exam_room_id}")
    er, room = found[0]
    seats = [CandidateOut(**row.__dict__) for row in attendance.candidates(session, exam, exam_room_id)]
    return PlanOut(exam_room_id=er.id, number=er.number, room_code=room.code, rows=room.rows, cols=room.cols,
                   capacity=room.capacity, form_label=er.form_label, seats=seats)


@router.post("/{exam_id}/candidates/{user_id}/absent")
@atomic
def mark_absent(exam_id: int, user_id: int, body: AbsentIn, user: CentreDep, runtime: RuntimeDep,
                session: SessionDep) -> CandidateOut:
    exam = joint.run_exam(session, user, exam_id)
    attendance.mark_absent(session, user, exam, user_id, body.absent, runtime.clock())
    return _one(session, exam, user_id)


@router.post("/{exam_id}/candidates/{user_id}/move")
@atomic
def move(exam_id: int, user_id: int, body: MoveIn, user: CentreDep, runtime: RuntimeDep,
         session: SessionDep) -> CandidateOut:
    """Refused (409) once the candidate has started; keeps a published admission number."""
    exam = joint.run_exam(session, user, exam_id)
    attendance.move(session, user, exam, user_id, body.exam_room_id, body.seat_no, runtime.clock())
    return _one(session, exam, user_id)


@router.put("/{exam_id}/candidates/{user_id}/accommodations")
@atomic
def accommodate(exam_id: int, user_id: int, body: AccommodationsIn, user: CentreDep, runtime: RuntimeDep,
                session: SessionDep) -> CandidateOut:
    exam = joint.run_exam(session, user, exam_id)
    attendance.accommodate(session, user, exam, user_id, body.extra_minutes, body.accommodations, runtime.clock())
    return _one(session, exam, user_id)


@router.get("/{exam_id}/audit")
def audit_trail(exam_id: int, user: SignedInDep, session: SessionDep) -> list[AuditOut]:
    """Who changed what and when: readable by the exam's creator and all its staff (proctors too)."""
    exam = session.get(Exam, exam_id)
    if exam is None or not permissions.may_read_joint_audit(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist")
    return [AuditOut(id=e.id, actor_id=e.actor_id, actor=name, action=e.action, data=e.data, created_at=e.created_at)
            for e, name in attendance.trail(session, exam)]


def _one(session: SessionDep, exam: Exam, user_id: int) -> CandidateOut:
    session.flush()
    row = next(r for r in attendance.candidates(session, exam) if r.user_id == user_id)
    return CandidateOut(**row.__dict__)


# ---- a teacher's part: joint exams their classes sit, and those candidates' seats --------------

class TeacherJointOut(BaseModel):
    id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    admission_published: bool


@teacher_router.get("")
def teacher_joint_exams(user: SchedulerDep, session: SessionDep) -> list[TeacherJointOut]:
    return [TeacherJointOut(id=e.id, title=e.title, opens_at=e.opens_at, closes_at=e.closes_at,
                            admission_published=e.admission_published_at is not None)
            for e in attendance.joint_exams_for_teacher(session, user)]


@teacher_router.get("/{exam_id}/candidates")
def teacher_candidates(exam_id: int, user: SchedulerDep, session: SessionDep) -> list[CandidateOut]:
    """Only the teacher's classes; an exam none of them sits answers 404."""
    exam = _teacher_exam(session, user, exam_id)
    return [CandidateOut(**row.__dict__) for row in attendance.candidates(session, exam, teacher=user)]


def _teacher_exam(session: SessionDep, user: User, exam_id: int) -> Exam:
    exam = next((e for e in attendance.joint_exams_for_teacher(session, user) if e.id == exam_id), None)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    return exam
