"""Helpers for proctoring tests: a proctoring session for a student's attempt, written directly."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from support import World

from exam_server.db import session_scope
from models import ProctorEvent, ProctorFrame, ProctorSession, User


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
