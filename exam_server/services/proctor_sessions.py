"""Proctoring sessions: one per attempt, moved only by :mod:`proctoring.session`'s state machine.

:func:`transition` is the one place a session's state changes: it checks the move, writes the new
state and, for a person's act (``actor_id`` given), appends a ``proctor_actions`` record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from exam_server.services import proctor_flags
from models import ProctorAction, ProctorSession, ProctorSettings
from proctoring.session import Move, SessionState, next_state


def transition(session: Session, ps: ProctorSession, move: Move, now: datetime, *,
               actor_id: int | None = None, data: dict[str, Any] | None = None) -> SessionState:
    """Apply ``move`` (raises proctoring.session.IllegalTransition, changing nothing)."""
    settings = session.get(ProctorSettings, ps.exam_id)
    required = settings.require_identity if settings is not None else True
    state = next_state(SessionState(ps.state), move, identity_required=required)
    ps.state = state
    ps.updated_at = now
    if state == SessionState.ENDED:
        proctor_flags.end_session(session, ps, now)  # open flags end with the session
    if actor_id is not None:
        session.add(ProctorAction(exam_id=ps.exam_id, session_id=ps.id, actor_id=actor_id, action=str(move),
                                  data=data, created_at=now))
    return state
