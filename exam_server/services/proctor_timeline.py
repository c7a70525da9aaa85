"""What a reviewer reads: the exam's sessions ordered by evidence, one session's timeline, the export.

The list is ordered by risk score, then by flags nobody reviewed yet; it carries no rank, percentile
or comparison with other candidates. Frames appear as links to their image, which is decrypted from
the evidence store only for those who may review the session. The export (CSV and JSON) keeps
decisions, flags and notes for the exam centre's records, never a frame.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from exam_server.errors import NotFound
from exam_server.proctoring.evidence import EvidenceError, EvidenceStore, load_or_create_key
from exam_server.services import proctor_flags, proctor_review
from models import ProctorAction, ProctorEvent, ProctorFlag, ProctorFrame, ProctorSession, User
from proctoring.rules import utc

HIDDEN_EVENT_KINDS = frozenset({"heartbeat"})  # counted, not listed: one every 5 s


def session_list(session: Session, user: User, exam_id: int, exam_room_id: int | None,
                 now: datetime) -> list[dict[str, Any]]:
    _, rooms = proctor_review.watchable_exam(session, user, exam_id)
    query = select(ProctorSession, User).join(User, User.id == ProctorSession.user_id).where(
        ProctorSession.exam_id == exam_id)
    if rooms is not None:
        query = query.where(ProctorSession.exam_room_id.in_([r for r in rooms if r is not None]))
    if exam_room_id is not None:
        query = query.where(ProctorSession.exam_room_id == exam_room_id)
    rows = session.execute(query).all()
    ids = [ps.id for ps, _ in rows]
    unreviewed = proctor_review.open_flag_counts(session, ids)
    totals: dict[int, int] = {sid: int(n) for sid, n in session.execute(select(ProctorFlag.session_id, func.count())
                              .where(ProctorFlag.session_id.in_(ids)).group_by(ProctorFlag.session_id))}
    out: list[dict[str, Any]] = [
        {"session_id": ps.id, "attempt_id": ps.attempt_id, "user_id": u.id, "username": u.username,
            "display_name": u.display_name, "exam_room_id": ps.exam_room_id, "state": ps.state,
            "identity": ps.identity, "risk_score": ps.risk_score, "flags": int(totals.get(ps.id, 0)),
            "unreviewed_flags": unreviewed.get(ps.id, 0), "decision": ps.decision} for ps, u in rows]
    out.sort(key=lambda r: (-r["risk_score"], -r["unreviewed_flags"], r["session_id"]))
    return out


def flag_view(flag: ProctorFlag) -> dict[str, Any]:
    return {"id": flag.id, "rule": flag.rule, "severity": flag.severity, "started_at": flag.started_at,
            "ended_at": flag.ended_at, "status": flag.status, "evidence": flag.evidence,
            "review_note": flag.review_note, "reviewed_by": flag.reviewed_by, "reviewed_at": flag.reviewed_at}


def _action_view(action: ProctorAction, names: dict[int, str]) -> dict[str, Any]:
    return {"id": action.id, "action": action.action, "actor_id": action.actor_id,
            "actor": names.get(action.actor_id), "data": action.data, "created_at": action.created_at}


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}


def _frames(session: Session, ps: ProctorSession) -> list[dict[str, Any]]:
    frames = session.scalars(select(ProctorFrame).where(ProctorFrame.session_id == ps.id)
                             .order_by(ProctorFrame.taken_at, ProctorFrame.id))
    return [{"id": f.id, "purpose": f.purpose, "taken_at": f.taken_at, "analysis": f.analysis,
             "image": f"/api/proctoring/frames/{f.id}/image.jpg" if f.storage_key else None} for f in frames]


def _events(session: Session, ps: ProctorSession) -> tuple[list[dict[str, Any]], int]:
    events = session.scalars(select(ProctorEvent).where(ProctorEvent.session_id == ps.id)
                             .order_by(ProctorEvent.seq < 0, ProctorEvent.seq, ProctorEvent.id)).all()
    shown = [{"id": e.id, "seq": e.seq, "kind": e.kind, "at": e.client_at or e.received_at,
              "received_at": e.received_at, "data": e.data} for e in events if e.kind not in HIDDEN_EVENT_KINDS]
    return shown, len(events) - len(shown)


def timeline(session: Session, user: User, session_id: int, now: datetime) -> dict[str, Any]:
    ps, _ = proctor_review.watchable_session(session, user, session_id)
    candidate = session.get(User, ps.user_id)
    flags = [flag_view(f) for f in proctor_flags.session_flags(session, ps.id)]
    # The session's own acts and the exam-wide ones that changed its score (re-weighting).
    actions = list(session.scalars(select(ProctorAction).where(or_(
        ProctorAction.session_id == ps.id,
        and_(ProctorAction.exam_id == ps.exam_id, ProctorAction.session_id.is_(None)))).order_by(ProctorAction.id)))
    names = _names(session, {a.actor_id for a in actions} | ({ps.decided_by} if ps.decided_by else set()))
    events, hidden = _events(session, ps)
    frames = _frames(session, ps)
    entries = ([{"type": "event", "at": e["at"], "id": e["id"]} for e in events]
               + [{"type": "flag", "at": f["started_at"], "id": f["id"]} for f in flags]
               + [{"type": "frame", "at": f["taken_at"], "id": f["id"]} for f in frames]
               + [{"type": "action", "at": a.created_at, "id": a.id} for a in actions])
    entries.sort(key=lambda x: (utc(x["at"]), x["type"], x["id"]))
    return {"session": {"id": ps.id, "exam_id": ps.exam_id, "attempt_id": ps.attempt_id, "user_id": ps.user_id,
                        "display_name": candidate.display_name if candidate else None,
                        "username": candidate.username if candidate else None, "exam_room_id": ps.exam_room_id,
                        "state": ps.state, "identity": ps.identity, "risk_score": ps.risk_score,
                        "decision": ps.decision, "decision_note": ps.decision_note, "decided_by": ps.decided_by,
                        "decided_by_name": names.get(ps.decided_by) if ps.decided_by else None,
                        "decided_at": ps.decided_at, "purged_at": ps.purged_at},
            "score": proctor_flags.explain_session(session, ps, now).as_dict(),
            "flags": flags, "events": events, "heartbeats": hidden, "frames": frames,
            "actions": [_action_view(a, names) for a in actions], "timeline": entries}


# ---- frames ---------------------------------------------------------------------------------------

def evidence_store(data_dir: Path, configured_key: str | None) -> EvidenceStore:
    """The deployment's evidence store (the same layout the candidate connection writes)."""
    return EvidenceStore(data_dir / "evidence", load_or_create_key(configured_key, data_dir))


def frame_image(session: Session, user: User, frame_id: int, store: EvidenceStore) -> bytes:
    frame = session.get(ProctorFrame, frame_id)
    if frame is None:
        raise NotFound(f"frame {frame_id} does not exist")
    proctor_review.watchable_session(session, user, frame.session_id)
    if frame.storage_key is None:
        raise NotFound(f"frame {frame_id}: its image was purged after the retention period")
    try:
        return store.get(frame.storage_key)
    except EvidenceError as exc:
        raise NotFound(f"frame {frame_id}: {exc}") from exc


# ---- export ---------------------------------------------------------------------------------------

def export_data(session: Session, user: User, exam_id: int, now: datetime) -> dict[str, Any]:
    exam = proctor_review.run_exam(session, user, exam_id)
    weights = proctor_flags.exam_weights(session, exam.id)
    rows = session.execute(select(ProctorSession, User).join(User, User.id == ProctorSession.user_id)
                           .where(ProctorSession.exam_id == exam.id).order_by(ProctorSession.id)).all()
    sessions = []
    for ps, u in rows:
        explanation = proctor_flags.explain_session(session, ps, now, weights)
        sessions.append({"session_id": ps.id, "attempt_id": ps.attempt_id, "user_id": u.id, "username": u.username,
                         "display_name": u.display_name, "exam_room_id": ps.exam_room_id, "state": ps.state,
                         "identity": ps.identity, "risk_score": explanation.total, "decision": ps.decision,
                         "decision_note": ps.decision_note, "decided_by": ps.decided_by, "decided_at": ps.decided_at,
                         "score": explanation.as_dict(),
                         "flags": [{k: v for k, v in flag_view(f).items() if k != "evidence"}
                                   for f in proctor_flags.session_flags(session, ps.id)]})
    actions = session.scalars(select(ProctorAction).where(ProctorAction.exam_id == exam.id).order_by(ProctorAction.id))
    return {"exam_id": exam.id, "exam_title": exam.title, "exported_at": now, "weights": weights,
            "sessions": sessions, "actions": [{"id": a.id, "session_id": a.session_id, "actor_id": a.actor_id,
                                                "action": a.action, "data": a.data, "created_at": a.created_at}
                                               for a in actions]}


CSV_COLUMNS = ("session_id", "username", "display_name", "exam_room_id", "risk_score", "decision", "decision_note",
               "decided_at", "flag_id", "rule", "severity", "started_at", "ended_at", "flag_status", "review_note")


def _cell(value: Any) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    # A spreadsheet runs cells that start with these as formulas: keep notes plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(data: dict[str, Any]) -> str:
    """One row per flag (a session without flags: one row with empty flag columns)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in data["sessions"]:
        head = [s["session_id"], s["username"], s["display_name"], s["exam_room_id"], s["risk_score"],
                s["decision"], s["decision_note"], s["decided_at"]]
        for flag in s["flags"] or [None]:
            tail = ([flag["id"], flag["rule"], flag["severity"], flag["started_at"], flag["ended_at"], flag["status"],
                     flag["review_note"]] if flag else [None] * 7)
            writer.writerow([_cell(v) for v in head + tail])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese names correctly
