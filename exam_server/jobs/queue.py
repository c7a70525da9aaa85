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
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.jobs import tasks

log = logging.getLogger(__name__)
QUEUE_NAME = "exam"


@dataclass
class JobContext:
    session_factory: sessionmaker[Session] | None
    clock: Clock


class JobQueue:
    """Sends jobs by name; owns the broker and, when started, a worker and the overdue sweeper."""

    def __init__(self, broker: dramatiq.Broker, context: JobContext) -> None:
        self.broker = broker
        self.context = context
        self.actors: dict[str, dramatiq.Actor[Any, Any]] = {}
        self._worker: dramatiq.Worker | None = None
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()
        for name, fn in tasks.TASKS.items():
            self.actors[name] = dramatiq.Actor(
                _bind(fn, context), broker=broker, actor_name=name, queue_name=QUEUE_NAME,
                priority=0, options={"max_retries": 5, "min_backoff": 1000, "max_backoff": 60000},
            )

    def send(self, job_name: str, *args: Any, delay_seconds: float = 0.0) -> None:
        delay_ms = int(delay_seconds * 1000) if delay_seconds > 0 else None
        self.actors[job_name].send_with_options(args=args, delay=delay_ms)

    def start_worker(self, threads: int, sweep_seconds: float) -> None:
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=200)
        self._worker.start()
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, args=(sweep_seconds,), daemon=True)
        self._sweeper.start()

    def _sweep_loop(self, every: float) -> None:
        # Backstop for lost or never-sent deadline messages: several workers may sweep at
        # once; closing is a compare-and-set, so each attempt still closes exactly once.
        while not self._stop.wait(every):
            try:
                self.send("close_overdue_attempts")
            except Exception:  # noqa: BLE001 - a broker hiccup must not kill the sweeper
                log.exception("could not enqueue the overdue sweep")

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


def build_broker(redis_url: str | None, namespace: str) -> dramatiq.Broker:
    if redis_url:
        return RedisBroker(url=redis_url, namespace=namespace)  # type: ignore[no-untyped-call]
    return StubBroker()
