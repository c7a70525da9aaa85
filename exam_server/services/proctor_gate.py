"""The server obeys pause: a proctored attempt takes answers only while its session is active.

Cost: an unproctored exam's save pays nothing beyond a dictionary lookup (which exams are proctored
is cached per process for :data:`TTL_S` seconds); a proctored one pays one primary-key-indexed read
of ``proctor_sessions.state`` by ``attempt_id`` (unique index). Turning proctoring on for an exam
therefore reaches the saves of other API processes within ``TTL_S`` (this process: at once, via
:meth:`ProctoredExams.forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.errors import CheckInRequired, ManualCheckPending, ProctoringHold, ProctoringPaused
from models import Attempt, AttemptState, ProctorSession, ProctorSettings
from proctoring.session import SessionState

TTL_S = 30.0


class ProctoredExams:
    """exam id -> proctored?, kept ``ttl`` seconds (thread-safe: saves run in the thread pool)."""

    def __init__(self, ttl: float = TTL_S, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._now = ttl, monotonic
        self._known: dict[int, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_proctored(self, session: Session, exam_id: int) -> bool:
        now = self._now()
        with self._lock:
            hit = self._known.get(exam_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        enabled = session.scalar(select(ProctorSettings.enabled).where(ProctorSettings.exam_id == exam_id))
        value = bool(enabled)
        with self._lock:
            self._known[exam_id] = (value, now + self._ttl)
        return value

    def forget(self, exam_id: int) -> None:
        with self._lock:
            self._known.pop(exam_id, None)


def ensure_may_answer(session: Session, attempt: Attempt, proctored: ProctoredExams) -> None:
    """Raise a :class:`ProctoringHold` when a proctored attempt's session is not active."""
    if attempt.state != AttemptState.IN_PROGRESS or not proctored.is_proctored(session, attempt.exam_id):
        return  # a closed attempt gets AttemptClosed from the save itself
    state = session.scalar(select(ProctorSession.state).where(ProctorSession.attempt_id == attempt.id))
    if state == SessionState.ACTIVE:
        return
    raise _hold(attempt.id, state)


def _hold(attempt_id: int, state: str | None) -> ProctoringHold:
    where = f"attempt {attempt_id}"
    if state == SessionState.PAUSED:
        return ProctoringPaused(f"{where}: a proctor paused your exam; answers are taken again when they "
                                "resume it (your saved answers are kept)", state)
    if state == SessionState.MANUAL_PENDING:
        return ManualCheckPending(f"{where}: a proctor is checking your identity by hand; wait for them "
                                  "to admit you", state)
    if state == SessionState.ENDED:
        return ProctoringHold(f"{where}: proctoring of this attempt has ended; no more answers are taken", state)
    return CheckInRequired(f"{where}: this exam is proctored; give your consent and pass the identity check "
                           "on the exam page before answering", state)
