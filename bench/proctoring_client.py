"""One client process of bench/proctoring.py: many candidate connections on one asyncio loop.

Protocol with the parent (one JSON object per line): reads ``{"cmd": ...}`` on stdin, answers on
stdout. ``connect`` opens and authenticates its connections (consent given), answers ``ready``;
``load`` runs heartbeats / frames / random events for ``seconds`` and answers with its counts and
latencies (event sent -> ack received, ms); ``frames`` sends frames as fast as acks come back for
``seconds``; ``quit`` closes everything.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

KINDS = ["tab_hidden", "tab_visible", "window_blur", "window_focus", "copy", "paste", "fullscreen_exit"]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(random.Random(1).randbytes(12_000)) + b"\xff\xd9"
JPEG_B64 = base64.b64encode(JPEG).decode()


@dataclass
class Stats:
    sent: int = 0
    acked: int = 0
    closed: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


COPIES: list[tuple[int, float]] = []  # (session_id, wall-clock time a "copy" event was sent)


class Proctor:
    """A proctor's wall: records when each copy_paste flag of a session arrives (wall clock)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.flags: list[tuple[int, float]] = []
        self.closed = False
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        ws = await websockets.connect(self.url, max_size=2**22, open_timeout=60, ping_interval=None,
                                      compression=None)
        await ws.send(json.dumps({"type": "auth", "token": self.token}))
        self.task = asyncio.create_task(self.read(ws))

    async def read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "flag" and msg["payload"].get("rule") == "copy_paste" \
                        and not msg["payload"].get("ended_at"):
                    self.flags.append((msg["session_id"], time.time()))
        except websockets.ConnectionClosed:
            pass
        self.closed = True


class Candidate:
    __slots__ = ("url", "token", "ws", "seq", "sent_at", "stats", "reader", "echo", "session_id")

    def __init__(self, url: str, token: str, stats: Stats, echo: bool = False) -> None:
        self.url, self.token, self.stats, self.echo = url, token, stats, echo
        self.ws: ClientConnection | None = None
        self.seq = 0
        self.sent_at: dict[int, float] = {}
        self.reader: asyncio.Task[Any] | None = None
        self.session_id = 0

    async def open(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=2**20, open_timeout=60, ping_interval=None,
                                           compression=None)
        if self.echo:  # the baseline server: an open connection is all
            return
        await self.ws.send(json.dumps({"type": "auth", "token": self.token, "device_id": "bench-device"}))
        hello = json.loads(await self.ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        self.seq = hello["resume_from"]
        self.session_id = int(hello["session_id"])
        if hello["consent_required"]:
            consent = {"type": "consent", "accepted": True, "notice_version": hello["notice_version"]}
            await self.ws.send(json.dumps(consent))
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg.get("type") == "ack":
                    sent = self.sent_at.pop(msg["seq"], None)
                    if sent is not None:
                        self.stats.acked += 1
                        self.stats.latencies.append((time.perf_counter() - sent) * 1000)
                elif msg.get("type") == "error":
                    self.stats.errors += 1
        except websockets.ConnectionClosed:
            pass
        self.stats.closed += 1

    async def send(self, kind: str) -> None:
        if self.ws is None:
            return
        self.seq += 1
        msg: dict[str, Any] = {"type": kind if kind in ("heartbeat", "frame") else "event", "seq": self.seq,
                               "at": datetime.now(UTC).isoformat()}
        if kind == "frame":
            msg["jpeg_b64"] = JPEG_B64
        elif kind != "heartbeat":
            msg["kind"] = kind
            if kind == "copy":
                COPIES.append((self.session_id, time.time()))
        self.sent_at[self.seq] = time.perf_counter()
        self.stats.sent += 1
        try:
            await self.ws.send(json.dumps(msg))
        except websockets.ConnectionClosed:
            self.sent_at.pop(self.seq, None)


async def run_load(cands: list[Candidate], seconds: float, events_per_min: float) -> None:
    """Heartbeat every 5 s, a frame every 10 s, random browser events; starts spread over 5 s."""
    rng = random.Random(7)

    async def one(c: Candidate) -> None:
        await asyncio.sleep(rng.random() * 5)
        start = time.monotonic()
        tick = 0
        while time.monotonic() - start < seconds:
            await c.send("heartbeat")
            if tick % 2 == 1:
                await c.send("frame")
            if rng.random() < events_per_min / 12:
                await c.send(rng.choice(KINDS))
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 5 - time.monotonic()))

    await asyncio.gather(*(one(c) for c in cands))


async def run_frames(cands: list[Candidate], seconds: float) -> None:
    """Frames back to back from every connection (each waits for its ack): server frame throughput."""
    end = time.monotonic() + seconds

    async def one(c: Candidate) -> None:
        while time.monotonic() < end and c.ws is not None:
            await c.send("frame")
            while c.sent_at and time.monotonic() < end + 10:
                await asyncio.sleep(0.005)

    await asyncio.gather(*(one(c) for c in cands))


async def drain(cands: list[Candidate], limit_s: float = 30.0) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end and any(c.sent_at for c in cands):
        await asyncio.sleep(0.1)


async def open_all(cands: list[Candidate], parallel: int) -> int:
    gate = asyncio.Semaphore(parallel)
    failed = 0

    async def one(c: Candidate) -> None:
        nonlocal failed
        async with gate:
            try:
                await c.open()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failed += 1
                print(f"connect failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                c.ws = None

    await asyncio.gather(*(one(c) for c in cands))
    return failed


def reply(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main() -> None:
    setup = json.loads(sys.stdin.readline())
    stats = Stats()
    cands = [Candidate(url, token, stats, setup.get("echo", False)) for url, token in setup["targets"]]
    proctors = [Proctor(url, token) for url, token in setup.get("proctors", [])]
    await asyncio.gather(*(p.open() for p in proctors))
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        if cmd["cmd"] == "connect":  # the next `count` connections (all by default)
            todo = [c for c in cands if c.ws is None and c.reader is None][: cmd.get("count", len(cands))]
            for c in todo:
                c.reader = asyncio.current_task()  # marks "tried" (replaced by the reader on success)
            failed = await open_all(todo, cmd.get("parallel", 50))
            await asyncio.sleep(1.0)  # consents acknowledged by now
            reply({"ready": len(todo) - failed, "failed": failed})
        elif cmd["cmd"] in ("load", "frames"):
            before = (stats.sent, stats.acked)
            stats.latencies = []
            began = time.monotonic()
            if cmd["cmd"] == "load":
                await run_load([c for c in cands if c.ws], cmd["seconds"], cmd.get("events_per_min", 2.0))
            else:
                await run_frames([c for c in cands if c.ws][: cmd.get("connections", 50)], cmd["seconds"])
            await drain(cands)
            reply({"copies": COPIES, "flags": [f for p in proctors for f in p.flags],
                   "proctors_closed": sum(p.closed for p in proctors),
                   "sent": stats.sent - before[0], "acked": stats.acked - before[1], "closed": stats.closed,
                   "errors": stats.errors, "seconds": time.monotonic() - began, "latencies": stats.latencies,
                   "unacked": sum(len(c.sent_at) for c in cands)})
        elif cmd["cmd"] == "quit":
            await asyncio.gather(*(c.ws.close() for c in cands if c.ws), return_exceptions=True)
            reply({"bye": True})
            break


if __name__ == "__main__":
    asyncio.run(main())
