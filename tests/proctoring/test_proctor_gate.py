"""The server obeys pause: saves of a proctored attempt need an active session; unproctored saves pay
no proctoring query at all (counted on the engine), proctored ones exactly one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from support import World

from exam_server.services.proctor_gate import ProctoredExams
from tests.proctoring.wall_support import add_session, enable_proctoring


@contextmanager
def proctoring_queries(world: World) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "proctor_" in statement:
            seen.append(statement)

    event.listen(world.runtime.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(world.runtime.engine, "before_cursor_execute", listen)


def test_unproctored_saves_read_nothing_of_proctoring_once_cached(world: World) -> None:
    attempt = world.start("s1")["attempt_id"]
    slot = world.ids["slots"][0]
    assert world.save("s1", attempt, slot, "A", 1).status_code == 200  # fills the cache
    with proctoring_queries(world) as seen:
        for seq in range(2, 6):
            assert world.save("s1", attempt, slot, "B", seq).status_code == 200
    assert seen == []


@pytest.mark.parametrize(("state", "status", "error"), [
    (None, 409, "CheckInRequired"), ("consent_pending", 409, "CheckInRequired"),
    ("identity_pending", 409, "CheckInRequired"), ("manual_pending", 409, "ManualCheckPending"),
    ("paused", 409, "ProctoringPaused"), ("active", 200, None),
])
def test_proctored_saves_need_an_active_session(world: World, state: str | None, status: int,
                                                error: str | None) -> None:
    attempt = world.start("s1")["attempt_id"]
    enable_proctoring(world.runtime, world.ids["exam"], world.clock())
    if state is not None:
        add_session(world.runtime, attempt, state, world.clock())
    with proctoring_queries(world) as seen:
        r = world.save("s1", attempt, world.ids["slots"][0], "B", 1)
    assert r.status_code == status, r.text
    if error:
        assert r.json()["error"] == error and f"attempt {attempt}" in r.json()["detail"]
    assert len(seen) == 2, "the proctored flag (first save since the cache was cleared) and one session read"
    with proctoring_queries(world) as seen:
        world.save("s1", attempt, world.ids["slots"][0], "B", 2)
    assert len(seen) == 1, "later saves: only the session's state"


def test_the_cache_expires(world: World) -> None:
    now = [0.0]
    cache = ProctoredExams(ttl=30, monotonic=lambda: now[0])
    def ask() -> bool:
        with world.runtime.read_session() as session:  # a fresh transaction each time
            return cache.is_proctored(session, world.ids["exam"])

    assert ask() is False
    enable_proctoring(world.runtime, world.ids["exam"], world.clock())  # forgets only the runtime's cache
    assert ask() is False, "still cached"
    now[0] = 31
    assert ask() is True


def test_a_closed_attempt_still_says_closed(world: World) -> None:
    attempt = world.start("s1")["attempt_id"]
    enable_proctoring(world.runtime, world.ids["exam"], world.clock())
    add_session(world.runtime, attempt, "paused", world.clock())
    world.ok("POST", f"/api/attempts/{attempt}/submit", "s1")
    r = world.save("s1", attempt, world.ids["slots"][0], "B", 1)
    assert r.status_code == 409 and r.json()["error"] == "AttemptClosed"
