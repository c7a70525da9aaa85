"""Fan-out between API processes: the interface and the channel names (implementations live in
``exam_server.proctoring_bus``: Redis pub/sub in production, in-process on the embedded default).

A process holds **one** subscription to the bus and dispatches locally to its connections, so ten
thousand candidate connections cost one Redis connection per process, not ten thousand.

Channels:

* :func:`room_channel` carries :class:`proctoring.protocol.WallUpdate` payloads for the proctors
  watching one room of an exam (``None``: candidates without a room, for example a class exam);
  :func:`exam_channel` the same for proctors watching the whole exam. A publisher sends to both.
* :func:`attempt_channel` carries :class:`proctoring.protocol.Control` payloads to the process that
  holds that candidate's connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


def room_channel(exam_id: int, exam_room_id: int | None) -> str:
    return f"proctor:exam:{exam_id}:room:{exam_room_id if exam_room_id is not None else 'none'}"


def exam_channel(exam_id: int) -> str:
    return f"proctor:exam:{exam_id}:all"


def attempt_channel(attempt_id: int) -> str:
    return f"proctor:attempt:{attempt_id}"


class Bus(Protocol):
    """Publish JSON-able payloads; receive them on every process subscribed to the channel."""

    async def publish(self, channel: str, payload: dict[str, Any]) -> None: ...

    async def subscribe(self, channel: str, handler: Handler) -> None:
        """Call ``handler(channel, payload)`` for each later message on ``channel`` (in this process)."""

    async def unsubscribe(self, channel: str, handler: Handler) -> None: ...

    async def close(self) -> None: ...
