"""Implementations of :class:`proctoring.bus.Bus` and the one bus of a process.

* :class:`InProcessBus` (the embedded default, and tests): handlers are called in this process.
* :class:`exam_server.proctoring.redis_bus.RedisBus` for several API processes (``build_bus`` picks
  it when ``EXAM_REDIS_URL`` is set): one pub/sub connection per process, local dispatch.

``app.state.proctor_bus`` holds the process's bus; :func:`get_bus` reads it from a request or
WebSocket's app.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from proctoring.bus import Bus, Handler

log = logging.getLogger(__name__)


class InProcessBus:
    """Delivers to the handlers of this process, in publish order per channel."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        for handler in list(self._handlers.get(channel, ())):
            try:
                await handler(channel, payload)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("proctoring bus handler failed on %s", channel)

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel].append(handler)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        handlers = self._handlers.get(channel)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[channel]

    async def close(self) -> None:
        self._handlers.clear()

    def subscriber_count(self, channel: str) -> int:
        return len(self._handlers.get(channel, ()))


def build_bus(redis_url: str | None) -> Bus:
    if redis_url:
        from exam_server.proctoring.redis_bus import RedisBus

        return RedisBus(redis_url)
    return InProcessBus()


def get_bus(app: Any) -> Bus:
    bus: Bus = app.state.proctor_bus
    return bus


async def publish_all(bus: Bus, channels: list[str], payload: dict[str, Any]) -> None:
    await asyncio.gather(*(bus.publish(channel, payload) for channel in channels))
