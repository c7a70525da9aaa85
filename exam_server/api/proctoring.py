"""Proctoring over HTTP: the wall page's room picker, and what was recorded about a candidate.

The live wall itself is a WebSocket (exam_server/proctoring/wall_ws.py). A candidate sees their own
record only: consent, events, flags with their review, the decision, the proctors' acts on their
session, and their own frames while the exam's retention period has not purged them.
"""

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.deps import RuntimeDep, SessionDep, require
from exam_server.errors import NotFound
from exam_server.permissions import Cap
from exam_server.proctoring.evidence import EvidenceError
from exam_server.services import exams, proctor_record, proctor_wall
from models import Exam, ProctorSettings, User

router = APIRouter(prefix="/api/proctoring", tags=["proctoring"])
ProctorDep = Depends(require(Cap.PROCTOR_EXAMS))
CandidateDep = Depends(require(Cap.SIT_EXAMS))


class WallRoom(BaseModel):
    room: str  # an exam room id, or "none" (candidates without a room)
    number: int | None
    name: str | None


class WallRoomsOut(BaseModel):
    exam_id: int
    exam_title: str
    proctored: bool
    whole_exam: bool  # may open the wall without ?room (every room at once)
    rooms: list[WallRoom]


@router.get("/exams/{exam_id}/wall-rooms")
def wall_rooms(exam_id: int, session: SessionDep, user: User = ProctorDep) -> WallRoomsOut:
    """The rooms of a proctored exam this proctor may watch (the wall page's picker)."""
    exam = exams.visible_exam(session, user, exam_id)
    settings = session.get(ProctorSettings, exam.id)
    return WallRoomsOut(exam_id=exam.id, exam_title=exam.title, proctored=bool(settings and settings.enabled),
                        whole_exam=permissions.proctor_rooms(session, user, exam) is None,
                        rooms=[WallRoom(**r) for r in _watchable(session, user, exam)])


def _watchable(session: Session, user: User, exam: Exam) -> list[dict[str, Any]]:
    rooms = proctor_wall.rooms_for(session, user, exam)
    if not rooms and exam.class_id is not None:
        return [{"room": proctor_wall.NO_ROOM, "number": None, "name": None}]
    return rooms


@router.get("/my-records")
def my_records(session: SessionDep, user: User = CandidateDep) -> list[dict[str, Any]]:
    """Everything proctoring recorded about the caller, one entry per proctored attempt."""
    return proctor_record.records_of(session, user.id)


@router.get("/my-frames/{frame_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def my_frame(frame_id: int, session: SessionDep, runtime: RuntimeDep, user: User = CandidateDep) -> Response:
    """One of the caller's own frames (decrypted); 404 once purged or when not theirs."""
    key = proctor_record.own_frame_key(session, user.id, frame_id)
    try:
        data = runtime.evidence.get(key)
    except EvidenceError as exc:
        raise NotFound(f"frame {frame_id}: its image is no longer kept") from exc
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
