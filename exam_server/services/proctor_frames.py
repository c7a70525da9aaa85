"""Analysis of stored webcam frames on the worker (never in the connection handler).

The candidate WebSocket stores a frame (encrypted, ``proctor_frames``) and enqueues
``analyse_proctor_frame(frame_id)`` after commit. The job reads the frame in a short transaction,
analyses it with no transaction open (CPU, ~0.1 s), then in a second one stores the
:class:`~proctoring.faces.FrameAnalysis` in ``proctor_frames.analysis`` and feeds it to the rules
(``proctor_flags.observe``, kind ``frame_analysed``). Idempotent: delivery is at least once, and a
frame already analysed (or purged) is skipped, so the rules never see a frame twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from exam_server.db import session_scope
from exam_server.proctoring import worker_wall
from exam_server.proctoring.evidence import EvidenceError, EvidenceStore
from exam_server.proctoring.identity import enrolled_embedding
from exam_server.services import proctor_flags
from models import ProctorFrame, ProctorSession
from proctoring.face_engine import Embedding, FaceEngine, analyse_frame
from proctoring.faces import FrameAnalysis
from proctoring.rules import FlagChange, Observation

log = logging.getLogger(__name__)
FlagsCallback = Callable[[worker_wall.Ref, list[FlagChange]], None]


@dataclass(frozen=True)
class _Pending:
    frame_id: int
    data: bytes | None  # None: the blob is gone or altered
    enrolled: Embedding | None


def _load(session: Session, evidence: EvidenceStore, frame_id: int) -> _Pending | None:
    frame = session.get(ProctorFrame, frame_id)
    if frame is None or frame.analysis is not None or frame.storage_key is None:
        return None  # unknown, done already (redelivery), or purged
    ps = session.get(ProctorSession, frame.session_id)
    if ps is None:
        return None
    try:
        data: bytes | None = evidence.get(frame.storage_key)
    except EvidenceError as exc:
        log.warning("frame %s cannot be read: %s", frame_id, exc)
        data = None
    return _Pending(frame_id, data, enrolled_embedding(session, evidence, ps.user_id))


def analyse(factory: sessionmaker[Session], evidence: EvidenceStore, engine: FaceEngine, frame_id: int,
            now: datetime, on_flags: FlagsCallback | None = None) -> FrameAnalysis | None:
    """Analyse one stored frame, store the result and feed the rules; None when skipped.
    ``on_flags(ref, changes)`` runs after the commit with the flag changes the frame caused."""
    changes: list[FlagChange] = []
    ref: worker_wall.Ref | None = None
    with session_scope(factory) as session:
        pending = _load(session, evidence, frame_id)
    if pending is None:
        return None
    if pending.data is None:
        analysis = FrameAnalysis(faces=0, usable=False, reason="evidence_unreadable")
    else:
        analysis = analyse_frame(pending.data, engine, pending.enrolled)
    with session_scope(factory) as session:
        frame = session.get(ProctorFrame, frame_id, with_for_update=True)
        if frame is None or frame.analysis is not None:
            return None  # another worker got there first
        frame.analysis, frame.analysed_at = analysis.as_dict(), now
        ps = session.get(ProctorSession, frame.session_id)
        if ps is not None:
            observation = Observation(kind="frame_analysed", at=frame.taken_at, data=analysis.as_dict(),
                                      frame_id=frame.id)
            changes = proctor_flags.observe(session, ps, [observation], now)
            ref = worker_wall.Ref(ps.id, ps.exam_id, ps.exam_room_id)
    if on_flags is not None and ref is not None and changes:
        on_flags(ref, changes)
    return analysis
