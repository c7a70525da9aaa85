"""Storing client events (heartbeat, browser event, frame) of many connections in one transaction.

Why a group commit: one transaction per event cost 27 ms on PostgreSQL on the 2-core bench machine
(five round trips: BEGIN, SELECT ... FOR UPDATE, INSERT, UPDATE, COMMIT), so the two API processes
could store a few hundred events a second while 10,000 candidates send about 3,000 (a heartbeat
every 5 s, a frame every 10 s). A batch costs the same handful of round trips whatever its size
(bench/proctoring.py).

Each event is still all-or-nothing and stored once, in seq order (rules in
:mod:`exam_server.services.proctor_live`). The batch locks its sessions in id order, checks each
event (superseded, ended, duplicate) before writing anything, and writes the rest; if the batch
fails for any other reason, :func:`store_batch` stores the events one transaction each, so one bad
event never loses the others. The client's ``ack`` is sent only after its batch committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exam_server.db import enqueue_after_commit
from exam_server.proctoring import hooks
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services.proctor_live import LiveRefused, Outcome, Put, held_by, transact
from models import ProctorEvent, ProctorFrame, ProctorSession
from proctoring.protocol import BrowserEvent, Frame, Heartbeat
from proctoring.rules import Observation
from proctoring.session import SessionState

ANALYSE_FRAME_JOB = "analyse_proctor_frame"  # agreed with the face analysis module: (frame_id)
Result = Outcome | Exception  # an Exception (LiveRefused, or a database error) belongs to its item only


@dataclass(frozen=True)
class Pending:
    session_id: int
    connection_id: str
    msg: Heartbeat | BrowserEvent | Frame
    jpeg: bytes | None = None


@dataclass
class _Staged:
    index: int
    ps: ProctorSession
    item: Pending
    event: ProctorEvent
    frame: ProctorFrame | None


def store_batch(factory: sessionmaker[Session], evidence: EvidenceStore | None, items: list[Pending],
                now: datetime) -> list[Result]:
    """One result per item, in order: an Outcome, or the exception of that item (a LiveRefused closes
    its connection)."""
    try:
        return transact(factory, evidence, lambda session, put: store_events(session, put, items, now))
    except Exception:  # noqa: BLE001 - retried one by one below, so one bad item fails alone
        if len(items) == 1:
            raise
    return [_alone(factory, evidence, item, now) for item in items]


def _alone(factory: sessionmaker[Session], evidence: EvidenceStore | None, item: Pending, now: datetime) -> Result:
    try:
        return transact(factory, evidence, lambda session, put: store_events(session, put, [item], now))[0]
    except Exception as exc:  # noqa: BLE001 - reported to that item's connection
        return exc


def store_events(session: Session, put: Put, items: list[Pending], now: datetime) -> list[Result]:
    ids = sorted({item.session_id for item in items})
    locked = {ps.id: ps for ps in session.scalars(
        select(ProctorSession).where(ProctorSession.id.in_(ids)).order_by(ProctorSession.id).with_for_update())}
    results: list[Result | None] = [None] * len(items)
    staged: list[_Staged] = []
    for index, item in enumerate(items):
        try:
            ps = held_by(locked.get(item.session_id), item.connection_id)
        except LiveRefused as refused:
            results[index] = refused
            continue
        if item.msg.seq <= ps.last_seq:
            results[index] = Outcome(ps.state, duplicate=True)
            continue
        staged.append(_stage(put, ps, index, item, now))
    _write(session, staged)
    for entry in staged:
        results[entry.index] = _finish(session, entry, now)
    return [r for r in results if r is not None]


def _stage(put: Put, ps: ProctorSession, index: int, item: Pending, now: datetime) -> _Staged:
    msg = item.msg
    kind, data, frame = _parts(put, ps, item, now)
    if msg.seq > ps.last_seq + 1:
        data = {**(data or {}), "gap": msg.seq - ps.last_seq - 1}
    event = ProctorEvent(session_id=ps.id, seq=msg.seq, kind=kind, client_at=msg.at, received_at=now, data=data)
    ps.last_seq, ps.last_seen_at = msg.seq, now
    return _Staged(index, ps, item, event, frame)


def _parts(put: Put, ps: ProctorSession, item: Pending,
           now: datetime) -> tuple[str, dict[str, Any] | None, ProctorFrame | None]:
    msg = item.msg
    if isinstance(msg, Heartbeat):
        return "heartbeat", None, None
    if isinstance(msg, BrowserEvent):
        return str(msg.kind), msg.data, None
    if ps.state in (SessionState.CONSENT_PENDING, SessionState.ENDED) or item.jpeg is None:
        # No frame is kept before consent; the seq is still taken so resume stays in order.
        return "frame_dropped", {"reason": "no consent recorded"}, None
    frame = ProctorFrame(session_id=ps.id, purpose="monitor", taken_at=min(msg.at, now), storage_key=put(item.jpeg),
                         size_bytes=len(item.jpeg), analysis=None, analysed_at=None)
    return "frame", {"size": len(item.jpeg)}, frame


def _write(session: Session, staged: list[_Staged]) -> None:
    """Frames first (events name them), then events: two multi-row inserts, whatever the batch size."""
    frames = [entry.frame for entry in staged if entry.frame is not None]
    if frames:
        session.add_all(frames)
        session.flush()
    for entry in staged:
        if entry.frame is not None:
            entry.event.data = {**(entry.event.data or {}), "frame_id": entry.frame.id}
    session.add_all([entry.event for entry in staged])
    session.flush()


def _finish(session: Session, entry: _Staged, now: datetime) -> Outcome:
    ps, event = entry.ps, entry.event
    if entry.frame is not None:
        enqueue_after_commit(session, ANALYSE_FRAME_JOB, entry.frame.id)
        return Outcome(ps.state, frame_id=entry.frame.id)
    if event.kind == "frame_dropped":
        return Outcome(ps.state)
    # Buffered events arrive late: the client's time, never later than now, is when it happened.
    seen = Observation(event.kind, min(entry.item.msg.at, now), event.data, event_id=event.id)
    return Outcome(ps.state, hooks.observe(session, ps, [seen], now))
