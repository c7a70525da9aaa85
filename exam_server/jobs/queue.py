"""The job queue: one dramatiq broker with the service's actors registered on it.

Why dramatiq: actively maintained, plain synchronous actors (our DB layer is synchronous),
delayed messages and retries built in, acknowledgement only after an actor finishes (a crashed
worker's message is redelivered), and a stub broker plus the same Worker class for the
in-process mode, so the embedded default runs the exact code production runs.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.jobs import outbox, tasks
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services import proctor_retention
from exam_server.settings import Settings
from proctoring.face_engine import FaceEngine

log = logging.getLogger(__name__)
QUEUE_NAME = "exam"
REDIS_CONNECT_TIMEOUT_SECONDS = 3.0


@dataclass
class JobContext:
    session_factory: sessionmaker[Session] | None
    clock: Clock
    # Proctoring evidence, for the retention pass (None: the pass does nothing).
    evidence: EvidenceStore | None = None
    # The face model for analyse_proctor_frame; None: proctoring.dlib_faces.default_engine(), loaded on
    # the first frame (tests inject one).
    face_engine: FaceEngine | None = None
    # Where worker-found proctoring flags are published for the walls (exam_server/proctoring/worker_wall.py).
    redis_url: str | None = None


@dataclass(frozen=True)
class Periodic:
    """What a started worker does on timers besides running jobs."""

    sweep_seconds: float = 30.0
    relay_seconds: float = 5.0
    retention: timedelta = timedelta(days=7)
    proctor_sweep_seconds: float = 5.0
    proctor_retention_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Periodic":
        return cls(settings.sweep_seconds, settings.outbox_relay_seconds,
                   timedelta(hours=settings.outbox_retention_hours), settings.proctor_sweep_seconds,
                   settings.proctor_retention_check_seconds)


class JobQueue:
    """Sends jobs by name; owns the broker and, when started, a worker and its timers (the overdue
    sweep, the outbox relay and the proctoring retention pass)."""

    def __init__(self, broker: dramatiq.Broker, context: JobContext) -> None:
        self.broker = broker
        self.context = context
        self.actors: dict[str, dramatiq.Actor[Any, Any]] = {}
        self._worker: dramatiq.Worker | None = None
        self._timers: list[threading.Thread] = []
        self._stop = threading.Event()
        for name, fn in tasks.TASKS.items():
            self.actors[name] = dramatiq.Actor(
                _bind(fn, context), broker=broker, actor_name=name, queue_name=QUEUE_NAME,
                priority=0, options={"max_retries": 5, "min_backoff": 1000, "max_backoff": 60000},
            )
        for name, body in tasks.CONTEXT_TASKS.items():
            self.actors[name] = dramatiq.Actor(
                _bind_context(body, context), broker=broker, actor_name=name, queue_name=QUEUE_NAME,
                priority=0, options={"max_retries": 3, "min_backoff": 1000, "max_backoff": 30000},
            )

    def send(self, job_name: str, *args: Any, delay_seconds: float = 0.0) -> None:
        delay_ms = int(delay_seconds * 1000) if delay_seconds > 0 else None
        self.actors[job_name].send_with_options(args=args, delay=delay_ms)

    def start_worker(self, threads: int, periodic: Periodic) -> None:
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=200)
        self._worker.start()
        self._stop.clear()
        self._timers = [self._every(periodic.sweep_seconds, self._sweep, "overdue sweep"),
                        self._every(periodic.relay_seconds, lambda: self._relay(periodic.retention), "outbox relay"),
                        self._every(periodic.proctor_sweep_seconds, self._proctor_sweep, "proctor heartbeat sweep"),
                        self._every(periodic.proctor_retention_seconds, self._purge_evidence, "proctoring retention")]

    def _every(self, seconds: float, action: Callable[[], None], what: str) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    action()
                except Exception:  # noqa: BLE001 - a broker or database hiccup must not kill the timer
                    log.exception("%s failed; retrying in %.0f s", what, seconds)

        thread = threading.Thread(target=loop, daemon=True, name=what)
        thread.start()
        return thread

    def _sweep(self) -> None:
        # Backstop for lost deadline messages: several workers may sweep at once; closing is a
        # compare-and-set, so each attempt still closes exactly once.
        self.send("close_overdue_attempts")

    def _proctor_sweep(self) -> None:
        # Network drops: sessions whose heartbeats stopped get a heartbeat_missing observation.
        # Idempotent (a session with an open drop flag is skipped), so several workers may sweep.
        self.send("sweep_proctor_heartbeats")

    def _relay(self, retention: timedelta) -> None:
        """Send outbox rows the API could not send (Redis was down), then prune old sent rows."""
        factory = self.context.session_factory
        if factory is None:
            return
        now = self.context.clock()
        outbox.relay_pending(factory, self, now)
        outbox.prune_sent(factory, now, retention)

    def _purge_evidence(self) -> None:
        """Purge proctoring evidence past each exam's retention (services/proctor_retention.py): in
        place like the relay, since it walks the file store the worker shares with the API."""
        factory, store = self.context.session_factory, self.context.evidence
        if factory is None or store is None:
            return
        proctor_retention.purge_due(factory, store, self.context.clock())

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.broker.close()

    def join(self, timeout_ms: int = 10000) -> None:
        """Wait until every queued job has run (tests and the in-process mode's shutdown)."""
        self.broker.join(QUEUE_NAME, timeout=timeout_ms)
        if self._worker is not None:
            self._worker.join()


def _bind(fn: Callable[..., None], context: JobContext) -> Callable[..., None]:
    def run(*args: Any) -> None:
        if context.session_factory is None:
            raise RuntimeError("job context has no database session factory")
        fn(context.session_factory, context.clock, *args)

    run.__name__ = fn.__name__
    return run


def _bind_context(fn: Callable[..., None], context: JobContext) -> Callable[..., None]:
    def run(*args: Any) -> None:
        fn(context, *args)

    run.__name__ = fn.__name__
    return run


def build_broker(redis_url: str | None, namespace: str) -> dramatiq.Broker:
    if redis_url:
        # A bounded connect: an unreachable Redis must fail a send quickly (the outbox keeps the
        # job), not hang the request that committed it.
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS)
        return RedisBroker(client=client, namespace=namespace)  # type: ignore[no-untyped-call]
    return StubBroker()
