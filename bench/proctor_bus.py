"""Fan-out latency of the proctoring bus: one process's RedisBus publishing to another's (two
connections to a real Redis at 127.0.0.1:6379), against the in-process bus as the baseline.

    .venv/bin/python -m bench.proctor_bus [--messages 5000] [--channels 200]

(as a module: a script run from bench/ would import bench/proctoring.py as the ``proctoring`` package)

``channels`` channels are subscribed on the receiving bus (one Redis subscription each, on its one
connection); messages go round-robin. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import redis.asyncio as aioredis

from exam_server.proctoring.bus import InProcessBus
from exam_server.proctoring.redis_bus import RedisBus
from proctoring.bus import Bus


async def _measure(sender: Bus, receiver: Bus, messages: int, channels: int) -> dict[str, float]:
    prefix = f"proctor:bench:{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}:{n}" for n in range(channels)]
    latencies: list[float] = []
    done = asyncio.Event()

    async def handler(_: str, payload: dict[str, Any]) -> None:
        latencies.append(time.perf_counter() - payload["t"])
        if len(latencies) == messages:
            done.set()

    for name in names:
        await receiver.subscribe(name, handler)
    start = time.perf_counter()
    for n in range(messages):
        await sender.publish(names[n % channels], {"t": time.perf_counter(), "n": n})
    await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - start
    for name in names:
        await receiver.unsubscribe(name, handler)
    ordered = sorted(latencies)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
            "messages_per_s": round(messages / elapsed)}


async def _raw_publish_rate(url: str, count: int = 500) -> float:
    """Baseline: plain redis-py publishes per second on this machine right now (load matters)."""
    client = aioredis.Redis.from_url(url)
    try:
        start = time.perf_counter()
        for _ in range(count):
            await client.publish("proctor:bench:raw", "x")
        return round(count / (time.perf_counter() - start))
    finally:
        await client.aclose()


async def main(messages: int, channels: int, url: str) -> dict[str, Any]:
    raw = await _raw_publish_rate(url)
    local = InProcessBus()
    baseline = await _measure(local, local, messages, channels)
    sender, receiver = RedisBus(url), RedisBus(url)
    try:
        redis = await _measure(sender, receiver, messages, channels)
        dropped = sender.dropped
    finally:
        await sender.close()
        await receiver.close()
    return {"messages": messages, "channels": channels, "baseline_in_process": baseline,
            "baseline_raw_redis_publish_per_s": raw, "redis": redis, "dropped": dropped}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.messages, args.channels, args.redis_url))))
