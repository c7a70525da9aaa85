"""Helpers for proctoring tests: a proctoring session for a student's attempt, written directly."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from support import PASSWORD, World

from exam_server.db import session_scope
from exam_server.services import accounts
from models import (
    ExamDuty,
    ExamRoom,
    ExamSitting,
    ExamStaff,
    ProctorEvent,
    ProctorFrame,
    ProctorSession,
    Role,
    Room,
    Site,
    User,
)


def user_id(world: World, username: str) -> int:
    with session_scope(world.runtime.session_factory) as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def make_session(world: World, student: str, *, state: str = "active", room: int | None = None,
                 last_seen: datetime | None = None) -> int:
    """Start the student's attempt and attach a proctoring session to it; returns its id."""
    attempt = world.start(student)
    now = world.clock()
    with session_scope(world.runtime.session_factory) as session:
        ps = ProctorSession(attempt_id=attempt["attempt_id"] if "attempt_id" in attempt else attempt["id"],
                            exam_id=world.ids["exam"], user_id=user_id(world, student), exam_room_id=room,
                            state=state, identity="passed", last_seen_at=last_seen or now, created_at=now,
                            updated_at=now)
        session.add(ps)
        session.flush()
        return ps.id


def add_event(world: World, session_id: int, seq: int, kind: str, at: datetime,
              data: dict[str, Any] | None = None) -> int:
    with session_scope(world.runtime.session_factory) as session:
        row = ProctorEvent(session_id=session_id, seq=seq, kind=kind, client_at=at, received_at=at, data=data)
        session.add(row)
        session.flush()
        return row.id


def add_frame(world: World, session_id: int, at: datetime, storage_key: str | None,
              analysis: dict[str, Any] | None = None) -> int:
    with session_scope(world.runtime.session_factory) as session:
        row = ProctorFrame(session_id=session_id, purpose="monitor", taken_at=at, storage_key=storage_key,
                           size_bytes=100, analysis=analysis, analysed_at=at if analysis else None)
        session.add(row)
        session.flush()
        return row.id


def make_rooms(world: World) -> tuple[int, int]:
    """Two exam rooms for the world's exam (a site, two rooms, one sitting); returns their ids."""
    now = world.clock()
    with session_scope(world.runtime.session_factory) as session:
        site = Site(name="考点", code="PS1")
        session.add(site)
        session.flush()
        rooms = [Room(site_id=site.id, code=f"R{i}", name=f"R{i}", capacity=4, rows=2, cols=2) for i in (1, 2)]
        sitting = ExamSitting(exam_id=world.ids["exam"], name="AM", opens_at=now, closes_at=now + timedelta(hours=3))
        session.add_all([*rooms, sitting])
        session.flush()
        exam_rooms = [ExamRoom(exam_id=world.ids["exam"], sitting_id=sitting.id, room_id=r.id, number=i + 1)
                      for i, r in enumerate(rooms)]
        session.add_all(exam_rooms)
        session.flush()
        return exam_rooms[0].id, exam_rooms[1].id


def add_proctor(world: World, username: str, exam_room_id: int | None) -> int:
    """A proctor account assigned to the world's exam (one room, or all with None), signed in."""
    with session_scope(world.runtime.session_factory) as session:
        user = accounts.create_user(session, username, PASSWORD, Role.PROCTOR, username, None, world.clock())
        session.flush()
        session.add(ExamStaff(exam_id=world.ids["exam"], user_id=user.id, duty=ExamDuty.PROCTOR,
                              exam_room_id=exam_room_id))
        uid = user.id
    world.login(username)
    return uid
