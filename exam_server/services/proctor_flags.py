"""From observations to stored flags and the risk score (rules in :mod:`proctoring.rules`).

:func:`observe` is called in the caller's transaction (the candidate's WebSocket handler after it
stored events or frames, the frame-analysis worker, the heartbeat sweep): it locks the session's
rule state, feeds the observations in order, writes the flags they opened or ended, refreshes the
session's risk score and returns the changes for the caller to publish on the wall after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from models import ProctorFlag, ProctorRuleState, ProctorSession, ProctorSettings
from proctoring import rules
from proctoring.rules import FlagChange, Observation, RuleState
from proctoring.score import DEFAULT_WEIGHTS, Explanation, FlagSpan, explain
from proctoring.session import SessionState


def _load_state(session: Session, ps: ProctorSession, now: datetime) -> ProctorRuleState:
    # FOR UPDATE: the WebSocket handler and a frame worker may observe the same session at once.
    row = session.scalars(select(ProctorRuleState).where(ProctorRuleState.session_id == ps.id)
                          .with_for_update()).first()
    if row is None:
        row = ProctorRuleState(session_id=ps.id, state={}, updated_at=now)
        session.add(row)
        session.flush()
    return row


def _merge_evidence(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key in ("events", "frames"):
        ids = list(old.get(key, [])) + [i for i in new.get(key, []) if i not in old.get(key, [])]
        if ids:
            merged[key] = ids[: rules.MAX_EVIDENCE_IDS]
    if "detail" in new and "detail" not in old:
        merged["detail"] = new["detail"]
    return merged


def _apply(session: Session, ps: ProctorSession, change: FlagChange, now: datetime) -> None:
    if change.ended_at is None:
        session.add(ProctorFlag(session_id=ps.id, rule=change.rule.value, severity=change.severity.value,
                                started_at=change.started_at, ended_at=None, evidence=dict(change.evidence),
                                status="open", created_at=now))
        session.flush()
        return
    flag = session.scalars(select(ProctorFlag).where(
        ProctorFlag.session_id == ps.id, ProctorFlag.rule == change.rule.value,
        ProctorFlag.started_at == change.started_at).order_by(ProctorFlag.id.desc())).first()
    if flag is None:  # the opening was never stored (should not happen): keep the finding anyway
        session.add(ProctorFlag(session_id=ps.id, rule=change.rule.value, severity=change.severity.value,
                                started_at=change.started_at, ended_at=change.ended_at,
                                evidence=dict(change.evidence), status="open", created_at=now))
        return
    flag.ended_at = change.ended_at
    flag.evidence = _merge_evidence(flag.evidence or {}, change.evidence)


def observe(session: Session, ps: ProctorSession, observations: Sequence[Observation],
            now: datetime) -> list[FlagChange]:
    """Feed ``observations`` (in order) to the rules; store and return the flag changes."""
    if not observations:
        return []
    row = _load_state(session, ps, now)
    state = RuleState.from_json(row.state)
    changes: list[FlagChange] = []
    for obs in observations:
        changes += rules.step(state, obs)
    row.state = state.to_json()
    row.updated_at = now
    for change in changes:
        _apply(session, ps, change, now)
    if changes:
        refresh_score(session, ps, now)
    return changes


def end_session(session: Session, ps: ProctorSession, now: datetime) -> list[FlagChange]:
    """The session ended (submitted, deadline, terminated): close every open flag at ``now``."""
    return observe(session, ps, [Observation("session_ended", now)], now)


# ---- risk score ---------------------------------------------------------------------------------

def exam_weights(session: Session, exam_id: int) -> dict[str, float]:
    settings = session.get(ProctorSettings, exam_id)
    weights = {str(k): v for k, v in DEFAULT_WEIGHTS.items()}
    if settings is not None and settings.weights:
        weights.update({str(k): float(v) for k, v in settings.weights.items()})
    return weights


def session_flags(session: Session, session_id: int) -> list[ProctorFlag]:
    return list(session.scalars(select(ProctorFlag).where(ProctorFlag.session_id == session_id)
                                .order_by(ProctorFlag.started_at, ProctorFlag.id)))


def score_time(ps: ProctorSession, now: datetime) -> datetime:
    """Open flags count up to now while the session lasts, and up to its end afterwards."""
    if ps.state == SessionState.ENDED and ps.updated_at is not None:
        return min(rules.utc(now), rules.utc(ps.updated_at))
    return now


def explain_session(session: Session, ps: ProctorSession, now: datetime,
                    weights: dict[str, float] | None = None) -> Explanation:
    spans = [FlagSpan(f.id, f.rule, f.started_at, f.ended_at, f.status) for f in session_flags(session, ps.id)]
    return explain(spans, weights if weights is not None else exam_weights(session, ps.exam_id), score_time(ps, now))


def refresh_score(session: Session, ps: ProctorSession, now: datetime,
                  weights: dict[str, float] | None = None) -> float:
    ps.risk_score = explain_session(session, ps, now, weights).total
    return ps.risk_score


# ---- the heartbeat sweep --------------------------------------------------------------------------

LIVE_STATES = (SessionState.ACTIVE, SessionState.PAUSED)


def silent_sessions(session: Session, now: datetime, missing: timedelta) -> list[ProctorSession]:
    """Live sessions not heard from for ``missing`` that have no network_drop flag open yet."""
    open_drop = exists().where(and_(ProctorFlag.session_id == ProctorSession.id,
                                    ProctorFlag.rule == rules.Rule.NETWORK_DROP.value,
                                    ProctorFlag.ended_at.is_(None)))
    return list(session.scalars(select(ProctorSession).where(
        ProctorSession.state.in_([s.value for s in LIVE_STATES]),
        ProctorSession.last_seen_at.is_not(None), ProctorSession.last_seen_at < now - missing,
        ~open_drop).order_by(ProctorSession.id)))


def sweep_heartbeats(session: Session, now: datetime) -> list[tuple[ProctorSession, list[FlagChange]]]:
    """Observe ``heartbeat_missing`` for every silent live session; returns what each opened."""
    out: list[tuple[ProctorSession, list[FlagChange]]] = []
    for ps in silent_sessions(session, now, timedelta(seconds=rules.HEARTBEAT_MISSING_S)):
        assert ps.last_seen_at is not None
        obs = Observation("heartbeat_missing", now, {"last_seen_at": rules.utc(ps.last_seen_at).isoformat()})
        changes = observe(session, ps, [obs], now)
        if changes:
            out.append((ps, changes))
    return out
