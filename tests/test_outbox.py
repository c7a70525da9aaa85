"""The job outbox: jobs are rows committed with the change that needs them, sent after commit,
and relayed later when the broker was down (here: a real Redis URL on a port that refuses)."""

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import create_db_engine, enqueue_after_commit, make_session_factory, session_scope
from exam_server.jobs import outbox
from exam_server.jobs.queue import Periodic
from exam_server.runtime import Runtime
from models import Attempt, AttemptState, OutboxJob

REFUSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connect is refused


class Sender:
    """A broker stand-in that records what it is given and refuses the names in ``broken``."""

    def __init__(self, broken: tuple[str, ...] = ()) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], float]] = []
        self.broken = broken

    def send(self, job_name: str, *args: Any, delay_seconds: float = 0.0) -> None:
        if job_name in self.broken:
            raise ConnectionError(f"cannot send {job_name}")
        self.sent.append((job_name, args, delay_seconds))


def _rows(factory: Any) -> list[OutboxJob]:
    with session_scope(factory) as session:
        return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def test_jobs_are_recorded_in_the_transaction_and_sent_only_after_commit(database_url: str) -> None:
    sender, clock = Sender(), ManualClock(START)
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine, sender, clock)
    with factory() as session:
        enqueue_after_commit(session, "grade_attempt", 1)
        session.flush()
        assert sender.sent == []
        session.rollback()
    assert sender.sent == [] and _rows(factory) == []  # a rolled-back change leaves no job
    with factory() as session:
        enqueue_after_commit(session, "grade_attempt", 2, delay_seconds=5)
        session.commit()
    assert sender.sent == [("grade_attempt", (2,), 5.0)]
    [row] = _rows(factory)
    assert (row.name, row.args, row.run_at, row.sent_at) == ("grade_attempt", [2], START + timedelta(seconds=5), START)
    engine.dispose()


def test_a_failed_send_after_commit_keeps_the_row_unsent(database_url: str) -> None:
    sender, clock = Sender(broken=("grade_attempt",)), ManualClock(START)
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine, sender, clock)
    with factory() as session:
        enqueue_after_commit(session, "grade_attempt", 7)
        session.commit()  # does not raise: the change is committed, the relay sends the job later
    [row] = _rows(factory)
    assert row.sent_at is None and row.attempts == 1 and "cannot send grade_attempt" in (row.last_error or "")
    engine.dispose()


def test_relay_sends_due_rows_and_a_failing_row_never_blocks_the_others(database_url: str) -> None:
    clock = ManualClock(START)
    engine = create_db_engine(database_url)
    factory = make_session_factory(engine, Sender(broken=("poison", "grade_attempt")), clock)
    with factory() as session:
        enqueue_after_commit(session, "poison", 1)
        enqueue_after_commit(session, "grade_attempt", 2, delay_seconds=60)
        session.commit()
    assert all(r.sent_at is None for r in _rows(factory))
    relay = Sender(broken=("poison",))
    assert outbox.relay_pending(factory, relay, clock()) == 0  # too young: the writer may still send them
    clock.advance(seconds=20)
    outbox.relay_pending(factory, relay, clock())  # poison fails and sinks behind the others
    outbox.relay_pending(factory, relay, clock())
    assert relay.sent == [("grade_attempt", (2,), 40.0)]  # the delay still ends at run_at
    poison, good = _rows(factory)
    assert poison.sent_at is None and poison.attempts >= 2 and good.sent_at == clock()
    clock.advance(minutes=5)
    outbox.relay_pending(factory, relay, clock())
    assert relay.sent[-1] != ("grade_attempt", (2,), 0.0) and len(relay.sent) == 1  # sent rows are not resent
    engine.dispose()


def test_prune_deletes_only_rows_sent_before_the_retention(database_url: str) -> None:
    clock = ManualClock(START)
    engine = create_db_engine(database_url)
    sender = Sender()
    factory = make_session_factory(engine, sender, clock)
    for name in ("old", "new"):
        with factory() as session:
            enqueue_after_commit(session, name)
            session.commit()
        clock.advance(days=3)
    factory_down = make_session_factory(engine, Sender(broken=("unsent",)), clock)
    with factory_down() as session:
        enqueue_after_commit(session, "unsent")
        session.commit()
    assert outbox.prune_sent(factory, clock(), timedelta(days=4)) == 1
    assert [r.name for r in _rows(factory)] == ["new", "unsent"]
    engine.dispose()


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"exam-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def _wait_until(condition: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _attempt(runtime: Runtime, attempt_id: int) -> Attempt:
    with session_scope(runtime.session_factory) as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt


def test_starting_an_attempt_with_redis_down_succeeds_and_the_relay_sends_the_deadline_job(
    database_url: str, tmp_path: Path, redis_url: str, namespace: str
) -> None:
    clock = ManualClock(START)
    api = make_runtime(database_url, tmp_path, clock, redis_url=REFUSED_REDIS, queue_namespace=namespace)
    world: World = build_world(make_client(api), api, clock)
    response = world.call("POST", f"/api/exams/{world.ids['exam']}/attempt", "s1")
    assert response.status_code == 200, response.text  # the start endpoint answers 200 (not a 500)
    attempt_id = response.json()["attempt_id"]
    [job] = _rows(api.session_factory)
    assert (job.name, job.args, job.sent_at, job.attempts) == ("close_attempt", [attempt_id], None, 1)
    assert "Connection" in (job.last_error or "")
    assert world.save("s1", attempt_id, world.ids["slots"][0], "B", 1).status_code == 200

    # Redis is back: a worker (its own runtime, as `exam worker` would be) relays and runs the job.
    worker = make_runtime(database_url, tmp_path, clock, redis_url=redis_url, queue_namespace=namespace)
    clock.advance(minutes=45)  # past the 30-minute deadline; the sweep is off, so only the relay acts
    worker.queue.start_worker(threads=1, periodic=Periodic(sweep_seconds=3600, relay_seconds=0.1))
    try:
        assert _wait_until(lambda: _attempt(api, attempt_id).state != AttemptState.IN_PROGRESS)
        attempt = _attempt(api, attempt_id)
        assert attempt.finish_reason == "deadline" and attempt.finished_at == attempt.deadline
        [job] = _rows(api.session_factory)
        assert job.sent_at == clock()
    finally:
        worker.close()
        api.close()


def test_the_embedded_worker_relays_rows_left_unsent(database_url: str, tmp_path: Path) -> None:
    """A job committed by a process that could not send it (it crashed, or had no queue, like a
    script) is sent by the in-process worker's relay; the overdue sweep is off to prove it."""
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, run_embedded_worker=True, sweep_seconds=3600,
                           outbox_relay_seconds=0.1)
    world = build_world(make_client(runtime), runtime, clock)
    attempt_id = world.start("s1")["attempt_id"]
    runtime.queue.broker.flush_all()  # the 30-minute deadline message is lost with the process
    with session_scope(make_session_factory(runtime.engine, None, clock)) as session:
        enqueue_after_commit(session, "close_attempt", attempt_id)  # written, never sent
    clock.advance(minutes=45)
    with make_client(runtime):  # the lifespan starts the in-process worker and its relay
        assert _wait_until(lambda: _attempt(runtime, attempt_id).state != AttemptState.IN_PROGRESS)
    unsent = [r for r in _rows(runtime.session_factory) if r.sent_at is None]
    assert unsent == []
    assert _attempt(runtime, attempt_id).finish_reason == "deadline"
