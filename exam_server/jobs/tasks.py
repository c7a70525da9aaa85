"""Job bodies. Each takes the session factory and the clock first; the queue binds them."""

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.db import session_scope
from exam_server.proctoring import worker_wall
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services import attempts, ocr_marking, print_jobs, proctor_flags, proctor_frames, scans
from item_bank import statistics
from proctoring.face_engine import FaceEngine


def close_attempt(factory: sessionmaker[Session], clock: Clock, attempt_id: int) -> None:
    """Close one attempt at its deadline with what was saved (no-op if already finished)."""
    with session_scope(factory) as session:
        attempts.close_if_overdue(session, attempt_id, clock())


def close_overdue_attempts(factory: sessionmaker[Session], clock: Clock) -> None:
    with session_scope(factory) as session:
        overdue = attempts.overdue_attempt_ids(session, clock())
    for attempt_id in overdue:
        close_attempt(factory, clock, attempt_id)


def grade_attempt(factory: sessionmaker[Session], clock: Clock, attempt_id: int) -> None:
    with session_scope(factory) as session:
        attempts.grade(session, attempt_id, clock())


def update_item_statistics(factory: sessionmaker[Session], clock: Clock, exam_id: int) -> None:
    """Refresh classical difficulty and discrimination of the exam's items from its results."""
    with session_scope(factory) as session:
        statistics.update_from_exam(session, exam_id)


def run_print_job(factory: sessionmaker[Session], clock: Clock, job_id: int, font_path: str | None = None,
                  timezone: str = "UTC") -> None:
    """Render a print run room by room to its files (services/print_jobs.py) with the font and
    time zone the API checked when it started the run."""
    print_jobs.run(factory, clock, job_id, Path(font_path) if font_path else None, timezone)


def read_scan_batch(factory: sessionmaker[Session], clock: Clock, batch_id: int) -> None:
    """Read a scan batch page by page into attempts and the exception queue (services/scans.py)."""
    scans.run(factory, clock, batch_id)


def read_crops(factory: sessionmaker[Session], clock: Clock, attempt_id: int) -> None:
    """OCR the attempt's scanned blanks and score boxes; score, zero or send each to a person
    (services/ocr_marking.py)."""
    ocr_marking.run(factory, clock, attempt_id)


TASKS: dict[str, Callable[..., None]] = {
    "close_attempt": close_attempt,
    "close_overdue_attempts": close_overdue_attempts,
    "grade_attempt": grade_attempt,
    "update_item_statistics": update_item_statistics,
    "run_print_job": run_print_job,
    "read_scan_batch": read_scan_batch,
    "read_crops": read_crops,
}


class ProctorJobContext(Protocol):
    """What a job needing more than the database and the clock reads (queue.JobContext)."""

    session_factory: sessionmaker[Session] | None
    clock: Clock
    evidence: EvidenceStore | None
    face_engine: FaceEngine | None
    redis_url: str | None


def analyse_proctor_frame(context: ProctorJobContext, frame_id: int) -> None:
    """Face analysis of one stored webcam frame, then the rules (services/proctor_frames.py)."""
    if context.session_factory is None or context.evidence is None:
        raise RuntimeError("analyse_proctor_frame needs the job context's database and evidence store")
    engine = context.face_engine
    if engine is None:  # loaded once per worker process, on the first frame
        from proctoring.dlib_faces import default_engine

        engine = default_engine()
    proctor_frames.analyse(context.session_factory, context.evidence, engine, frame_id, context.clock(),
                           on_flags=lambda ref, changes: worker_wall.publish_flags(context.redis_url, ref, changes))


def sweep_proctor_heartbeats(context: ProctorJobContext) -> None:
    """Open a network_drop flag for live proctoring sessions not heard from for 3 heartbeats, then
    tell the walls (after the commit)."""
    if context.session_factory is None:
        raise RuntimeError("sweep_proctor_heartbeats needs the job context's database")
    with session_scope(context.session_factory) as session:
        found = proctor_flags.sweep_heartbeats(session, context.clock())
        refs = [(worker_wall.Ref(ps.id, ps.exam_id, ps.exam_room_id), changes) for ps, changes in found]
    for ref, changes in refs:
        worker_wall.publish_flags(context.redis_url, ref, changes)


# Jobs whose body takes the whole job context (evidence store, face engine) instead of (factory, clock).
CONTEXT_TASKS: dict[str, Callable[..., None]] = {
    "analyse_proctor_frame": analyse_proctor_frame,
    "sweep_proctor_heartbeats": sweep_proctor_heartbeats,
}
