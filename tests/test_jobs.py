"""Background jobs: after-commit enqueue, the deadline job (exactly once, even with two workers),
the embedded in-process queue, and dramatiq on real Redis."""

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import make_session_factory, session_scope
from exam_server.jobs import tasks
from exam_server.jobs.queue import Periodic
from exam_server.runtime import Runtime
from models import Attempt, AttemptStep, StepKind


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], float]] = []

    def send(self, job_name: str, *args: Any, delay_seconds: float = 0.0) -> None:
        self.sent.append((job_name, args, delay_seconds))


def _world(database_url: str, tmp_path: Path, **settings: Any) -> tuple[World, Runtime]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, **settings)
    return build_world(make_client(runtime), runtime, clock), runtime


def _abandoned_attempt(world: World) -> int:
    attempt_id: int = world.start("s1")["attempt_id"]
    assert world.save("s1", attempt_id, world.ids["slots"][0], "B", 1).status_code == 200
    assert world.save("s1", attempt_id, world.ids["slots"][4], 56, 2).status_code == 200
    world.clock.advance(minutes=45)  # past the 30-minute deadline; the candidate never came back
    return attempt_id


def _steps(runtime: Runtime, attempt_id: int, kind: StepKind) -> int:
    with session_scope(runtime.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(AttemptStep)
                                  .where(AttemptStep.attempt_id == attempt_id, AttemptStep.kind == kind)) or 0)


def _attempt(runtime: Runtime, attempt_id: int) -> Attempt:
    with session_scope(runtime.session_factory) as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt


def test_starting_an_attempt_schedules_its_deadline_job(database_url: str, tmp_path: Path) -> None:
    world, runtime = _world(database_url, tmp_path)
    sender = RecordingSender()
    runtime.session_factory = make_session_factory(runtime.engine, sender, world.clock)
    world.start("s1")
    assert [(name, delay) for name, _, delay in sender.sent] == [("close_attempt", 30 * 60.0)]


def test_deadline_job_closes_an_abandoned_attempt_exactly_once_with_two_workers(
    database_url: str, tmp_path: Path
) -> None:
    world, runtime = _world(database_url, tmp_path)
    attempt_id = _abandoned_attempt(world)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(job: str) -> None:
        try:
            barrier.wait()
            if job == "close_attempt":
                tasks.close_attempt(runtime.session_factory, world.clock, attempt_id)
            else:
                tasks.close_overdue_attempts(runtime.session_factory, world.clock)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(job,)) for job in
               ("close_attempt", "close_attempt", "close_overdue_attempts", "close_overdue_attempts")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _steps(runtime, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1
    assert _steps(runtime, attempt_id, StepKind.AUTO_GRADED) == 1
    attempt = _attempt(runtime, attempt_id)
    assert attempt.finish_reason == "deadline"
    assert attempt.finished_at == attempt.deadline
    assert attempt.score == pytest.approx(2 + 5)  # what was saved before the deadline
    # and a late re-run (a redelivered message) changes nothing
    tasks.close_attempt(runtime.session_factory, world.clock, attempt_id)
    assert _steps(runtime, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1


def test_deadline_job_leaves_a_running_attempt_alone(database_url: str, tmp_path: Path) -> None:
    world, runtime = _world(database_url, tmp_path)
    attempt_id = world.start("s1")["attempt_id"]
    world.clock.advance(minutes=10)
    tasks.close_attempt(runtime.session_factory, world.clock, attempt_id)
    tasks.close_overdue_attempts(runtime.session_factory, world.clock)
    assert _attempt(runtime, attempt_id).state == "in_progress"


def _wait_until(condition: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_embedded_queue_runs_jobs_in_process(database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, run_embedded_worker=True, sweep_seconds=0.2)
    with make_client(runtime) as client:  # the lifespan starts the in-process worker
        world = build_world(client, runtime, clock)
        attempt_id = _abandoned_attempt(world)
        # The periodic sweep notices the overdue attempt without anyone sending a job.
        assert _wait_until(lambda: _steps(runtime, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1)
        assert _wait_until(lambda: _attempt(runtime, attempt_id).state == "graded"
                           or _attempt(runtime, attempt_id).needs_manual_grading)
    assert _steps(runtime, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1


@pytest.fixture
def redis_runtime_pair(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[tuple[World, Runtime, Runtime]]:
    """Two runtimes (think: two `exam worker` processes) on one Redis namespace and one database."""
    namespace = f"exam-test-{uuid.uuid4().hex[:8]}"
    world, first = _world(database_url, tmp_path, redis_url=redis_url, queue_namespace=namespace)
    second = make_runtime(database_url, tmp_path, world.clock, redis_url=redis_url, queue_namespace=namespace)
    yield world, first, second
    for runtime in (first, second):
        runtime.close()
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def test_redis_queue_two_workers_close_exactly_once(redis_runtime_pair: tuple[World, Runtime, Runtime]) -> None:
    world, first, second = redis_runtime_pair
    attempt_id = _abandoned_attempt(world)
    first.queue.broker.flush_all()  # drop the 30-minute deadline message so join() can finish
    for runtime in (first, second):
        runtime.queue.start_worker(threads=2, periodic=Periodic(sweep_seconds=3600, relay_seconds=3600))
    # The same job delivered several times (a retry, a duplicate deadline message, two sweeps).
    for _ in range(3):
        first.queue.send("close_attempt", attempt_id)
    second.queue.send("close_overdue_attempts")
    first.queue.send("close_overdue_attempts")
    assert _wait_until(lambda: _steps(first, attempt_id, StepKind.AUTO_GRADED) >= 1)
    first.queue.join(timeout_ms=20000)
    second.queue.join(timeout_ms=20000)
    assert _steps(first, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1
    assert _steps(first, attempt_id, StepKind.AUTO_GRADED) == 1


def test_redis_queue_delivers_delayed_deadline_job(redis_runtime_pair: tuple[World, Runtime, Runtime]) -> None:
    world, first, _ = redis_runtime_pair
    attempt_id = _abandoned_attempt(world)
    first.queue.broker.flush_all()
    first.queue.start_worker(threads=1, periodic=Periodic(sweep_seconds=3600, relay_seconds=3600))
    first.queue.send("close_attempt", attempt_id, delay_seconds=0.5)
    assert _steps(first, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 0
    assert _wait_until(lambda: _steps(first, attempt_id, StepKind.CLOSED_AT_DEADLINE) == 1)


def test_deadline_from_window_end_caps_the_duration(database_url: str, tmp_path: Path) -> None:
    world, runtime = _world(database_url, tmp_path)
    world.clock.advance(hours=2, minutes=50)  # the window closes at +3h; 30 min duration would pass it
    world.login("s1")
    attempt = world.start("s1")
    exam = world.ok("GET", f"/api/exams/{world.ids['exam']}", "s1")
    assert attempt["deadline"] == exam["closes_at"]


def test_releasing_results_refreshes_item_statistics(database_url: str, tmp_path: Path) -> None:
    world, runtime = _world(database_url, tmp_path)
    sender = RecordingSender()
    runtime.session_factory = make_session_factory(runtime.engine, sender, world.clock)
    slots = world.ids["slots"]
    for student, first in (("s1", "B"), ("s2", "A")):
        attempt_id = world.start(student)["attempt_id"]
        world.save(student, attempt_id, slots[0], first, 1)
        world.ok("POST", f"/api/attempts/{attempt_id}/submit", student)
    world.ok("POST", f"/api/exams/{world.ids['exam']}/release", "teacher")
    assert ("update_item_statistics", (world.ids["exam"],), 0.0) in sender.sent
    tasks.update_item_statistics(runtime.session_factory, world.clock, world.ids["exam"])
    item = world.ok("GET", f"/api/items/{world.ids['items'][0]}", "teacher")
    assert item["p_value"] == pytest.approx(0.5) and item["classical_n"] == 2
