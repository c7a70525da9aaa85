"""The app under a real uvicorn in a thread, and a small protocol client on the `websockets` library."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uvicorn
import websockets
from browser_support import free_port
from fastapi import FastAPI
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection

from exam_server import cli
from exam_server.db import session_scope
from exam_server.proctoring import candidate_ws
from exam_server.runtime import Runtime
from models import OutboxJob, ProctorConsent, ProctorEvent, ProctorFrame, ProctorSession, ProctorSettings

# A real (tiny) JPEG: the SOI/APP0 header is what the server checks; the rest is opaque to it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"


@dataclass
class LiveServer:
    app: FastAPI
    loop: asyncio.AbstractEventLoop
    url: str
    wall: list[dict[str, Any]] = field(default_factory=list)

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the server's own event loop (the bus lives there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        self.run(self.app.state.proctor_bus.publish(channel, payload))

    def listen(self, channel: str) -> None:
        async def keep(_: str, payload: dict[str, Any]) -> None:
            self.wall.append(payload)

        self.run(self.app.state.proctor_bus.subscribe(channel, keep))


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws=cli.WS_IMPL,
                            ws_per_message_deflate=False, ws_max_size=cli.WS_MAX_SIZE, ws_max_queue=cli.WS_MAX_QUEUE)
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)  # polling the started flag
    try:
        yield LiveServer(app, loop, f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(15)
        loop.run_until_complete(candidate_ws.close_writer(app))
        loop.close()


def make_proctored(runtime: Runtime, exam_id: int, require_identity: bool = True) -> None:
    with session_scope(runtime.session_factory) as session:
        session.add(ProctorSettings(exam_id=exam_id, enabled=True, require_identity=require_identity, weights={},
                                    retention_days=30, updated_by=None, updated_at=runtime.clock()))


def at(runtime: Runtime, seconds: float = 0) -> str:
    now: datetime = runtime.clock()
    return (now + timedelta(seconds=seconds)).isoformat()


def heartbeat(seq: int, when: str) -> str:
    return json.dumps({"v": 1, "type": "heartbeat", "seq": seq, "at": when})


def event(seq: int, when: str, kind: str = "tab_hidden", data: dict[str, Any] | None = None) -> str:
    return json.dumps({"v": 1, "type": "event", "seq": seq, "at": when, "kind": kind, "data": data})


def frame(seq: int, when: str, jpeg: bytes = JPEG) -> str:
    return json.dumps({"v": 1, "type": "frame", "seq": seq, "at": when,
                       "jpeg_b64": base64.b64encode(jpeg).decode()})


async def connect(url: str, attempt_id: int, token: str, *, headers: dict[str, str] | None = None,
                  **auth: Any) -> tuple[ClientConnection, dict[str, Any]]:
    """Open, authenticate and return the connection and the server's hello."""
    ws = await open_raw(url, attempt_id, headers)
    await ws.send(json.dumps({"v": 1, "type": "auth", "token": token, **auth}))
    hello = await recv(ws)
    assert hello["type"] == "hello", hello
    return ws, hello


async def open_raw(url: str, attempt_id: int, headers: dict[str, str] | None = None) -> ClientConnection:
    return await websockets.connect(f"{url}/ws/proctoring/attempts/{attempt_id}", max_size=None,
                                    additional_headers=headers, open_timeout=10)


async def recv(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def close_code(ws: ClientConnection, timeout: float = 10.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.read_session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (ProctorSession, ProctorEvent, ProctorFrame, ProctorConsent, OutboxJob)}


def client_events(runtime: Runtime) -> list[tuple[int, str]]:
    with runtime.read_session() as session:
        rows = session.execute(select(ProctorEvent.seq, ProctorEvent.kind).where(ProctorEvent.seq > 0)
                               .order_by(ProctorEvent.id)).all()
    return [(seq, kind) for seq, kind in rows]


def server_events(runtime: Runtime) -> list[str]:
    with runtime.read_session() as session:
        return list(session.scalars(select(ProctorEvent.kind).where(ProctorEvent.seq < 0)
                                    .order_by(ProctorEvent.seq.desc())))
