"""Everything a process wires together once: settings, engine, sessions, job queue, clock."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock, system_clock
from exam_server.db import create_db_engine, make_session_factory
from exam_server.jobs.queue import JobContext, JobQueue, build_broker
from exam_server.proctoring.evidence import EvidenceStore, build_evidence_store
from exam_server.proctoring.identity import register_evidence
from exam_server.services.attempts import SlotCatalog
from exam_server.services.proctor_gate import ProctoredExams
from exam_server.sessions.guards import SessionGuards, build_session_guards
from exam_server.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    queue: JobQueue
    clock: Clock
    # Student views of frozen papers: immutable once an exam uses them, so safe to cache.
    paper_views: dict[int, dict[str, Any]] = field(default_factory=dict)
    slot_catalog: SlotCatalog = field(default_factory=SlotCatalog)
    # Which exams are proctored (saves of a paused proctored attempt are refused; cached briefly).
    proctored: ProctoredExams = field(default_factory=ProctoredExams)
    # Password hashing, login rate limits and access-token revocation (exam_server/sessions/).
    sessions: SessionGuards = field(kw_only=True)

    @property
    def evidence(self) -> EvidenceStore:
        """The proctoring evidence store (encrypted frames), shared with the job context."""
        store = self.queue.context.evidence
        assert store is not None, "build_runtime always sets the evidence store"
        return store

    def read_session(self) -> Session:
        """A session for reading only: on SQLite it takes no write lock."""
        return self.session_factory(bind=self.engine)

    def close(self) -> None:
        self.queue.stop()
        self.sessions.close()
        self.engine.dispose()


def build_runtime(settings: Settings, clock: Clock = system_clock) -> Runtime:
    engine = create_db_engine(settings.database_url, settings.db_pool_size)
    context = JobContext(session_factory=None, clock=clock,
                         evidence=build_evidence_store(settings.evidence_key, settings.data_dir),
                         redis_url=settings.redis_url)
    assert context.evidence is not None
    register_evidence(engine, context.evidence)  # the identity check finds the store from its session
    queue = JobQueue(build_broker(settings.redis_url, settings.queue_namespace), context)
    factory = make_session_factory(engine, queue, clock)
    context.session_factory = factory
    return Runtime(settings, engine, factory, queue, clock, sessions=build_session_guards(settings))
