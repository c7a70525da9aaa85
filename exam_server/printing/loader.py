"""Page data from the committed tables: exam rooms, their candidates, schools and photos.

One room at a time (``load_room``), so a print run holds one room's candidates in memory."""

from dataclasses import dataclass
from datetime import UTC, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.printing.data import CandidateEntry, RoomSheetData
from exam_server.storage import FileStore
from models import Exam, ExamCandidate, ExamRoom, ExamSitting, Room, School, SchoolClass, Site, User


@dataclass(frozen=True)
class RoomRef:
    exam_room_id: int
    sitting_id: int
    site_code: str
    number: int


def exam_rooms(session: Session, exam_id: int, sitting_id: int | None = None,
               exam_room_id: int | None = None) -> list[RoomRef]:
    """The exam's rooms in print order: site, sitting start, room number."""
    query = (select(ExamRoom.id, ExamRoom.sitting_id, Site.code, ExamRoom.number)
             .join(ExamSitting, ExamSitting.id == ExamRoom.sitting_id)
             .join(Room, Room.id == ExamRoom.room_id).join(Site, Site.id == Room.site_id)
             .where(ExamRoom.exam_id == exam_id)
             .order_by(Site.code, ExamSitting.opens_at, ExamRoom.number, ExamRoom.id))
    if sitting_id is not None:
        query = query.where(ExamRoom.sitting_id == sitting_id)
    if exam_room_id is not None:
        query = query.where(ExamRoom.id == exam_room_id)
    return [RoomRef(*row) for row in session.execute(query).all()]


def load_room(session: Session, exam_room_id: int, photos: FileStore | None, zone: tzinfo = UTC) -> RoomSheetData:
    """The room's page data; times in ``zone`` (the zone printed pages are read in)."""
    row = session.execute(
        select(ExamRoom, ExamSitting, Room, Site, Exam)
        .join(ExamSitting, ExamSitting.id == ExamRoom.sitting_id).join(Room, Room.id == ExamRoom.room_id)
        .join(Site, Site.id == Room.site_id).join(Exam, Exam.id == ExamRoom.exam_id)
        .where(ExamRoom.id == exam_room_id)).one()
    exam_room, sitting, room, site, exam = row
    return RoomSheetData(
        exam_id=exam.id, exam_title=exam.title, sitting_name=sitting.name,
        opens_at=sitting.opens_at.astimezone(zone), closes_at=sitting.closes_at.astimezone(zone),
        site_name=site.name, site_code=site.code, site_address=site.address or "",
        room_number=exam_room.number, room_name=room.name, rows=room.rows, cols=room.cols,
        form_label=exam_room.form_label, candidates=_candidates(session, exam_room_id, photos))


def _candidates(session: Session, exam_room_id: int, photos: FileStore | None) -> list[CandidateEntry]:
    rows = session.execute(
        select(ExamCandidate, User, School.name, SchoolClass.name)
        .join(User, User.id == ExamCandidate.user_id)
        .outerjoin(School, School.id == User.school_id)
        .outerjoin(SchoolClass, SchoolClass.id == ExamCandidate.class_id)
        .where(ExamCandidate.exam_room_id == exam_room_id)
        .order_by(ExamCandidate.seat_no, ExamCandidate.admission_no, ExamCandidate.user_id)).all()
    return [CandidateEntry(
        user_id=user.id, admission_no=cand.admission_no or "", name=user.display_name,
        student_number=user.student_number or "", school=school or "", class_name=klass or "",
        seat_no=cand.seat_no, form_label=cand.form_label, absent=cand.absent,
        photo=_photo(photos, user.photo_sha256)) for cand, user, school, klass in rows]


def _photo(photos: FileStore | None, sha256: str | None) -> bytes | None:
    if photos is None or not sha256 or not photos.has(sha256):
        return None
    return photos.get(sha256)
