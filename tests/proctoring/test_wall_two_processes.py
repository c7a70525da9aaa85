"""Two API processes (``exam serve`` subprocesses) behind one Redis and one database: what happens on
process A reaches a proctor's wall on process B, and a proctor's command on B reaches the
candidate's channel wherever that connection lives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support import World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.proctoring.redis_bus import RedisBus
from proctoring.bus import attempt_channel, room_channel
from proctoring.protocol import WallUpdate
from tests.proctoring.wall_support import WallClient, add_session, api_processes, enable_proctoring

SECRET = "test-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture
def cluster(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[World, list[str]]]:
    # The servers run on the real clock: build the world at the real now.
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    runtime = make_runtime(database_url, tmp_path, clock)
    world = build_world(make_client(runtime), runtime, clock)
    enable_proctoring(runtime, world.ids["exam"], clock())
    world.ids["attempt"] = world.start("s1")["attempt_id"]
    world.ids["ps"] = add_session(runtime, world.ids["attempt"], "active", clock())
    env = {"EXAM_DATABASE_URL": database_url, "EXAM_REDIS_URL": redis_url, "EXAM_SECRET_KEY": SECRET,
           "EXAM_DATA_DIR": str(tmp_path / "data"), "EXAM_QUEUE_NAMESPACE": f"t-{uuid.uuid4().hex[:8]}"}
    try:
        with api_processes(2, env, tmp_path) as hosts:
            yield world, hosts
    finally:
        runtime.engine.dispose()


def test_updates_and_commands_cross_processes(cluster: tuple[World, list[str]], redis_url: str) -> None:
    world, (host_a, host_b) = cluster
    exam, ps, attempt = world.ids["exam"], world.ids["ps"], world.ids["attempt"]

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        candidate_side = RedisBus(redis_url)  # stands where the candidate's connection is held
        controls: list[dict[str, Any]] = []

        async def on_control(_: str, payload: dict[str, Any]) -> None:
            controls.append(payload)

        await candidate_side.subscribe(attempt_channel(attempt), on_control)
        wall_b = await WallClient.open(host_b, exam, "none", world.tokens["teacher"])
        wall_a = await WallClient.open(host_a, exam, "none", world.tokens["teacher"])
        try:
            assert (await wall_b.next_of("snapshot"))["candidates"][0]["state"] == "active"
            await wall_a.next_of("snapshot")
            # A flag raised on the candidate's process (published as that process does).
            flag = WallUpdate(type="flag", exam_id=exam, exam_room_id=None, session_id=ps,
                              payload={"rule": "tab_hidden", "severity": "medium",
                                       "started_at": datetime.now(UTC).isoformat(), "ended_at": None})
            await candidate_side.publish(room_channel(exam, None), flag.model_dump(mode="json"))
            got_flag = await wall_b.next_of("flag")
            # A proctor on process A pauses: the wall on process B sees it, the candidate's channel too.
            result = await wall_a.command(ps, "pause")
            seen_on_b = await wall_b.next_of("session")
            for _ in range(100):
                if controls:
                    break
                await asyncio.sleep(0.02)  # the Control crosses Redis
            return got_flag, result, seen_on_b, controls
        finally:
            await wall_a.close()
            await wall_b.close()
            await candidate_side.close()

    got_flag, result, seen_on_b, controls = asyncio.run(go())
    assert got_flag["payload"]["rule"] == "tab_hidden" and got_flag["session_id"] == ps
    assert result["payload"]["ok"] is True
    assert seen_on_b["session_id"] == ps and seen_on_b["payload"]["state"] == "paused"
    assert [c["action"] for c in controls] == ["pause"]
    refused = world.save("s1", attempt, world.ids["slots"][0], "B", 1)
    assert refused.status_code == 409 and refused.json()["error"] == "ProctoringPaused"
