"""Proctoring settings and the review after the exam (考后记录备查).

Who may do what (exam_server/permissions.py):

* settings (enabled, identity check, weights, retention), final decisions and exports: whoever runs
  the exam's proctoring (:func:`permissions.may_run_proctoring`);
* the review list, a session's timeline, its frames, confirming or dismissing a flag: also the
  exam's proctors, limited to their rooms (:func:`permissions.proctor_rooms`);
* anyone else gets 404, so an exam's proctoring is not revealed.

Every human act (flag review, decision, re-weighting, settings change) is appended to
``proctor_actions``; nothing is decided automatically. The risk score orders the list by evidence
and is never compared across candidates (no rank or percentile anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.errors import Forbidden, NotFound, Unprocessable
from exam_server.services import proctor_flags
from models import Exam, ProctorAction, ProctorFlag, ProctorSession, ProctorSettings, User
from proctoring.score import DEFAULT_WEIGHTS, WeightError, validate_weights

DECISIONS = ("no_issue", "warning", "violation")
FLAG_REVIEWS = ("confirmed", "dismissed")
MAX_RETENTION_DAYS = 3650


# ---- access ---------------------------------------------------------------------------------------

def watchable_exam(session: Session, user: User, exam_id: int) -> tuple[Exam, frozenset[int | None] | None]:
    """The exam and the rooms the user may review (None: all); NotFound for outsiders."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    rooms = permissions.proctor_rooms(session, user, exam)
    if rooms is not None and not rooms:
        raise NotFound(f"exam {exam_id} does not exist")
    return exam, rooms


def run_exam(session: Session, user: User, exam_id: int) -> Exam:
    """The exam, for those who run its proctoring; its room proctors get 403, outsiders 404."""
    exam, _ = watchable_exam(session, user, exam_id)
    if not permissions.may_run_proctoring(session, user, exam):
        raise Forbidden(f"exam {exam_id}: only those who run the exam change proctoring settings, take final "
                        "decisions and export the review")
    return exam


def watchable_session(session: Session, user: User, session_id: int, *, lock: bool = False) -> tuple[ProctorSession,
                                                                                                       Exam]:
    query = select(ProctorSession).where(ProctorSession.id == session_id)
    ps = session.scalars(query.with_for_update() if lock else query).first()
    exam = session.get(Exam, ps.exam_id) if ps is not None else None
    if ps is None or exam is None or not permissions.may_proctor_room(session, user, exam, ps.exam_room_id):
        raise NotFound(f"proctoring session {session_id} does not exist")
    return ps, exam


def _audit(session: Session, exam_id: int, session_id: int | None, user: User, action: str,
           data: dict[str, Any], now: datetime) -> None:
    session.add(ProctorAction(exam_id=exam_id, session_id=session_id, actor_id=user.id, action=action, data=data,
                              created_at=now))


# ---- settings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingsInput:
    enabled: bool | None = None
    require_identity: bool | None = None
    weights: dict[str, Any] | None = None
    retention_days: int | None = None


def settings_view(session: Session, exam_id: int) -> dict[str, Any]:
    row = session.get(ProctorSettings, exam_id)
    weights = proctor_flags.exam_weights(session, exam_id)
    if row is None:
        return {"exam_id": exam_id, "enabled": False, "require_identity": True, "weights": weights,
                "default_weights": {str(k): v for k, v in DEFAULT_WEIGHTS.items()}, "retention_days": 30,
                "updated_at": None, "updated_by": None}
    return {"exam_id": exam_id, "enabled": row.enabled, "require_identity": row.require_identity, "weights": weights,
            "default_weights": {str(k): v for k, v in DEFAULT_WEIGHTS.items()},
            "retention_days": row.retention_days, "updated_at": row.updated_at, "updated_by": row.updated_by}


def _checked_weights(raw: dict[str, Any]) -> dict[str, float]:
    try:
        return validate_weights(raw)
    except WeightError as exc:
        raise Unprocessable(str(exc)) from exc


def put_settings(session: Session, user: User, exam_id: int, body: SettingsInput, now: datetime) -> dict[str, Any]:
    """Change the exam's settings; new weights re-score every session of the exam (audited)."""
    exam = run_exam(session, user, exam_id)
    if body.retention_days is not None and not 1 <= body.retention_days <= MAX_RETENTION_DAYS:
        raise Unprocessable(f"retention_days: must be between 1 and {MAX_RETENTION_DAYS}")
    row = session.get(ProctorSettings, exam.id, with_for_update=True)
    if row is None:
        row = ProctorSettings(exam_id=exam.id, enabled=True, require_identity=True, weights={}, retention_days=30,
                              updated_at=now)
        session.add(row)
    old = settings_view(session, exam.id)
    for name in ("enabled", "require_identity", "retention_days"):
        if getattr(body, name) is not None:
            setattr(row, name, getattr(body, name))
    row.updated_by, row.updated_at = user.id, now
    changed = {k: {"old": old[k], "new": getattr(row, k)} for k in ("enabled", "require_identity", "retention_days")
               if old[k] != getattr(row, k)}
    if changed:
        _audit(session, exam.id, None, user, "settings", changed, now)
    if body.weights is not None:
        weights = _checked_weights(body.weights)
        if weights != old["weights"]:
            row.weights = weights
            rescored = reweight_sessions(session, exam.id, weights, now)
            _audit(session, exam.id, None, user, "reweight",
                   {"old": old["weights"], "new": weights, "sessions_rescored": rescored}, now)
    session.flush()
    return settings_view(session, exam.id)


def reweight_sessions(session: Session, exam_id: int, weights: dict[str, float], now: datetime) -> int:
    """Recompute the risk score of every session of the exam with ``weights``."""
    count = 0
    for ps in session.scalars(select(ProctorSession).where(ProctorSession.exam_id == exam_id)):
        proctor_flags.refresh_score(session, ps, now, weights)
        count += 1
    return count


# ---- flags and decisions --------------------------------------------------------------------------

def review_flag(session: Session, user: User, flag_id: int, status: str, note: str | None,
                now: datetime) -> ProctorFlag:
    """Confirm or dismiss a flag with a note (a later review replaces it; both stay in the audit)."""
    if status not in FLAG_REVIEWS:
        raise Unprocessable(f"status: must be one of {', '.join(FLAG_REVIEWS)}")
    flag = session.get(ProctorFlag, flag_id)
    if flag is None:
        raise NotFound(f"flag {flag_id} does not exist")
    ps, _ = watchable_session(session, user, flag.session_id, lock=True)
    old = flag.status
    flag.status, flag.review_note, flag.reviewed_by, flag.reviewed_at = status, note, user.id, now
    _audit(session, ps.exam_id, ps.id, user, "confirm" if status == "confirmed" else "dismiss",
           {"flag_id": flag.id, "rule": flag.rule, "old": old, "new": status, "note": note}, now)
    session.flush()
    proctor_flags.refresh_score(session, ps, now)
    return flag


def decide(session: Session, user: User, session_id: int, decision: str, note: str | None,
           now: datetime) -> ProctorSession:
    """The final decision on a session (a person's, never the score's); a later one replaces it."""
    if decision not in DECISIONS:
        raise Unprocessable(f"decision: must be one of {', '.join(DECISIONS)}")
    ps, exam = watchable_session(session, user, session_id, lock=True)
    if not permissions.may_run_proctoring(session, user, exam):
        raise Forbidden(f"proctoring session {session_id}: the final decision is taken by those who run the exam")
    old = ps.decision
    ps.decision, ps.decision_note, ps.decided_by, ps.decided_at = decision, note, user.id, now
    _audit(session, ps.exam_id, ps.id, user, "decide",
           {"old": old, "new": decision, "note": note, "risk_score": ps.risk_score}, now)
    session.flush()
    return ps


def open_flag_counts(session: Session, session_ids: list[int]) -> dict[int, int]:
    """Flags nobody has reviewed yet, per session."""
    if not session_ids:
        return {}
    rows = session.execute(select(ProctorFlag.session_id, func.count()).where(
        ProctorFlag.session_id.in_(session_ids), ProctorFlag.status == "open").group_by(ProctorFlag.session_id))
    return {sid: int(n) for sid, n in rows}
