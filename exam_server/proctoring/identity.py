"""The identity check before the exam: a live frame against the candidate's enrolled photo.

Two steps, so the face analysis (~0.1-0.3 s of CPU) holds no write transaction:

* :func:`check_identity` ``(session, ps, jpeg, now)`` reads only: it refuses without an accepted
  consent (告知-同意, :class:`ConsentRequired`), loads the enrolled embedding and judges the frame.
  The candidate WebSocket calls it in a worker thread with a read session (``hooks.check_identity``);
  ``engine`` (default: the process's dlib engine) and ``evidence`` (default: the store of the
  runtime that owns the session's database engine) can be passed.
* :func:`apply_identity` ``(session, ps, outcome, now, frame_id=None)`` moves the session in a write
  transaction: ``passed`` -> ``active``; ``failed`` (another face) or ``impossible`` (no enrolled
  photo, no face, several faces, an unusable image) -> ``manual_pending`` with the reason (never a
  silent block: a proctor checks by hand and admits, see the wall's ``admit``). It stores the
  distance in ``proctor_sessions.identity_distance`` and the analysis in the frame's row. (The live
  connection has its own equivalent, ``proctor_live.apply_identity``.)

Thresholds: ``proctoring.faces.IDENTITY_DISTANCE`` (0.5, stricter than monitoring's 0.6; measured in
bench/faces.py).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exam_server.errors import Conflict
from exam_server.proctoring.evidence import EvidenceError, EvidenceStore
from exam_server.services.proctor_sessions import transition
from models import EnrolledPhoto, ProctorConsent, ProctorFrame, ProctorSession
from proctoring.face_engine import Embedding, FaceEngine, analyse_frame, embedding_from_bytes
from proctoring.faces import IDENTITY_DISTANCE, FrameAnalysis
from proctoring.session import IdentityStatus, IllegalTransition, Move, SessionState


class ConsentRequired(Conflict):
    """The candidate has not accepted the proctoring notice (告知-同意); no frame is analysed before."""


@dataclass(frozen=True)
class IdentityOutcome:
    status: IdentityStatus  # passed, failed or impossible
    reason: str | None  # a stable code: face_mismatch, no_enrolled_photo, no_face, several_faces, too_dark, ...
    distance: float | None  # to the enrolled embedding (one face and a photo only)
    state: SessionState  # where apply_identity moves the session: active (passed) or manual_pending
    analysis: FrameAnalysis


def embedding_context(user_id: int) -> str:
    """What an enrolled embedding's encryption is bound to (see EvidenceStore.seal)."""
    return f"embedding:{user_id}"


def enrolled_embedding(session: Session, evidence: EvidenceStore, user_id: int) -> Embedding | None:
    """The candidate's enrolled embedding, or None (no photo, or it cannot be decrypted)."""
    photo = session.get(EnrolledPhoto, user_id)
    if photo is None or photo.embedding is None:
        return None
    try:
        return embedding_from_bytes(evidence.unseal(photo.embedding, embedding_context(user_id)))
    except (EvidenceError, ValueError):
        return None


def has_consent(session: Session, ps: ProctorSession) -> bool:
    """The latest consent answer of the session is an acceptance."""
    latest = session.scalars(select(ProctorConsent).where(ProctorConsent.session_id == ps.id)
                             .order_by(ProctorConsent.id.desc()).limit(1)).first()
    return latest is not None and latest.accepted


def judge(analysis: FrameAnalysis) -> tuple[IdentityStatus, str | None]:
    if analysis.matches is True:
        return IdentityStatus.PASSED, None
    if analysis.matches is False:
        return IdentityStatus.FAILED, analysis.reason or "face_mismatch"
    return IdentityStatus.IMPOSSIBLE, analysis.reason or "no_face"


_STORES: weakref.WeakKeyDictionary[Engine, EvidenceStore] = weakref.WeakKeyDictionary()


def register_evidence(engine: Engine, store: EvidenceStore) -> None:
    """Tell :func:`check_identity` which evidence store goes with a database (build_runtime does)."""
    _STORES[engine] = store


def evidence_for(session: Session) -> EvidenceStore:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    store = _STORES.get(engine)
    if store is None:
        raise RuntimeError("no evidence store is registered for this database (build_runtime registers it)")
    return store


def check_identity(session: Session, ps: ProctorSession, jpeg: bytes, now: datetime, *,
                   engine: FaceEngine | None = None, evidence: EvidenceStore | None = None) -> IdentityOutcome:
    """Judge the live frame ``jpeg`` against the enrolled photo; reads only (see the module doc).
    Raises ConsentRequired when the candidate has not accepted the notice."""
    if not has_consent(session, ps):
        raise ConsentRequired(f"proctoring session {ps.id}: the candidate has not accepted the proctoring "
                              "notice; consent comes before the identity check")
    if engine is None:
        from proctoring.dlib_faces import default_engine

        engine = default_engine()
    store = evidence if evidence is not None else evidence_for(session)
    analysis = analyse_frame(jpeg, engine, enrolled_embedding(session, store, ps.user_id), IDENTITY_DISTANCE)
    status, reason = judge(analysis)
    target = SessionState.ACTIVE if status == IdentityStatus.PASSED else SessionState.MANUAL_PENDING
    return IdentityOutcome(status, reason, analysis.match_distance, target, analysis)


def apply_identity(session: Session, ps: ProctorSession, outcome: IdentityOutcome, now: datetime, *,
                   frame_id: int | None = None) -> SessionState:
    """Move the session by the outcome (raises IllegalTransition unless it waits for the check)."""
    if ps.state != SessionState.IDENTITY_PENDING:
        raise IllegalTransition(SessionState(ps.state), Move.IDENTITY_PASSED)
    move = Move.IDENTITY_PASSED if outcome.status == IdentityStatus.PASSED else Move.IDENTITY_FAILED
    state = transition(session, ps, move, now, data={"reason": outcome.reason} if outcome.reason else None)
    ps.identity = str(outcome.status)
    ps.identity_distance = outcome.distance
    if frame_id is not None:
        frame = session.get(ProctorFrame, frame_id)
        if frame is not None and frame.session_id == ps.id:
            frame.analysis, frame.analysed_at = outcome.analysis.as_dict(), now
    return state
