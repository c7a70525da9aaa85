"""What proctoring recorded about a candidate (their right to see it): per proctored attempt the
consent given, the events stored, the flags with their review, the decision, the proctors' acts on
the session (what, when; not who), and the frames (images only while not purged).

Heartbeats are connection bookkeeping, not observations: they are counted, not listed. Events are
listed up to :data:`MAX_EVENTS` per attempt (the count says when more exist).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server.errors import NotFound
from models import (
    Exam,
    ProctorAction,
    ProctorConsent,
    ProctorEvent,
    ProctorFlag,
    ProctorFrame,
    ProctorSession,
)

MAX_EVENTS = 1000
_BOOKKEEPING = ("heartbeat",)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()  # SQLite: naive UTC


def records_of(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(ProctorSession, Exam.title).join(Exam, Exam.id == ProctorSession.exam_id)
                           .where(ProctorSession.user_id == user_id).order_by(ProctorSession.id.desc())).all()
    return [_record(session, ps, title) for ps, title in rows]


def _record(session: Session, ps: ProctorSession, title: str) -> dict[str, Any]:
    return {
        "session_id": ps.id, "exam_id": ps.exam_id, "exam_title": title, "attempt_id": ps.attempt_id,
        "state": ps.state, "identity": ps.identity, "risk_score": ps.risk_score,
        "decision": ps.decision, "decision_note": ps.decision_note, "decided_at": _iso(ps.decided_at),
        "purged_at": _iso(ps.purged_at),
        "consents": [{"accepted": c.accepted, "notice_version": c.notice_version, "language": c.language,
                      "at": _iso(c.created_at)}
                     for c in session.scalars(select(ProctorConsent).where(ProctorConsent.session_id == ps.id)
                                              .order_by(ProctorConsent.id))],
        **_events(session, ps.id),
        "flags": [{"flag_id": f.id, "rule": f.rule, "severity": f.severity, "started_at": _iso(f.started_at),
                   "ended_at": _iso(f.ended_at), "status": f.status, "review_note": f.review_note}
                  for f in session.scalars(select(ProctorFlag).where(ProctorFlag.session_id == ps.id)
                                           .order_by(ProctorFlag.started_at, ProctorFlag.id))],
        "actions": [{"action": a.action, "at": _iso(a.created_at),
                     "message": (a.data or {}).get("message") if a.action == "warn" else None}
                    for a in session.scalars(select(ProctorAction).where(ProctorAction.session_id == ps.id)
                                             .order_by(ProctorAction.id))],
        "frames": [{"frame_id": fr.id, "purpose": fr.purpose, "taken_at": _iso(fr.taken_at),
                    "kept": fr.storage_key is not None}
                   for fr in session.scalars(select(ProctorFrame).where(ProctorFrame.session_id == ps.id)
                                             .order_by(ProctorFrame.taken_at, ProctorFrame.id))],
    }


def _events(session: Session, session_id: int) -> dict[str, Any]:
    listed = (select(ProctorEvent).where(ProctorEvent.session_id == session_id,
                                         ProctorEvent.kind.not_in(_BOOKKEEPING)))
    total = session.scalar(select(func.count()).select_from(listed.subquery())) or 0
    heartbeats = session.scalar(select(func.count()).where(ProctorEvent.session_id == session_id,
                                                           ProctorEvent.kind.in_(_BOOKKEEPING))) or 0
    events = session.scalars(listed.order_by(ProctorEvent.received_at, ProctorEvent.id).limit(MAX_EVENTS))
    return {"events": [{"seq": e.seq, "kind": e.kind, "client_at": _iso(e.client_at),
                        "received_at": _iso(e.received_at), "data": e.data} for e in events],
            "events_total": int(total), "heartbeats": int(heartbeats)}


def own_frame_key(session: Session, user_id: int, frame_id: int) -> str:
    """The storage key of one of the user's own frames (NotFound: not theirs, or purged)."""
    row = session.execute(select(ProctorFrame.storage_key, ProctorSession.user_id)
                          .join(ProctorSession, ProctorSession.id == ProctorFrame.session_id)
                          .where(ProctorFrame.id == frame_id)).first()
    if row is None or row.user_id != user_id:
        raise NotFound(f"frame {frame_id} does not exist")
    if row.storage_key is None:
        raise NotFound(f"frame {frame_id}: its image was purged after the exam's retention period")
    return str(row.storage_key)
