"""The identity check before the exam: a live frame against the candidate's enrolled photo.

Called by the candidate WebSocket for an ``identity_frame`` (one short transaction; the caller runs
it in a worker thread, as it takes ~0.1-0.5 s of CPU)::

    outcome = check_identity(session, ps, jpeg, engine, evidence, now, frame_id=frame.id)
    # -> IdentityOutcome(status, reason, distance, state, analysis); send
    #    IdentityResult(status=outcome.status, reason=outcome.reason) to the candidate.

Rules:
* consent (告知-同意) must be recorded and accepted first, else :class:`ConsentRequired` (nothing changes);
* the session must be ``identity_pending``, else ``IllegalTransition`` (nothing changes);
* the same person (distance <= ``proctoring.faces.IDENTITY_DISTANCE``, stricter than monitoring)
  -> ``passed``, state ``active``;
* another face -> ``failed``; no enrolled photo, no face, several faces, an unusable image ->
  ``impossible``; both move the session to ``manual_pending`` with the reason (never a silent
  block: a proctor checks by hand and admits, see the wall's ``admit`` command).

The distance is stored in ``proctor_sessions.identity_distance`` and the analysis, when the frame
was stored first (``frame_id``), in that ``proctor_frames`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
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
    state: SessionState  # active (passed) or manual_pending
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


def check_identity(session: Session, ps: ProctorSession, jpeg: bytes, engine: FaceEngine,
                   evidence: EvidenceStore, now: datetime, *, frame_id: int | None = None) -> IdentityOutcome:
    """Check the live frame ``jpeg`` against the enrolled photo and move the session (see module doc).
    Raises ConsentRequired or IllegalTransition before any change. The caller commits."""
    if not has_consent(session, ps):
        raise ConsentRequired(f"proctoring session {ps.id}: the candidate has not accepted the proctoring "
                              "notice; consent comes before the identity check")
    if ps.state != SessionState.IDENTITY_PENDING:
        raise IllegalTransition(SessionState(ps.state), Move.IDENTITY_PASSED)
    analysis = analyse_frame(jpeg, engine, enrolled_embedding(session, evidence, ps.user_id), IDENTITY_DISTANCE)
    status, reason = judge(analysis)
    move = Move.IDENTITY_PASSED if status == IdentityStatus.PASSED else Move.IDENTITY_FAILED
    state = transition(session, ps, move, now, data={"reason": reason} if reason else None)
    ps.identity = str(status)
    ps.identity_distance = analysis.match_distance
    if frame_id is not None:
        frame = session.get(ProctorFrame, frame_id)
        if frame is not None and frame.session_id == ps.id:
            frame.analysis, frame.analysed_at = analysis.as_dict(), now
    return IdentityOutcome(status, reason, analysis.match_distance, state, analysis)
