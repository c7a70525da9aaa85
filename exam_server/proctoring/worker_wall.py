"""Flags found by worker jobs (frame analysis, the heartbeat sweep) reach the proctors' walls.

A worker has no WebSocket and no event loop of its own, so after its transaction commits it
publishes the same :class:`proctoring.protocol.WallUpdate` payloads the candidate connection does:

* in a process that also serves the API (the embedded default runs jobs in API threads), through
  that process's bus on its event loop (:func:`attach_local`, called by the app's lifespan);
* in a separate ``exam worker`` process, straight to Redis pub/sub with the encoding of
  :class:`exam_server.proctoring.redis_bus.RedisBus`, so every API process's bus delivers it;
* with neither (a worker without Redis and without an app), nothing: the flags are stored and the
  walls show them on their next snapshot.

Publishing never raises into the job: the flag is already committed, a lost live update is not.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from exam_server.proctoring import wall
from proctoring.bus import Bus, exam_channel, room_channel
from proctoring.protocol import WallUpdate
from proctoring.rules import FlagChange

log = logging.getLogger(__name__)

_local: tuple[asyncio.AbstractEventLoop, Bus] | None = None
_clients: dict[str, redis.Redis] = {}


@dataclass(frozen=True)
class Ref:
    session_id: int
    exam_id: int
    exam_room_id: int | None


def attach_local(loop: asyncio.AbstractEventLoop, bus: Bus) -> None:
    global _local
    _local = (loop, bus)


def detach_local() -> None:
    global _local
    _local = None


def publish_flags(redis_url: str | None, ref: Ref, changes: Sequence[FlagChange]) -> None:
    if not changes:
        return
    try:
        if _local is not None:
            loop, bus = _local
            asyncio.run_coroutine_threadsafe(wall.flags(bus, ref, list(changes)), loop).result(timeout=5)
        elif redis_url:
            _publish_redis(redis_url, ref, changes)
    except Exception:  # noqa: BLE001 - the flags are stored; only the live update is lost
        log.warning("proctoring: flag update of session %s not delivered live", ref.session_id, exc_info=True)


def _publish_redis(redis_url: str, ref: Ref, changes: Sequence[FlagChange]) -> None:
    client = _clients.get(redis_url)
    if client is None:
        client = _clients[redis_url] = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    for change in changes:
        update: dict[str, Any] = WallUpdate(type="flag", exam_id=ref.exam_id, exam_room_id=ref.exam_room_id,
                                            session_id=ref.session_id,
                                            payload=wall.flag_payload(change)).model_dump(mode="json")
        message = json.dumps(update, separators=(",", ":"), default=str)
        for channel in (room_channel(ref.exam_id, ref.exam_room_id), exam_channel(ref.exam_id)):
            client.publish(channel, message)
