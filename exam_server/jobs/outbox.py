"""The job outbox: a job is a row written in the same transaction as the change that needs it.

Flow: ``enqueue_after_commit`` (db.py) adds an ``OutboxJob`` row to the session -> the
transaction commits, so the job is as durable as the change -> the after-commit hook sends the
new rows to the broker and marks them sent in a second, short transaction -> if the broker is
down the rows stay unsent (the request still succeeds) and the periodic relay, run every
``EXAM_OUTBOX_RELAY_SECONDS`` by ``exam worker`` and by the embedded worker, sends them later.

Delivery is at least once: a crash between sending and marking sends a job twice, which is safe
because every job is idempotent (closing an attempt is a compare-and-set; grading and statistics
recompute). Sent rows are kept ``EXAM_OUTBOX_RETENTION_HOURS`` for inspection, then pruned by
the relay. A row whose send fails sinks behind the others (ordered by failed attempts), so one
bad row never blocks the queue.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from models import OutboxJob

log = logging.getLogger(__name__)
# Rows younger than this are left to the after-commit send of the process that wrote them.
RELAY_MIN_AGE = timedelta(seconds=5)
RELAY_BATCH = 200


class JobSender(Protocol):
    def send(self, job_name: str, *args: Any, delay_seconds: float = 0.0) -> None: ...


def new_job(name: str, args: Sequence[Any], now: datetime, delay_seconds: float) -> OutboxJob:
    return OutboxJob(name=name, args=list(args), run_at=now + timedelta(seconds=max(0.0, delay_seconds)),
                     created_at=now, sent_at=None, attempts=0)


def _send(sender: JobSender, job: OutboxJob, now: datetime) -> None:
    # The delay counts from now, so a job relayed late still runs at its run_at (or at once).
    delay = max(0.0, (job.run_at - now).total_seconds())
    sender.send(job.name, *job.args, delay_seconds=delay)


def send_committed(engine: Engine, sender: JobSender | None, jobs: Sequence[OutboxJob], now: datetime) -> None:
    """After commit: send the rows this transaction wrote and mark them sent. Never raises: the
    change is committed, and an unsent row is the relay's to send."""
    if sender is None:
        return
    sent: list[int] = []
    failure: tuple[int, str] | None = None
    for job in jobs:
        try:
            _send(sender, job, now)
        except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the relay
            log.warning("job %s #%s not sent (the relay will retry): %s", job.name, job.id, exc)
            failure = (job.id, _error_text(exc))
            break
        sent.append(job.id)
    try:
        with Session(engine) as session, session.begin():
            _mark(session, sent, failure, now)
    except Exception:  # noqa: BLE001 - the relay resends unmarked rows; jobs are idempotent
        log.exception("could not mark outbox rows %s as sent", sent)


def _mark(session: Session, sent: list[int], failure: tuple[int, str] | None, now: datetime) -> None:
    if sent:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(sent)).values(sent_at=now))
    if failure is not None:
        session.execute(update(OutboxJob).where(OutboxJob.id == failure[0])
                        .values(attempts=OutboxJob.attempts + 1, last_error=failure[1]))


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def relay_pending(factory: sessionmaker[Session], sender: JobSender, now: datetime,
                  min_age: timedelta = RELAY_MIN_AGE, batch: int = RELAY_BATCH) -> int:
    """Send unsent rows older than ``min_age``; returns how many were sent. Stops at the first
    failure (the broker is probably down; the next pass tries again)."""
    if not _has_unsent(factory, now - min_age):
        return 0
    sent = 0
    with factory() as session, session.begin():
        # SKIP LOCKED: two relays (two worker processes) take disjoint rows on PostgreSQL.
        rows = session.scalars(
            select(OutboxJob).where(OutboxJob.sent_at.is_(None), OutboxJob.created_at <= now - min_age)
            .order_by(OutboxJob.attempts, OutboxJob.id).limit(batch).with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            try:
                _send(sender, row, now)
            except Exception as exc:  # noqa: BLE001
                log.warning("outbox relay: job %s #%s not sent: %s", row.name, row.id, exc)
                row.attempts += 1
                row.last_error = _error_text(exc)
                break
            row.sent_at = now
            sent += 1
    return sent


def _has_unsent(factory: sessionmaker[Session], created_before: datetime) -> bool:
    return _exists(factory, OutboxJob.sent_at.is_(None), OutboxJob.created_at <= created_before)


def _exists(factory: sessionmaker[Session], *where: ColumnElement[bool]) -> bool:
    from exam_server.db import WRITE_OPTION  # db imports this module at load time

    # A read first, so an idle relay never takes SQLite's write lock.
    with factory() as session:
        session.connection(execution_options={WRITE_OPTION: False})
        return session.scalar(select(OutboxJob.id).where(*where).limit(1)) is not None


def prune_sent(factory: sessionmaker[Session], now: datetime, retention: timedelta) -> int:
    """Delete rows sent more than ``retention`` ago; returns how many."""
    cutoff = now - retention
    if not _exists(factory, OutboxJob.sent_at < cutoff):
        return 0
    with factory() as session, session.begin():
        result = session.execute(delete(OutboxJob).where(OutboxJob.sent_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
