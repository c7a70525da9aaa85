"""The Redis bus on a real Redis: two buses (two processes' worth of connections) deliver to each other,
per-channel order, one Redis subscription per channel per process, nothing after unsubscribe, and
recovery after the subscriber connection is killed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis

from exam_server.proctoring.bus import InProcessBus, build_bus
from exam_server.proctoring.redis_bus import RedisBus


def _channel() -> str:
    return f"proctor:test:{uuid.uuid4().hex}"


async def _numsub(url: str, channel: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        result = await client.pubsub_numsub(channel)
        return int(result[0][1])
    finally:
        await client.aclose()


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)  # polling a condition another task fulfils


def test_build_bus_picks_redis_only_when_configured(redis_url: str) -> None:
    assert isinstance(build_bus(None), InProcessBus)
    bus = build_bus(redis_url)
    assert isinstance(bus, RedisBus)
    asyncio.run(bus.close())


def test_delivery_between_buses_in_order_and_not_after_unsubscribe(redis_url: str) -> None:
    async def go() -> None:
        a, b = RedisBus(redis_url), RedisBus(redis_url)
        channel, other = _channel(), _channel()
        got: list[int] = []
        elsewhere: list[Any] = []

        async def handler(_: str, payload: dict[str, Any]) -> None:
            got.append(payload["n"])

        async def stray(ch: str, payload: dict[str, Any]) -> None:
            elsewhere.append((ch, payload))

        try:
            await b.subscribe(channel, handler)
            await b.subscribe(other, stray)
            for n in range(300):
                await a.publish(channel, {"n": n})
            await _until(lambda: len(got) == 300)
            assert got == list(range(300)), "per channel, in publish order"
            assert elsewhere == []
            await b.unsubscribe(channel, handler)
            await a.publish(channel, {"n": 999})
            await a.publish(other, {"n": "marker"})
            await _until(lambda: len(elsewhere) == 1)  # a later message on b's other channel arrived...
            assert got == list(range(300)), "...but nothing after unsubscribe"
            await _until(lambda: True)
            assert await _numsub(redis_url, channel) == 0
        finally:
            await a.close()
            await b.close()

    asyncio.run(go())


def test_one_redis_subscription_per_channel_per_process(redis_url: str) -> None:
    async def go() -> None:
        bus, publisher = RedisBus(redis_url), RedisBus(redis_url)
        channel = _channel()
        first: list[Any] = []
        second: list[Any] = []

        async def h1(_: str, payload: dict[str, Any]) -> None:
            first.append(payload)

        async def h2(_: str, payload: dict[str, Any]) -> None:
            second.append(payload)

        try:
            await bus.subscribe(channel, h1)
            await bus.subscribe(channel, h2)
            assert await _numsub(redis_url, channel) == 1, "two local handlers, one Redis subscription"
            await publisher.publish(channel, {"x": 1})
            await _until(lambda: first and second)
            await bus.unsubscribe(channel, h1)
            assert await _numsub(redis_url, channel) == 1, "a handler remains"
            await publisher.publish(channel, {"x": 2})
            await _until(lambda: len(second) == 2)
            assert first == [{"x": 1}]
            await bus.unsubscribe(channel, h2)
            await _until(lambda: True)
            for _ in range(50):
                if await _numsub(redis_url, channel) == 0:
                    break
                await asyncio.sleep(0.02)  # UNSUBSCRIBE is sent; Redis applies it in order
            assert await _numsub(redis_url, channel) == 0
        finally:
            await bus.close()
            await publisher.close()

    asyncio.run(go())


def test_reconnects_and_resubscribes_after_the_connection_is_killed(redis_url: str) -> None:
    async def go() -> None:
        bus = RedisBus(redis_url, backoff_min_s=0.05, backoff_max_s=0.2)
        publisher = RedisBus(redis_url)
        admin = aioredis.Redis.from_url(redis_url)
        channel = _channel()
        got: list[Any] = []
        resynced: list[bool] = []

        async def handler(_: str, payload: dict[str, Any]) -> None:
            got.append(payload["n"])

        async def on_reconnect() -> None:
            resynced.append(True)

        try:
            await bus.subscribe(channel, handler)
            bus.on_reconnect(on_reconnect)
            await publisher.publish(channel, {"n": 1})
            await _until(lambda: got == [1])
            # Kill exactly our subscriber connection (other tests share this Redis).
            clients = await admin.client_list()
            ours = [c for c in clients if c.get("name") == bus.client_name]
            assert len(ours) == 1, clients
            await admin.client_kill_filter(_id=ours[0]["id"])
            await _until(lambda: bool(resynced), timeout=10)
            assert bus.reconnects == 1
            await _until(lambda: bus.subscribed_on_redis(channel))
            await publisher.publish(channel, {"n": 2})
            await _until(lambda: got == [1, 2])
        finally:
            await bus.close()
            await publisher.close()
            await admin.aclose()

    asyncio.run(go())


def test_publishing_while_redis_is_unreachable_is_counted_not_raised() -> None:
    async def go() -> None:
        bus = RedisBus("redis://127.0.0.1:1/0")
        try:
            await bus.publish("proctor:x", {"n": 1})
            assert bus.dropped == 1
        finally:
            await bus.close()

    asyncio.run(go())


@pytest.mark.parametrize("n_handlers", [3])
def test_a_failing_handler_does_not_stop_the_others(redis_url: str, n_handlers: int) -> None:
    async def go() -> None:
        bus, publisher = RedisBus(redis_url), RedisBus(redis_url)
        channel = _channel()
        got: list[int] = []

        async def bad(_: str, payload: dict[str, Any]) -> None:
            raise RuntimeError("broken subscriber")

        async def good(_: str, payload: dict[str, Any]) -> None:
            got.append(payload["n"])

        try:
            await bus.subscribe(channel, bad)
            for _ in range(n_handlers - 1):
                await bus.subscribe(channel, good)
            await publisher.publish(channel, {"n": 7})
            await _until(lambda: got == [7] * (n_handlers - 1))
        finally:
            await bus.close()
            await publisher.close()

    asyncio.run(go())
