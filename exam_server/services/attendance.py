"""On the day: absence (缺考), moving a candidate, extra time and accommodations, the seat plan of a
room, and the audit trail. Every change is written to ``audit_events`` (who and when).

A candidate who has started cannot be moved (their attempt runs in the room they are in). A move
keeps the admission number once numbers are published; before that, numbers are redrawn at the
next allocation. Moving an absentee to a make-up sitting (补考) clears the absence.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.errors import Conflict, NotFound, Unprocessable
from exam_server.services import audit
from exam_server.services.joint import has_started
from models import AuditEvent, Exam, ExamCandidate, ExamRoom, ExamSitting, Room, SchoolClass, Site, User


def candidate(session: Session, exam: Exam, user_id: int) -> ExamCandidate:
    row = session.get(ExamCandidate, (exam.id, user_id), with_for_update=True)
    if row is None:
        raise NotFound(f"user {user_id} is not a candidate of exam {exam.id}")
    return row


def _refuse_if_started(session: Session, exam: Exam, row: ExamCandidate, what: str) -> None:
    if has_started(session, exam.id, row.user_id):
        raise Conflict(f"candidate {row.user_id} has already started exam {exam.id}: cannot {what} now")


def mark_absent(session: Session, actor: User, exam: Exam, user_id: int, absent: bool, now: datetime) -> None:
    row = candidate(session, exam, user_id)
    _refuse_if_started(session, exam, row, "mark absent")
    row.absent = absent
    audit.record(session, actor.id, "joint.absent" if absent else "joint.present", "exam", exam.id,
                 {"user_id": user_id}, now)


def move(session: Session, actor: User, exam: Exam, user_id: int, exam_room_id: int, seat_no: int | None,
         now: datetime) -> ExamCandidate:
    """To another room (and so maybe another sitting) and seat; the first free seat if none given."""
    row = candidate(session, exam, user_id)
    _refuse_if_started(session, exam, row, "be moved")
    target = session.get(ExamRoom, exam_room_id)
    if target is None or target.exam_id != exam.id:
        raise NotFound(f"exam_room_id: exam {exam.id} has no room {exam_room_id}")
    room = session.get(Room, target.room_id)
    assert room is not None
    taken = set(session.scalars(select(ExamCandidate.seat_no).where(
        ExamCandidate.exam_room_id == exam_room_id, ExamCandidate.user_id != user_id)))
    if seat_no is None:
        seat_no = next((n for n in range(1, room.capacity + 1) if n not in taken), None)
        if seat_no is None:
            raise Conflict(f"room {target.number} is full ({room.capacity} seats)")
    elif not 1 <= seat_no <= room.capacity:
        raise Unprocessable(f"seat_no: room {target.number} has seats 1..{room.capacity}")
    elif seat_no in taken:
        raise Conflict(f"seat_no: seat {seat_no} in room {target.number} is taken")
    before = {"sitting_id": row.sitting_id, "exam_room_id": row.exam_room_id, "seat_no": row.seat_no}
    sitting = session.get(ExamSitting, target.sitting_id)
    row.sitting_id, row.exam_room_id, row.seat_no = target.sitting_id, exam_room_id, seat_no
    if target.form_label:
        row.form_label = target.form_label
    if sitting is not None and sitting.is_makeup:
        row.absent = False
    audit.record(session, actor.id, "joint.moved", "exam", exam.id,
                 {"user_id": user_id, "from": before, "to": {"sitting_id": row.sitting_id,
                                                             "exam_room_id": exam_room_id, "seat_no": seat_no},
                  "admission_no": row.admission_no}, now)
    return row


def accommodate(session: Session, actor: User, exam: Exam, user_id: int, extra_minutes: int,
                accommodations: dict[str, Any] | None, now: datetime) -> ExamCandidate:
    row = candidate(session, exam, user_id)
    _refuse_if_started(session, exam, row, "change extra time")
    row.extra_minutes, row.accommodations = extra_minutes, accommodations
    audit.record(session, actor.id, "joint.accommodations", "exam", exam.id,
                 {"user_id": user_id, "extra_minutes": extra_minutes, "accommodations": accommodations}, now)
    return row


def trail(session: Session, exam: Exam) -> list[tuple[AuditEvent, str | None]]:
    query = (select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
             .where(AuditEvent.target_type == "exam", AuditEvent.target_id == exam.id,
                    AuditEvent.action.like("joint.%")).order_by(AuditEvent.id))
    return [(event, name) for event, name in session.execute(query)]


@dataclass(frozen=True)
class CandidateRow:
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


def candidates(session: Session, exam: Exam, exam_room_id: int | None = None,
               teacher: User | None = None) -> list[CandidateRow]:
    """The roster with seats; one room's, or a teacher's part (their classes only)."""
    query = (select(ExamCandidate, User, SchoolClass.name, ExamRoom.number, Site.code)
             .join(User, User.id == ExamCandidate.user_id)
             .outerjoin(SchoolClass, SchoolClass.id == ExamCandidate.class_id)
             .outerjoin(ExamRoom, ExamRoom.id == ExamCandidate.exam_room_id)
             .outerjoin(Room, Room.id == ExamRoom.room_id).outerjoin(Site, Site.id == Room.site_id)
             .where(ExamCandidate.exam_id == exam.id))
    if exam_room_id is not None:
        query = query.where(ExamCandidate.exam_room_id == exam_room_id)
    if teacher is not None:
        query = query.where(permissions.teacher_candidates_clause(teacher))
    rows = session.execute(query.order_by(ExamRoom.number, ExamCandidate.seat_no, User.username))
    return [CandidateRow(c.user_id, u.username, u.display_name, c.class_id, class_name, c.sitting_id,
                         c.exam_room_id, number, site, c.seat_no, c.form_label, c.admission_no, c.absent,
                         c.extra_minutes)
            for c, u, class_name, number, site in rows]


def joint_exams_for_teacher(session: Session, teacher: User) -> list[Exam]:
    """Joint exams (no single class) with candidates in the teacher's classes."""
    mine = select(ExamCandidate.exam_id).where(permissions.teacher_candidates_clause(teacher))
    return list(session.scalars(select(Exam).where(Exam.class_id.is_(None), Exam.id.in_(mine))
                                .order_by(Exam.opens_at)))
