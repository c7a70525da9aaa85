"""What each message of a candidate's proctoring connection does to the database.

The WebSocket handler (``exam_server/proctoring/candidate_ws.py``) holds no database session: it
calls one function here per message, through :func:`transact`, which is one short transaction in
a worker thread. A function either completes or raises and leaves nothing behind (an evidence blob
written before a failed commit is deleted again). The frequent client events (heartbeat, browser
event, frame) are stored by :mod:`exam_server.services.proctor_events` in group commits.

Sequence numbers: client events carry ``seq`` 1, 2, 3, ... over the whole attempt. A seq at or
below ``proctor_sessions.last_seq`` was stored before (a resend after a reconnect): it is acked and
not stored again. A seq above ``last_seq + 1`` is accepted (the client dropped events, e.g. its
offline buffer overflowed) and the event records the gap as ``data.gap``. So events are stored once,
in increasing seq order. Server-made events (connected, disconnected, consent, ...) use negative
seqs, -1, -2, ... in the same table.

Second login and IP change (how :func:`open_connection` decides):

* ``second_login``: the previous connection is still live (its id is on the session and it was
  heard from within :data:`LIVE_WINDOW`) and the new one comes from another device (both pages
  sent a ``device_id`` and they differ) or, when a ``device_id`` is missing, from another IP.
  A reload on the same device is not a second login.
* ``ip_changed``: otherwise, the new connection's IP differs from the last one seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from exam_server.db import session_scope
from exam_server.proctoring import hooks
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services.proctor_sessions import transition
from models import Attempt, ExamCandidate, ProctorConsent, ProctorEvent, ProctorFrame, ProctorSession, ProctorSettings
from models.enums import AttemptState
from proctoring.protocol import CONSENT_NOTICE_VERSION, HEARTBEAT_S, CloseCode, Consent
from proctoring.rules import FlagChange, Observation
from proctoring.session import IllegalTransition, Move, SessionState, start_state

LIVE_WINDOW = timedelta(seconds=3 * HEARTBEAT_S)
T = TypeVar("T")
Put = Callable[[bytes], str]


class LiveRefused(Exception):
    """The connection must close with ``code`` (the message changed nothing)."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class MessageRefused(Exception):
    """One message is refused (sent back as an ``error`` message); the connection stays open."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Peer:
    connection_id: str
    ip: str
    device_id: str | None


@dataclass(frozen=True)
class Opened:
    session_id: int
    exam_id: int
    exam_room_id: int | None
    state: str
    identity: str
    last_seq: int
    identity_required: bool
    changes: list[FlagChange] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """The result of one message: the session's state after it and the flag changes it caused."""

    state: str
    changes: list[FlagChange] = field(default_factory=list)
    duplicate: bool = False
    frame_id: int | None = None
    identity: str | None = None


def transact(factory: sessionmaker[Session], evidence: EvidenceStore | None,
             work: Callable[[Session, Put], T]) -> T:
    """Run ``work`` in one transaction; blobs it stored through ``put`` are removed if it fails."""
    written: list[str] = []

    def put(data: bytes) -> str:
        if evidence is None:
            raise RuntimeError("no evidence store configured")
        written.append(evidence.put(data))
        return written[-1]

    try:
        with session_scope(factory) as session:
            return work(session, put)
    except BaseException:
        for key in written:
            evidence.delete(key) if evidence is not None else None
        raise


# ---- opening ------------------------------------------------------------------------------------

def open_connection(session: Session, attempt_id: int, user_id: int, peer: Peer, now: datetime) -> Opened:
    """Check the attempt, get or create its proctoring session and take it over for ``peer``."""
    attempt, settings = _proctored_attempt(session, attempt_id, user_id, now)
    ps = _session_for(session, attempt, now)
    if ps.state == SessionState.ENDED:
        raise LiveRefused(CloseCode.NOT_PROCTORED, "the proctoring session of this attempt has ended")
    observations = _arrival(session, ps, peer, now)
    ps.connection_id, ps.client_ip, ps.last_seen_at, ps.updated_at = peer.connection_id, peer.ip, now, now
    changes = hooks.observe(session, ps, observations, now)
    return Opened(ps.id, ps.exam_id, ps.exam_room_id, ps.state, ps.identity, ps.last_seq,
                  settings.require_identity, changes)


def _proctored_attempt(session: Session, attempt_id: int, user_id: int,
                       now: datetime) -> tuple[Attempt, ProctorSettings]:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LiveRefused(CloseCode.NOT_FOUND, f"attempt {attempt_id} does not exist")
    if attempt.user_id != user_id:
        raise LiveRefused(CloseCode.FORBIDDEN, f"attempt {attempt_id} is not yours")
    settings = session.get(ProctorSettings, attempt.exam_id)
    if settings is None or not settings.enabled:
        raise LiveRefused(CloseCode.NOT_PROCTORED, f"exam {attempt.exam_id} is not proctored")
    if attempt.state != AttemptState.IN_PROGRESS or attempt.deadline <= now:
        raise LiveRefused(CloseCode.NOT_PROCTORED, f"attempt {attempt_id} is closed ({attempt.state})")
    return attempt, settings


def _locked(session: Session, attempt_id: int) -> ProctorSession | None:
    query = select(ProctorSession).where(ProctorSession.attempt_id == attempt_id).with_for_update()
    return session.scalars(query).one_or_none()


def _session_for(session: Session, attempt: Attempt, now: datetime) -> ProctorSession:
    ps = _locked(session, attempt.id)
    if ps is not None:
        return ps
    room = session.scalar(select(ExamCandidate.exam_room_id).where(
        ExamCandidate.exam_id == attempt.exam_id, ExamCandidate.user_id == attempt.user_id))
    ps = ProctorSession(attempt_id=attempt.id, exam_id=attempt.exam_id, user_id=attempt.user_id, exam_room_id=room,
                        state=start_state(), identity="unchecked", last_seq=0, risk_score=0.0, created_at=now,
                        updated_at=now)
    try:
        with session.begin_nested():  # two first connections at once: the loser reads the winner's row
            session.add(ps)
    except IntegrityError:
        found = _locked(session, attempt.id)
        if found is None:
            raise
        return found
    return ps


def _arrival(session: Session, ps: ProctorSession, peer: Peer, now: datetime) -> list[Observation]:
    """The ``connected`` event, plus ``second_login`` or ``ip_changed`` (see the module doc)."""
    previous = _last_connected(session, ps.id)
    data = {"ip": peer.ip, "device_id": peer.device_id, "connection_id": peer.connection_id,
            "resume_from": ps.last_seq}
    observations = [_observed(session, ps, "connected", now, data)]
    live = ps.connection_id is not None and ps.last_seen_at is not None and now - ps.last_seen_at <= LIVE_WINDOW
    before = {"ip": ps.client_ip, "device_id": (previous or {}).get("device_id")}
    if live and _other_device(before, peer):
        observations.append(_observed(session, ps, "second_login", now, {**data, "previous": before}))
    elif ps.client_ip is not None and ps.client_ip != peer.ip:
        observations.append(_observed(session, ps, "ip_changed", now, {"from": ps.client_ip, "to": peer.ip}))
    return observations


def _other_device(before: dict[str, Any], peer: Peer) -> bool:
    if before["device_id"] and peer.device_id:
        return bool(before["device_id"] != peer.device_id)
    return bool(before["ip"] != peer.ip)


def _last_connected(session: Session, session_id: int) -> dict[str, Any] | None:
    data: dict[str, Any] | None = session.scalar(
        select(ProctorEvent.data).where(ProctorEvent.session_id == session_id, ProctorEvent.kind == "connected")
        .order_by(ProctorEvent.seq.asc()).limit(1))  # server seqs go down: the lowest is the latest
    return data


def _observed(session: Session, ps: ProctorSession, kind: str, now: datetime,
              data: dict[str, Any] | None) -> Observation:
    """Store a server-made event (the next negative seq) and return it as an observation."""
    lowest = session.scalar(select(func.min(ProctorEvent.seq)).where(
        ProctorEvent.session_id == ps.id, ProctorEvent.seq < 0))
    event = ProctorEvent(session_id=ps.id, seq=(lowest or 0) - 1, kind=kind, client_at=None, received_at=now, data=data)
    session.add(event)
    session.flush()
    return Observation(kind, now, data, event_id=event.id)


# ---- messages -----------------------------------------------------------------------------------

def current(session: Session, session_id: int, connection_id: str) -> ProctorSession:
    """The session, locked, if ``connection_id`` still holds it (else SUPERSEDED or ended)."""
    return held_by(session.get(ProctorSession, session_id, with_for_update=True), connection_id)


def held_by(ps: ProctorSession | None, connection_id: str) -> ProctorSession:
    if ps is None or ps.state == SessionState.ENDED:
        raise LiveRefused(CloseCode.NOT_PROCTORED, "the proctoring session of this attempt has ended")
    if ps.connection_id != connection_id:
        raise LiveRefused(CloseCode.SUPERSEDED, "a newer connection of this attempt took over")
    return ps


def record_consent(session: Session, session_id: int, connection_id: str, msg: Consent, now: datetime) -> Outcome:
    ps = current(session, session_id, connection_id)
    if ps.state != SessionState.CONSENT_PENDING:
        raise MessageRefused("consent_not_expected", f"consent is already recorded (the session is {ps.state})")
    if msg.notice_version != CONSENT_NOTICE_VERSION:
        raise MessageRefused("notice_outdated", f"notice_version: the current notice is "
                                                f"{CONSENT_NOTICE_VERSION!r}, not {msg.notice_version!r}")
    session.add(ProctorConsent(session_id=ps.id, user_id=ps.user_id, notice_version=msg.notice_version,
                               language=msg.language, accepted=msg.accepted, client_ip=ps.client_ip, created_at=now))
    transition(session, ps, Move.CONSENT_ACCEPTED if msg.accepted else Move.CONSENT_REFUSED, now)
    if not msg.accepted:
        ps.identity = "manual_pending"
    data = {"accepted": msg.accepted, "notice_version": msg.notice_version, "language": msg.language}
    changes = hooks.observe(session, ps, [_observed(session, ps, "consent", now, data)], now)
    return Outcome(ps.state, changes, identity=ps.identity)


def store_identity_frame(session: Session, put: Put, session_id: int, connection_id: str, jpeg: bytes,
                         now: datetime) -> int:
    """Keep the identity frame (encrypted); the check itself runs outside this transaction."""
    ps = current(session, session_id, connection_id)
    if ps.state != SessionState.IDENTITY_PENDING:
        raise MessageRefused("identity_not_expected", f"no identity check is due (the session is {ps.state})")
    frame = ProctorFrame(session_id=ps.id, purpose="identity", taken_at=now, storage_key=put(jpeg),
                         size_bytes=len(jpeg), analysis=None, analysed_at=None)
    session.add(frame)
    session.flush()
    _observed(session, ps, "identity_frame", now, {"frame_id": frame.id, "size": len(jpeg)})
    return frame.id


def apply_identity(session: Session, session_id: int, frame_id: int, outcome: hooks.IdentityOutcome,
                   now: datetime) -> Outcome:
    """Record the check's result and move the session (a failed or impossible check: manual)."""
    ps = session.get(ProctorSession, session_id, with_for_update=True)
    if ps is None:
        raise LiveRefused(CloseCode.NOT_PROCTORED, "the proctoring session of this attempt has ended")
    move = Move.IDENTITY_PASSED if outcome.status == "passed" else Move.IDENTITY_FAILED
    try:
        transition(session, ps, move, now)
    except IllegalTransition:  # a proctor admitted (or ended) the session meanwhile: keep their decision
        return Outcome(ps.state, identity=ps.identity)
    ps.identity = outcome.status if outcome.status in ("passed", "failed", "impossible") else "manual_pending"
    ps.identity_distance = outcome.distance
    data = {"frame_id": frame_id, "status": ps.identity, "distance": outcome.distance, "reason": outcome.reason}
    changes = hooks.observe(session, ps, [_observed(session, ps, "identity_checked", now, data)], now)
    return Outcome(ps.state, changes, identity=ps.identity)


def close_connection(session: Session, session_id: int, connection_id: str, reason: str,
                     now: datetime) -> Outcome | None:
    """Record ``disconnected`` if this connection still held the session (None otherwise)."""
    ps = session.get(ProctorSession, session_id, with_for_update=True)
    if ps is None or ps.connection_id != connection_id:
        return None
    ps.connection_id, ps.updated_at = None, now
    seen = _observed(session, ps, "disconnected", now, {"connection_id": connection_id, "reason": reason})
    return Outcome(ps.state, hooks.observe(session, ps, [seen], now))
