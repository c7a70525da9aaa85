"""Joint exams (联考): creating one for any set of classes, schools or an imported roster, and its
forms (A/B卷), sittings (场次) and rooms (考场). Seats and numbers: :mod:`.seat_plan`; the day
itself: :mod:`.attendance`.

The form mode follows from the rows: no forms -> everyone sits the exam's paper; forms and some
room given a ``form_label`` -> one form per room (rooms without one take the forms in turn);
forms and no room form -> forms alternate per seat (checkerboard: neighbours differ).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.errors import Conflict, NotFound, NotYours, Unprocessable
from exam_server.seating import SchemeError, validate_scheme
from exam_server.seating.model import FormMode
from exam_server.services import audit
from item_bank.papers import freeze_paper, load_paper
from item_bank.usage import record_usage
from models import (
    Attempt,
    ClassMembership,
    Exam,
    ExamCandidate,
    ExamForm,
    ExamRoom,
    ExamSitting,
    ItemUsage,
    Paper,
    Role,
    Room,
    SchoolClass,
    User,
)


@dataclass(frozen=True)
class RosterEntry:
    """Imported roster line: students by number within a school, or by user id."""

    school_id: int | None = None
    student_numbers: tuple[str, ...] = ()
    user_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class JointInput:
    title: str
    paper_id: int
    opens_at: datetime
    closes_at: datetime
    duration_minutes: int
    class_ids: tuple[int, ...] = ()
    school_ids: tuple[int, ...] = ()
    roster: tuple[RosterEntry, ...] = field(default_factory=tuple)


def create_joint_exam(session: Session, user: User, data: JointInput, now: datetime) -> Exam:
    """A joint exam has no single class (``class_id`` is null); its candidates come from targets."""
    if data.closes_at <= data.opens_at or data.closes_at <= now:
        raise Unprocessable("closes_at: must be after opens_at and in the future")
    paper = _usable_paper(session, user, data.paper_id, now)
    exam = Exam(title=data.title, paper_id=paper.id, class_id=None, opens_at=data.opens_at, closes_at=data.closes_at,
                duration_minutes=data.duration_minutes, results_released=False, created_by=user.id, created_at=now,
                seat_seed=0)
    session.add(exam)
    session.flush()
    _freeze_and_record(session, exam, paper, now)
    added = add_targets(session, user, exam, data, now)
    audit.record(session, user.id, "joint.created", "exam", exam.id, {"candidates": added}, now)
    return exam


def _usable_paper(session: Session, user: User, paper_id: int, now: datetime) -> Paper:
    """Centre staff name a paper by id without reading it (they never see its items or keys)."""
    paper = load_paper(session, paper_id)
    if paper is None or not (user.role == Role.CENTRE_STAFF or permissions.may_read_paper(session, user, paper, now)):
        raise NotFound(f"paper_id: paper {paper_id} does not exist or is not yours to use")
    return paper


def _freeze_and_record(session: Session, exam: Exam, paper: Paper, now: datetime) -> None:
    """Freeze the paper and count its items' exposure once per exam: the keys of a running joint
    exam are then hidden from other teachers like any exam's (see permissions.items_clause)."""
    freeze_paper(session, paper)
    seen = set(session.scalars(select(ItemUsage.item_id).where(ItemUsage.exam_id == exam.id)))
    items = {slot.item_id for section in paper.sections for slot in section.slots} - seen
    record_usage(session, items, exam.id, None, now)


def add_targets(session: Session, user: User, exam: Exam, data: JointInput, now: datetime) -> int:
    """Add candidates (idempotent: someone already on the roster stays as they are)."""
    ensure_not_published(exam)
    wanted: dict[int, int | None] = {}  # user id -> class id
    _from_classes(session, data.class_ids, wanted)
    _from_schools(session, data.school_ids, wanted)
    for entry in data.roster:
        _from_roster(session, entry, wanted)
    present = set(session.scalars(select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam.id)))
    new = [uid for uid in wanted if uid not in present]
    session.add_all(ExamCandidate(exam_id=exam.id, user_id=uid, class_id=wanted[uid], extra_minutes=0) for uid in new)
    session.flush()
    if data.class_ids or data.school_ids or data.roster:
        audit.record(session, user.id, "joint.candidates_added", "exam", exam.id, {"added": len(new)}, now)
    return len(new)


def _class_of_students(session: Session, user_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(ClassMembership.user_id, ClassMembership.class_id)
                           .where(ClassMembership.user_id.in_(user_ids)).order_by(ClassMembership.class_id))
    return {uid: cid for uid, cid in rows}


def _from_classes(session: Session, class_ids: tuple[int, ...], wanted: dict[int, int | None]) -> None:
    found = set(session.scalars(select(SchoolClass.id).where(SchoolClass.id.in_(class_ids))))
    if missing := sorted(set(class_ids) - found):
        raise NotFound(f"class_ids: classes {missing} do not exist")
    rows = session.execute(select(ClassMembership.user_id, ClassMembership.class_id)
                           .join(User, User.id == ClassMembership.user_id)
                           .where(ClassMembership.class_id.in_(class_ids), User.role == Role.STUDENT,
                                  User.is_active.is_(True)))
    for uid, cid in rows:
        wanted.setdefault(uid, cid)


def _from_schools(session: Session, school_ids: tuple[int, ...], wanted: dict[int, int | None]) -> None:
    classes = tuple(session.scalars(select(SchoolClass.id).where(SchoolClass.school_id.in_(school_ids))))
    _from_classes(session, classes, wanted)


def _from_roster(session: Session, entry: RosterEntry, wanted: dict[int, int | None]) -> None:
    users: list[User] = []
    if entry.student_numbers:
        if entry.school_id is None:
            raise Unprocessable("roster: student_numbers need a school_id")
        users = list(session.scalars(select(User).where(User.school_id == entry.school_id,
                                                        User.student_number.in_(entry.student_numbers))))
        missing = sorted(set(entry.student_numbers) - {u.student_number for u in users})
        if missing:
            raise NotFound(f"roster: school {entry.school_id} has no students numbered {', '.join(missing[:20])}")
    if entry.user_ids:
        by_id = list(session.scalars(select(User).where(User.id.in_(entry.user_ids))))
        if missing_ids := sorted(set(entry.user_ids) - {u.id for u in by_id}):
            raise NotFound(f"roster: users {missing_ids[:20]} do not exist")
        users += by_id
    if bad := sorted(u.id for u in users if u.role != Role.STUDENT):
        raise Unprocessable(f"roster: users {bad[:20]} are not students")
    classes = _class_of_students(session, [u.id for u in users])
    for u in users:
        wanted.setdefault(u.id, classes.get(u.id))


# ---- lookups and guards ---------------------------------------------------------------------

def run_exam(session: Session, user: User, exam_id: int) -> Exam:
    """The joint exam if the user runs it; 404 if they may not see it, 403 if only see it."""
    exam = session.get(Exam, exam_id)
    if exam is None or not (permissions.may_read_joint_exam(session, user, exam)
                            or permissions.may_see_exam(session, user, exam)):
        raise NotFound(f"exam {exam_id} does not exist")
    if not permissions.may_run_joint_exam(session, user, exam):
        raise NotYours(f"exam {exam_id}: only its creator, its organisers and district admins run it")
    return exam


def read_exam(session: Session, user: User, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None or not permissions.may_read_joint_exam(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist")
    return exam


def ensure_not_published(exam: Exam) -> None:
    if exam.admission_published_at is not None:
        raise Conflict(f"exam {exam.id}: admission numbers were published at "
                       f"{exam.admission_published_at.isoformat()}; re-allocation and roster changes are refused "
                       "(move single candidates instead: they keep their numbers)")


def sittings_of(session: Session, exam_id: int) -> list[ExamSitting]:
    return list(session.scalars(select(ExamSitting).where(ExamSitting.exam_id == exam_id)
                                .order_by(ExamSitting.opens_at, ExamSitting.id)))


def rooms_of(session: Session, exam_id: int) -> list[tuple[ExamRoom, Room]]:
    query = (select(ExamRoom, Room).join(Room, Room.id == ExamRoom.room_id).where(ExamRoom.exam_id == exam_id)
             .order_by(ExamRoom.sitting_id, ExamRoom.number))
    return [(er, r) for er, r in session.execute(query)]


def forms_of(session: Session, exam_id: int) -> list[ExamForm]:
    return list(session.scalars(select(ExamForm).where(ExamForm.exam_id == exam_id).order_by(ExamForm.label)))


def form_mode(session: Session, exam_id: int) -> FormMode:
    if not forms_of(session, exam_id):
        return "none"
    return "room" if any(er.form_label for er, _ in rooms_of(session, exam_id)) else "seat"


# ---- forms, sittings, rooms, settings -------------------------------------------------------

def add_form(session: Session, user: User, exam: Exam, label: str, paper_id: int, now: datetime) -> ExamForm:
    ensure_not_published(exam)
    paper = _usable_paper(session, user, paper_id, now)
    if session.scalar(select(ExamForm).where(ExamForm.exam_id == exam.id, ExamForm.label == label)):
        raise Conflict(f"label: exam {exam.id} already has form {label!r}")
    form = ExamForm(exam_id=exam.id, label=label, paper_id=paper.id)
    session.add(form)
    _freeze_and_record(session, exam, paper, now)
    session.flush()
    audit.record(session, user.id, "joint.form_added", "exam", exam.id, {"label": label, "paper_id": paper.id}, now)
    return form


def add_sitting(session: Session, user: User, exam: Exam, name: str, opens_at: datetime, closes_at: datetime,
                is_makeup: bool, now: datetime) -> ExamSitting:
    """The exam's own window grows to cover its sittings (a make-up sitting may come later)."""
    if closes_at <= opens_at:
        raise Unprocessable("closes_at: must be after opens_at")
    if session.scalar(select(ExamSitting).where(ExamSitting.exam_id == exam.id, ExamSitting.name == name)):
        raise Conflict(f"name: exam {exam.id} already has a sitting {name!r}")
    sitting = ExamSitting(exam_id=exam.id, name=name, opens_at=opens_at, closes_at=closes_at, is_makeup=is_makeup)
    session.add(sitting)
    exam.opens_at, exam.closes_at = min(exam.opens_at, opens_at), max(exam.closes_at, closes_at)
    session.flush()
    audit.record(session, user.id, "joint.sitting_added", "exam", exam.id,
                 {"sitting_id": sitting.id, "name": name, "is_makeup": is_makeup}, now)
    return sitting


def add_room(session: Session, user: User, exam: Exam, sitting_id: int, room_id: int, form_label: str | None,
             now: datetime) -> ExamRoom:
    sitting = session.get(ExamSitting, sitting_id)
    if sitting is None or sitting.exam_id != exam.id:
        raise NotFound(f"sitting_id: exam {exam.id} has no sitting {sitting_id}")
    if session.get(Room, room_id) is None:
        raise NotFound(f"room_id: room {room_id} does not exist")
    if form_label is not None and form_label not in {f.label for f in forms_of(session, exam.id)}:
        raise Unprocessable(f"form_label: exam {exam.id} has no form {form_label!r}; add it first")
    if session.scalar(select(ExamRoom).where(ExamRoom.sitting_id == sitting_id, ExamRoom.room_id == room_id)):
        raise Conflict(f"room_id: room {room_id} is already used in sitting {sitting_id}")
    number = (session.scalar(select(func.max(ExamRoom.number)).where(ExamRoom.exam_id == exam.id)) or 0) + 1
    exam_room = ExamRoom(exam_id=exam.id, sitting_id=sitting_id, room_id=room_id, number=number,
                         form_label=form_label)
    session.add(exam_room)
    session.flush()
    audit.record(session, user.id, "joint.room_added", "exam", exam.id,
                 {"exam_room_id": exam_room.id, "room_id": room_id, "number": number}, now)
    return exam_room


def configure(session: Session, user: User, exam: Exam, scheme: str | None, seat_seed: int | None,
              now: datetime) -> None:
    ensure_not_published(exam)
    if scheme is not None:
        try:
            validate_scheme(scheme)
        except SchemeError as exc:
            raise Unprocessable(str(exc)) from exc
        exam.admission_scheme = scheme
    if seat_seed is not None:
        exam.seat_seed = seat_seed
    audit.record(session, user.id, "joint.configured", "exam", exam.id,
                 {"admission_scheme": exam.admission_scheme, "seat_seed": exam.seat_seed}, now)


def has_started(session: Session, exam_id: int, user_id: int) -> bool:
    return session.scalar(select(Attempt.id).where(Attempt.exam_id == exam_id, Attempt.user_id == user_id)) is not None
