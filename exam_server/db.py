"""Engine and session factory. Jobs registered during a transaction are written to the job
outbox in that transaction and sent after it commits (see exam_server/jobs/outbox.py)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock, system_clock
from exam_server.jobs import outbox
from exam_server.jobs.outbox import JobSender
from models import OutboxJob

PENDING_JOBS = "pending_jobs"
WRITE_OPTION = "exam_write"
CLOCK = "clock"
__all__ = ["JobSender", "create_db_engine", "enqueue_after_commit", "make_session_factory", "session_scope", "writer"]


def _json_dumps(value: Any) -> str:
    # Keep Chinese readable in the database (and matchable by LIKE), not \uXXXX-escaped.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create_db_engine(url: str, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         json_serializer=_json_dumps)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           json_serializer=_json_dumps)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself so that BEGIN IMMEDIATE below takes effect.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    gate = WriteGate()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (a deferred read-then-write fails with SQLITE_BUSY
        # instead of waiting); readers begin deferred and, in WAL mode, never block anyone.
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        if writing:
            gate.enter(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        except BaseException:
            gate.leave(conn.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        gate.leave(conn.info)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        gate.leave(record.info)  # a connection returned without commit or rollback

    return engine


class WriteGate:
    """One writing transaction at a time per process on SQLite, queued on a Python lock.

    SQLite has no queue for its write lock: a writer that finds it taken sleeps in its busy
    handler and polls again after 1, 2, 5, ... up to 100 ms, so under a steady writer (a big
    import committing batch after batch) a candidate's save could keep missing the free moments
    and wait for seconds. Writers of this process wait here instead and are woken the moment the
    lock is free; SQLite's own lock still guards against other processes.
    """

    TIMEOUT_S = 30.0  # as long as SQLite's busy timeout

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def enter(self, info: dict[str, Any]) -> None:
        if info.get(_GATE_HELD):
            return
        if not self._lock.acquire(timeout=self.TIMEOUT_S):
            raise TimeoutError(f"waited {self.TIMEOUT_S:.0f} s for the SQLite write lock")
        info[_GATE_HELD] = True

    def leave(self, info: dict[str, Any]) -> None:
        if info.pop(_GATE_HELD, False):
            self._lock.release()


_GATE_HELD = "exam_write_gate_held"


def writer(engine: Engine) -> Engine:
    """The same engine and pool, marked so that SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


def make_session_factory(engine: Engine, queue: JobSender | None,
                         clock: Clock = system_clock) -> sessionmaker[Session]:
    """Sessions bound to the writer by default (jobs, scripts); pass ``bind=engine`` to read."""
    write_engine = writer(engine)
    factory = sessionmaker(bind=write_engine, expire_on_commit=False, info={CLOCK: clock})

    @event.listens_for(factory, "after_commit")
    def _send_jobs(session: Session) -> None:
        jobs: list[OutboxJob] = session.info.pop(PENDING_JOBS, [])
        if jobs:
            # Never raises: the rows are committed, and the relay sends what this could not.
            outbox.send_committed(write_engine, queue, jobs, clock())

    @event.listens_for(factory, "after_rollback")
    def _drop_jobs(session: Session) -> None:
        session.info.pop(PENDING_JOBS, None)

    return factory


def enqueue_after_commit(session: Session, name: str, *args: Any, delay_seconds: float = 0.0) -> None:
    """Record the job in the outbox within this transaction; it is sent once the transaction commits."""
    clock: Clock = session.info.get(CLOCK, system_clock)
    job = outbox.new_job(name, args, clock(), delay_seconds)
    session.add(job)
    session.info.setdefault(PENDING_JOBS, []).append(job)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for jobs and scripts: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
