"""The proctoring bus across API processes: Redis pub/sub with **one** subscriber connection per process.

Flow: a connection handler calls :meth:`RedisBus.subscribe` -> the handler joins this process's
local table; only the channel's *first* local handler sends ``SUBSCRIBE`` to Redis (and only the
last one leaving sends ``UNSUBSCRIBE``) -> one reader task reads the single pub/sub connection and
calls the channel's local handlers in the order Redis delivered (so per channel, in publish order).
Publishing goes through a small separate pool (a subscribed connection cannot publish).

``subscribe`` returns once Redis confirmed the subscription (waiting at most
:data:`CONFIRM_TIMEOUT_S`, also when Redis is down), so anything published after it returns is
delivered. After ``unsubscribe`` returns, the handler
is never called again, even for messages already in flight (dispatch reads the live table).

Handlers run on the reader task: they must be quick (put the payload on a queue), or they delay
every channel of the process.

Redis down: the reader reconnects with exponential backoff (:data:`BACKOFF_MIN_S` doubling up to
:data:`BACKOFF_MAX_S`) and re-subscribes every channel that still has local handlers. What is
lost meanwhile (Redis pub/sub stores nothing): messages other processes published while this one
was disconnected, and this process's own publishes, which are dropped and counted in
:attr:`RedisBus.dropped` (never raised: the database holds the truth, and the wall re-reads it on
reconnect, see ``reconnect listeners``). Listeners added with :meth:`on_reconnect` run after each
re-subscription, so walls can send a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from proctoring.bus import Handler

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
CONFIRM_TIMEOUT_S = 3.0
_READ_TIMEOUT_S = 1.0
_LOST = (RedisConnectionError, RedisTimeoutError, OSError, ConnectionError)

ReconnectListener = Callable[[], Awaitable[None]]


class RedisBus:
    def __init__(self, url: str, *, backoff_min_s: float = BACKOFF_MIN_S, backoff_max_s: float = BACKOFF_MAX_S) -> None:
        self._url = url
        self._backoff = (backoff_min_s, backoff_max_s)
        self._handlers: dict[str, list[Handler]] = {}
        self._confirm: dict[str, asyncio.Event] = {}
        self._listeners: list[ReconnectListener] = []
        self._publisher: aioredis.Redis | None = None
        self._sub_client: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._closed = False
        self.dropped = 0  # publishes lost because Redis was unreachable
        self.reconnects = 0
        # The subscriber connection's name in CLIENT LIST (operators can tell processes apart).
        self.client_name = f"exam-proctor-bus-{os.getpid()}-{secrets.token_hex(3)}"

    # ---- publishing -----------------------------------------------------------------------------

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        if self._publisher is None:
            self._publisher = aioredis.Redis.from_url(self._url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await self._publisher.publish(channel, json.dumps(payload, separators=(",", ":"), default=str))
        except (RedisError, OSError) as exc:
            self.dropped += 1
            log.warning("proctoring bus: publish to %s dropped (Redis unreachable: %s)", channel, exc)

    # ---- subscribing ----------------------------------------------------------------------------

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._ensure_reader()
        async with self._lock:
            handlers = self._handlers.setdefault(channel, [])
            handlers.append(handler)
            if len(handlers) > 1:
                return
            event = self._confirm[channel] = asyncio.Event()
            await self._send("subscribe", channel)  # not connected yet: _connect subscribes it
        # Wait outside the lock: the reader sets the event when Redis confirms.
        try:
            await asyncio.wait_for(event.wait(), CONFIRM_TIMEOUT_S)
        except TimeoutError:
            log.warning("proctoring bus: no confirmation for %s yet (Redis slow or down)", channel)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        async with self._lock:
            handlers = self._handlers.get(channel)
            if not handlers or handler not in handlers:
                return
            handlers.remove(handler)
            if handlers:
                return
            del self._handlers[channel]
            self._confirm.pop(channel, None)
            await self._send("unsubscribe", channel)

    async def _send(self, command: str, channel: str) -> bool:
        """SUBSCRIBE/UNSUBSCRIBE on the live connection; False when down (the reconnect redoes it)."""
        if self._pubsub is None or not self._ready.is_set():
            return False
        try:
            await (self._pubsub.subscribe(channel) if command == "subscribe" else self._pubsub.unsubscribe(channel))
        except _LOST as exc:
            log.warning("proctoring bus: %s %s failed (%s); the reconnect will redo it", command, channel, exc)
            return False
        return True

    def on_reconnect(self, listener: ReconnectListener) -> None:
        self._listeners.append(listener)

    def remove_reconnect_listener(self, listener: ReconnectListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscriber_count(self, channel: str) -> int:
        return len(self._handlers.get(channel, ()))

    def subscribed_on_redis(self, channel: str) -> bool:
        """Redis confirmed this process's subscription to ``channel`` (since the last reconnect)."""
        event = self._confirm.get(channel)
        return event is not None and event.is_set()

    # ---- the reader -----------------------------------------------------------------------------

    def _ensure_reader(self) -> None:
        if self._reader is None and not self._closed:
            self._reader = asyncio.get_running_loop().create_task(self._run(), name="proctoring-bus-reader")

    async def _run(self) -> None:
        delay = self._backoff[0]
        first = True
        while not self._closed:
            try:
                await self._connect()
                if not first:
                    self.reconnects += 1
                    await self._notify_reconnect()
                first, delay = False, self._backoff[0]
                await self._read_forever()
            except _LOST as exc:
                log.warning("proctoring bus: Redis connection lost (%s); retrying in %.1f s", exc, delay)
            await self._drop_connection()
            if not self._closed:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])

    async def _connect(self) -> None:
        client = self._sub_client = aioredis.Redis.from_url(self._url, socket_connect_timeout=2,
                                                            client_name=self.client_name)
        pubsub = client.pubsub(ignore_subscribe_messages=False)
        async with self._lock:
            channels = list(self._handlers)
            for channel in channels:  # unconfirmed until Redis answers this connection's SUBSCRIBE
                self._confirm.setdefault(channel, asyncio.Event()).clear()
            if channels:
                await pubsub.subscribe(*channels)
            else:
                await pubsub.ping()  # connect now, so a dead Redis is noticed here
            self._pubsub = pubsub
            self._ready.set()

    async def _read_forever(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        while not self._closed:
            if not pubsub.subscribed:  # get_message returns at once without a subscription
                await asyncio.sleep(0.1)
                continue
            message = await pubsub.get_message(timeout=_READ_TIMEOUT_S)
            if message is not None:
                await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        channel = _text(message.get("channel"))
        if message["type"] == "subscribe":
            event = self._confirm.get(channel)
            if event is not None:
                event.set()
            return
        if message["type"] != "message":
            return
        try:
            payload = json.loads(message["data"])
        except (TypeError, ValueError):
            log.warning("proctoring bus: a message on %s is not JSON; skipped", channel)
            return
        for handler in list(self._handlers.get(channel, ())):
            if handler not in self._handlers.get(channel, ()):
                continue  # unsubscribed by an earlier handler of this very message
            try:
                await handler(channel, payload)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("proctoring bus handler failed on %s", channel)

    async def _notify_reconnect(self) -> None:
        for listener in list(self._listeners):
            try:
                await listener()
            except Exception:
                log.exception("proctoring bus: a reconnect listener failed")

    async def _drop_connection(self) -> None:
        self._ready.clear()
        pubsub, self._pubsub = self._pubsub, None
        client, self._sub_client = self._sub_client, None
        for closable in (pubsub, client):
            if closable is not None:
                try:
                    await closable.aclose()
                except (RedisError, OSError):
                    pass

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass
            self._reader = None
        await self._drop_connection()
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None
        self._handlers.clear()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
