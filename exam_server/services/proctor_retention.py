"""Retention: after an exam's ``retention_days`` (proctor_settings) have passed since it closed,
purge its proctoring evidence and keep only the record of what was decided.

Purged: every frame's encrypted blob (monitoring and identity-check frames) from the EvidenceStore,
its ``storage_key`` (set to NULL), and what was derived from the enrolled photo for this exam (the
identity-check distance on the session, the match distance in each frame's analysis).
Kept: the sessions with their state, identity outcome, risk score and decision; events; flags and
their review; the append-only ``proctor_actions``; frame rows without their images (so a flag's
evidence still names its frames, shown as purged). The school's enrolled photo itself is not this
exam's evidence and stays (it is removed with the student's enrolment).

Flow, one short transaction per session so a district exam never holds a long lock: claim the
session (``purged_at IS NULL``, row-locked; a second worker skips it) -> delete its blobs -> NULL
the keys -> set ``purged_at`` -> commit. Blobs are deleted *before* the commit: a failed commit
leaves keys naming deleted blobs, which the next pass clears (deleting a missing blob is a no-op);
the reverse order could leave unreferenced images behind. Each exam's pass appends one
``proctoring.purge`` audit event (system actor) with its counts. Running it again changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from exam_server.db import session_scope
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services import audit
from models import Exam, ExamSitting, ProctorFrame, ProctorSession, ProctorSettings

log = logging.getLogger(__name__)


@dataclass
class PurgeCount:
    sessions: int = 0
    frames: int = 0
    blobs_deleted: int = 0


def closed_at(session: Session, exam: Exam) -> datetime:
    """When the exam's last window closed (a joint exam's sittings may close after the exam's own)."""
    latest = session.scalar(select(func.max(ExamSitting.closes_at)).where(ExamSitting.exam_id == exam.id))
    return max(exam.closes_at, latest) if latest is not None else exam.closes_at


def due_exams(session: Session, now: datetime) -> list[int]:
    """Exams past retention that still have unpurged sessions."""
    rows = session.execute(
        select(Exam, ProctorSettings.retention_days).join(ProctorSettings, ProctorSettings.exam_id == Exam.id)
        .where(select(ProctorSession.id).where(ProctorSession.exam_id == Exam.id, ProctorSession.purged_at.is_(None))
               .exists())).all()
    return [exam.id for exam, days in rows if _aware(closed_at(session, exam)) + timedelta(days=days) <= now]


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def purge_session(session: Session, session_id: int, store: EvidenceStore, now: datetime) -> PurgeCount | None:
    """Purge one session's evidence; None when already purged or taken by another worker."""
    ps = session.scalars(select(ProctorSession).where(ProctorSession.id == session_id,
                                                      ProctorSession.purged_at.is_(None))
                         .with_for_update(skip_locked=True)).first()
    if ps is None:
        return None
    count = PurgeCount(sessions=1)
    for frame in session.scalars(select(ProctorFrame).where(ProctorFrame.session_id == ps.id)):
        if frame.storage_key is not None:
            count.blobs_deleted += store.delete(frame.storage_key)
            frame.storage_key = None
            count.frames += 1
        if frame.analysis and frame.analysis.get("match_distance") is not None:
            frame.analysis = {**frame.analysis, "match_distance": None}
    ps.identity_distance = None
    ps.purged_at = now
    ps.updated_at = now
    return count


def purge_exam(factory: sessionmaker[Session], exam_id: int, store: EvidenceStore, now: datetime) -> PurgeCount:
    total = PurgeCount()
    with factory() as session:
        ids = list(session.scalars(select(ProctorSession.id).where(ProctorSession.exam_id == exam_id,
                                                                   ProctorSession.purged_at.is_(None))
                                   .order_by(ProctorSession.id)))
    for session_id in ids:
        with session_scope(factory) as session:
            done = purge_session(session, session_id, store, now)
        if done is not None:
            total.sessions += done.sessions
            total.frames += done.frames
            total.blobs_deleted += done.blobs_deleted
    if total.sessions:
        with session_scope(factory) as session:
            audit.record(session, None, "proctoring.purge", "exam", exam_id,
                         {"sessions": total.sessions, "frames": total.frames, "blobs_deleted": total.blobs_deleted},
                         now)
    return total


def purge_due(factory: sessionmaker[Session], store: EvidenceStore, now: datetime) -> dict[int, PurgeCount]:
    """The periodic pass: purge every exam past its retention period. One exam's failure is logged
    and never stops the others (each session commits on its own; the next pass retries the rest)."""
    with factory() as session:
        exams = due_exams(session, now)
    done: dict[int, PurgeCount] = {}
    for exam_id in exams:
        try:
            done[exam_id] = purge_exam(factory, exam_id, store, now)
        except Exception:  # noqa: BLE001 - a disk or database hiccup on one exam
            log.exception("proctoring retention: exam %s not fully purged; the next pass retries", exam_id)
    return done
