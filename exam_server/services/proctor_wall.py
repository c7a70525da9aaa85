"""The proctor wall's data: who may watch which room, the room's snapshot, and proctor commands.

A wall watches one room of an exam (``?room=ID``), the candidates without a room (``?room=none``,
a class exam), or the whole exam (no ``room``; only for whoever may watch every room). The snapshot
lists every candidate of that scope (a tile each, also before they connect: no session yet) with
their session's state, identity check, risk score, open flags, whether connected, and last seen.

Commands (warn, pause, resume, terminate, admit) move the session through
:func:`exam_server.services.proctor_sessions.transition` with the proctor as the audited actor;
terminate also ends the attempt as submitted by the proctor (saved answers kept, the reason on its
step). Each command is one short transaction; the caller publishes after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.permissions import Cap
from exam_server.services import attempts
from exam_server.services.proctor_sessions import transition
from models import (
    Exam,
    ExamCandidate,
    ExamRoom,
    ProctorAction,
    ProctorFlag,
    ProctorSession,
    ProctorSettings,
    Room,
    User,
)
from proctoring.bus import exam_channel, room_channel
from proctoring.protocol import CloseCode, ProctorCommand, ProctorCommandKind
from proctoring.session import IdentityStatus, IllegalTransition, Move

WHOLE_EXAM = "all"
NO_ROOM = "none"


class WallRefused(Exception):
    """The wall cannot open: the close code and a reason naming what is wrong."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class CommandRefused(Exception):
    """A command that changes nothing: a stable code and a reason (sent back in command_result)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class WallScope:
    exam_id: int
    room: int | None  # the exam room watched; None with whole_exam False: candidates without a room
    whole_exam: bool

    def channel(self) -> str:
        return exam_channel(self.exam_id) if self.whole_exam else room_channel(self.exam_id, self.room)

    def covers(self, exam_room_id: int | None) -> bool:
        return self.whole_exam or exam_room_id == self.room


def parse_room(raw: str | None) -> tuple[int | None, bool]:
    """``?room=`` -> (room id, whole exam); raises WallRefused on anything else."""
    if raw is None or raw == WHOLE_EXAM:
        return None, True
    if raw == NO_ROOM:
        return None, False
    if raw.isdigit() and len(raw) < 12:
        return int(raw), False
    raise WallRefused(CloseCode.INVALID_MESSAGE, f"room: {raw!r} is not an exam room id, 'none' or 'all'")


def open_wall(session: Session, user: User, exam_id: int, raw_room: str | None) -> WallScope:
    """Check that ``user`` may watch this scope of a proctored exam (raises WallRefused)."""
    room, whole = parse_room(raw_room)
    if not permissions.role_may(user.role, Cap.PROCTOR_EXAMS):
        raise WallRefused(CloseCode.FORBIDDEN, f"the proctor wall needs the {Cap.PROCTOR_EXAMS} capability; "
                                               f"you are {user.role}")
    exam = session.get(Exam, exam_id)
    if exam is None or not permissions.may_see_exam(session, user, exam):
        raise WallRefused(CloseCode.NOT_FOUND, f"exam {exam_id} does not exist")
    if room is not None:
        exam_room = session.get(ExamRoom, room)
        if exam_room is None or exam_room.exam_id != exam_id:
            raise WallRefused(CloseCode.NOT_FOUND, f"room {room} is not a room of exam {exam_id}")
    rooms = permissions.proctor_rooms(session, user, exam)
    if whole and rooms is not None:
        raise WallRefused(CloseCode.FORBIDDEN, f"exam {exam_id}: you watch only some rooms; open one with ?room=ID")
    if not whole and not permissions.may_proctor_room(session, user, exam, room):
        raise WallRefused(CloseCode.FORBIDDEN, f"exam {exam_id}: you are not a proctor of room {raw_room}")
    settings = session.get(ProctorSettings, exam_id)
    if settings is None or not settings.enabled:
        raise WallRefused(CloseCode.NOT_PROCTORED, f"exam {exam_id} is not proctored")
    return WallScope(exam_id, room, whole)


def rooms_for(session: Session, user: User, exam: Exam) -> list[dict[str, Any]]:
    """The rooms of ``exam`` this user may watch, for the wall page's room picker."""
    allowed = permissions.proctor_rooms(session, user, exam)
    rows = session.execute(select(ExamRoom.id, ExamRoom.number, Room.name).join(Room, Room.id == ExamRoom.room_id)
                           .where(ExamRoom.exam_id == exam.id).order_by(ExamRoom.number)).all()
    out = [{"room": str(r.id), "number": r.number, "name": r.name} for r in rows
           if allowed is None or r.id in allowed]
    unroomed = session.scalar(select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam.id,
                                                                   ExamCandidate.exam_room_id.is_(None)).limit(1))
    if unroomed is not None and (allowed is None or None in allowed):
        out.append({"room": NO_ROOM, "number": None, "name": None})
    return out


def snapshot(session: Session, scope: WallScope) -> list[dict[str, Any]]:
    """A tile per candidate in scope, ordered by seat then admission number then name."""
    query = (select(ExamCandidate, User, ProctorSession)
             .join(User, User.id == ExamCandidate.user_id)
             .outerjoin(ProctorSession, (ProctorSession.exam_id == ExamCandidate.exam_id)
                        & (ProctorSession.user_id == ExamCandidate.user_id))
             .where(ExamCandidate.exam_id == scope.exam_id))
    if not scope.whole_exam:
        query = query.where(ExamCandidate.exam_room_id.is_(None) if scope.room is None
                            else ExamCandidate.exam_room_id == scope.room)
    rows = session.execute(query).all()
    flags = _open_flags(session, [ps.id for _, _, ps in rows if ps is not None])
    tiles = [_tile(candidate, user, ps, flags.get(ps.id, []) if ps else []) for candidate, user, ps in rows]
    return sorted(tiles, key=lambda t: (t["seat_no"] is None, t["seat_no"] or 0, t["admission_no"] or "", t["name"]))


def _open_flags(session: Session, session_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not session_ids:
        return out
    rows = session.scalars(select(ProctorFlag).where(ProctorFlag.session_id.in_(session_ids),
                                                     ProctorFlag.status == "open").order_by(ProctorFlag.started_at))
    for flag in rows:
        out.setdefault(flag.session_id, []).append(flag_payload(flag))
    return out


def flag_payload(flag: ProctorFlag) -> dict[str, Any]:
    return {"flag_id": flag.id, "rule": flag.rule, "severity": flag.severity, "status": flag.status,
            "started_at": _iso(flag.started_at), "ended_at": _iso(flag.ended_at)}


def _tile(candidate: ExamCandidate, user: User, ps: ProctorSession | None,
          flags: list[dict[str, Any]]) -> dict[str, Any]:
    tile: dict[str, Any] = {"user_id": user.id, "name": user.display_name, "admission_no": candidate.admission_no,
                            "seat_no": candidate.seat_no, "exam_room_id": candidate.exam_room_id,
                            "session_id": None, "attempt_id": None, "state": None, "identity": None,
                            "risk_score": 0.0, "connected": False, "last_seen_at": None, "flags": flags}
    if ps is not None:
        tile.update(session_status(ps))
    return tile


def session_status(ps: ProctorSession) -> dict[str, Any]:
    """What a wall shows of a session (also the payload of a ``session`` WallUpdate)."""
    return {"session_id": ps.id, "attempt_id": ps.attempt_id, "user_id": ps.user_id, "state": ps.state,
            "identity": ps.identity, "risk_score": ps.risk_score, "connected": ps.connection_id is not None,
            "last_seen_at": _iso(ps.last_seen_at)}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()  # SQLite: naive UTC


# ---- commands -----------------------------------------------------------------------------------

_MOVES = {ProctorCommandKind.PAUSE: Move.PAUSE, ProctorCommandKind.RESUME: Move.RESUME,
          ProctorCommandKind.TERMINATE: Move.TERMINATE, ProctorCommandKind.ADMIT: Move.ADMIT}


@dataclass(frozen=True)
class CommandOutcome:
    attempt_id: int
    exam_room_id: int | None
    status: dict[str, Any]  # session_status after the command


def apply_command(session: Session, user: User, scope: WallScope, command: ProctorCommand,
                  now: datetime) -> CommandOutcome:
    """Apply one command (raises CommandRefused, changing nothing). The caller commits."""
    ps = session.scalars(select(ProctorSession).where(ProctorSession.id == command.session_id)
                         .with_for_update()).first()
    if ps is None or ps.exam_id != scope.exam_id or not scope.covers(ps.exam_room_id):
        raise CommandRefused("not_found", f"session {command.session_id} is not on this wall")
    data: dict[str, Any] = {"via": "wall", "message": command.message} if command.message else {"via": "wall"}
    if command.command == ProctorCommandKind.WARN:
        _warn(session, ps, user, now, data)
    else:
        try:
            transition(session, ps, _MOVES[command.command], now, actor_id=user.id, data=data)
        except IllegalTransition as exc:
            raise CommandRefused("illegal_transition", str(exc)) from exc
        if command.command == ProctorCommandKind.ADMIT:
            ps.identity = IdentityStatus.ADMITTED_MANUALLY
        elif command.command == ProctorCommandKind.TERMINATE:
            _end_attempt(session, ps, user, now, command.message)
    session.flush()
    return CommandOutcome(ps.attempt_id, ps.exam_room_id, session_status(ps))


def _warn(session: Session, ps: ProctorSession, user: User, now: datetime, data: dict[str, Any]) -> None:
    if ps.state == "ended":
        raise CommandRefused("illegal_transition", f"session {ps.id} has ended; a warning reaches nobody")
    session.add(ProctorAction(exam_id=ps.exam_id, session_id=ps.id, actor_id=user.id, action="warn", data=data,
                              created_at=now))


def _end_attempt(session: Session, ps: ProctorSession, user: User, now: datetime, reason: str | None) -> None:
    attempt = attempts.lock_attempt(session, ps.attempt_id)
    attempts.end_by_proctor(session, attempt, now, user.id, {"session_id": ps.id, "reason": reason or ""})
