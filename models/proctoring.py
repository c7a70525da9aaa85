"""Proctoring (智能监考): consent, identity check, live events, flags, frames, decisions.

One **proctoring session** per attempt (``proctor_sessions``) holds its state (the state machine is
:mod:`proctoring.session`), the identity-check result, the last client event sequence number taken
(so a reconnect that resends buffered events stores each one once, in order) and the risk score.

* ``proctor_consents``: 告知-同意, recorded before any camera frame is accepted (append-only).
* ``enrolled_photos``: a candidate's reference photo (encrypted in the file store) and its face
  embedding, uploaded by the school or imported with the roster.
* ``proctor_events``: append-only browser and connection events, unique per (session, seq).
* ``proctor_frames``: webcam frames (encrypted in the file store until purged) and their analysis.
* ``proctor_flags``: a rule's finding with a severity, a start and end time and its evidence; a
  reviewer confirms or dismisses it with a note.
* ``proctor_actions``: append-only audit of every human act (warn, pause, resume, terminate, admit,
  confirm, dismiss, decide, reweight, purge).
* ``proctor_settings``: per exam, the rule weights of the risk score and the retention period.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class ProctorSession(Base):
    __tablename__ = "proctor_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), unique=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    exam_room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_rooms.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))  # proctoring.session.SessionState
    # unchecked, passed, failed, manual_pending, admitted_manually, impossible
    identity: Mapped[str] = mapped_column(String(20), default="unchecked")
    identity_distance: Mapped[float | None] = mapped_column(Float)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # highest client event seq stored
    connection_id: Mapped[str | None] = mapped_column(String(40))  # the live connection, if any
    last_seen_at: Mapped[datetime | None]
    client_ip: Mapped[str | None] = mapped_column(String(64))
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    decision: Mapped[str | None] = mapped_column(String(20))  # no_issue, warning, violation
    decision_note: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]  # evidence removed after retention; decision kept
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProctorConsent(Base):
    __tablename__ = "proctor_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("proctor_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(20))  # which 告知 text was shown
    language: Mapped[str] = mapped_column(String(8))
    accepted: Mapped[bool]
    client_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class EnrolledPhoto(Base):
    __tablename__ = "enrolled_photos"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(100))  # encrypted bytes in the file store
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted float32[128]
    face_count: Mapped[int] = mapped_column(Integer, default=1)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class ProctorEvent(Base):
    """Append-only: one client or server event of a session."""

    __tablename__ = "proctor_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("proctor_sessions.id"))
    seq: Mapped[int] = mapped_column(BigInteger)  # client seq; server-made events use negative seqs
    kind: Mapped[str] = mapped_column(String(30))
    client_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ProctorFrame(Base):
    __tablename__ = "proctor_frames"
    __table_args__ = (Index("ix_proctor_frames_session_taken", "session_id", "taken_at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("proctor_sessions.id"))
    purpose: Mapped[str] = mapped_column(String(12))  # identity, monitor
    taken_at: Mapped[datetime]
    storage_key: Mapped[str | None] = mapped_column(String(100))  # None once purged
    size_bytes: Mapped[int] = mapped_column(Integer)
    # faces, match distance, looking away, ... (proctoring.faces.FrameAnalysis as a dict); None until analysed
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    analysed_at: Mapped[datetime | None]


class ProctorFlag(Base):
    __tablename__ = "proctor_flags"
    __table_args__ = (Index("ix_proctor_flags_session_rule", "session_id", "rule"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("proctor_sessions.id"))
    rule: Mapped[str] = mapped_column(String(30))  # proctoring.rules.Rule
    severity: Mapped[str] = mapped_column(String(10))  # info, low, medium, high
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # None while the violation lasts
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"events": [ids], "frames": [ids], "detail": ...}
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, confirmed, dismissed
    review_note: Mapped[str | None] = mapped_column(String(2000))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ProctorAction(Base):
    """Append-only audit of every human act on a session (or an exam's settings)."""

    __tablename__ = "proctor_actions"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("proctor_sessions.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ProctorSettings(Base):
    __tablename__ = "proctor_settings"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    require_identity: Mapped[bool] = mapped_column(default=True)
    weights: Mapped[dict[str, float]] = mapped_column(JSON)  # rule -> points per minute in violation
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class ProctorRuleState(Base):
    """The detection rules' memory of one session (proctoring.rules.RuleState as JSON): pending
    debounce windows and open violations, so a rule continues across observations and processes."""

    __tablename__ = "proctor_rule_states"

    session_id: Mapped[int] = mapped_column(ForeignKey("proctor_sessions.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
