"""Helpers for the proctor-wall tests: proctoring rows as the candidate connection writes them, a real
uvicorn server for an app (in a thread, so the test's ManualClock still rules), API servers in
subprocesses sharing Redis, and a websockets client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import select

from exam_server.app import create_app
from exam_server.db import session_scope
from exam_server.runtime import Runtime
from models import Attempt, ExamCandidate, ProctorFlag, ProctorFrame, ProctorSession, ProctorSettings

REPO = Path(__file__).resolve().parents[2]


def enable_proctoring(runtime: Runtime, exam_id: int, now: datetime, retention_days: int = 30) -> None:
    with session_scope(runtime.session_factory) as session:
        session.add(ProctorSettings(exam_id=exam_id, enabled=True, require_identity=True, weights={},
                                    retention_days=retention_days, updated_at=now))
    runtime.proctored.forget(exam_id)


def add_session(runtime: Runtime, attempt_id: int, state: str, now: datetime, *, connected: bool = True) -> int:
    """A proctoring session as the candidate's connection creates it."""
    with session_scope(runtime.session_factory) as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        room = session.scalar(select(ExamCandidate.exam_room_id).where(ExamCandidate.exam_id == attempt.exam_id,
                                                                        ExamCandidate.user_id == attempt.user_id))
        ps = ProctorSession(attempt_id=attempt_id, exam_id=attempt.exam_id, user_id=attempt.user_id,
                            exam_room_id=room, state=state, identity="unchecked", last_seq=0,
                            connection_id="c-1" if connected else None, last_seen_at=now, risk_score=1.5,
                            created_at=now, updated_at=now)
        session.add(ps)
        session.flush()
        return ps.id


def add_flag(runtime: Runtime, session_id: int, rule: str, now: datetime, severity: str = "medium") -> int:
    with session_scope(runtime.session_factory) as session:
        flag = ProctorFlag(session_id=session_id, rule=rule, severity=severity, started_at=now, ended_at=None,
                           evidence={"events": []}, status="open", created_at=now)
        session.add(flag)
        session.flush()
        return flag.id


def add_frame(runtime: Runtime, session_id: int, data: bytes, now: datetime, purpose: str = "monitor") -> int:
    key = runtime.evidence.put(data)
    with session_scope(runtime.session_factory) as session:
        frame = ProctorFrame(session_id=session_id, purpose=purpose, taken_at=now, storage_key=key,
                             size_bytes=len(data), analysis={"faces": 1, "match_distance": 0.31, "matches": True},
                             analysed_at=now)
        session.add(frame)
        session.flush()
        return frame.id


def session_row(runtime: Runtime, session_id: int) -> ProctorSession:
    with runtime.read_session() as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        session.expunge(ps)
        return ps


# ---- a real server --------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(runtime: Runtime) -> Iterator[tuple[str, FastAPI]]:
    """The app on a real uvicorn server (a thread of this process); yields ``host:port`` and the app.
    No lifespan: the test's runtime outlives the server."""
    app = create_app(runtime=runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)  # polling the started flag
    try:
        yield f"127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def api_processes(count: int, env_extra: dict[str, str], log_dir: Path) -> Iterator[list[str]]:
    """``count`` API servers (``exam serve``) in subprocesses on one database and one Redis."""
    env = {**os.environ, **env_extra}
    procs: list[subprocess.Popen[bytes]] = []
    hosts: list[str] = []
    try:
        for n in range(count):
            port = free_port()
            log = (log_dir / f"api{n}.log").open("wb")
            procs.append(subprocess.Popen([sys.executable, "-m", "exam_server.cli", "serve", "--port", str(port)],
                                          env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
            hosts.append(f"127.0.0.1:{port}")
        for host, proc in zip(hosts, procs, strict=True):
            _wait_healthy(host, proc, log_dir)
        yield hosts
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_healthy(host: str, proc: subprocess.Popen[bytes], log_dir: Path) -> None:
    deadline = time.monotonic() + 150  # a loaded 2-core machine imports slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in log_dir.glob("api*.log"))
            raise RuntimeError(f"API process on {host} exited early:\n{logs}")
        try:
            if httpx.get(f"http://{host}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling interval while the server starts
    raise RuntimeError(f"API process on {host} not healthy")


# ---- a websockets client --------------------------------------------------------------------------

class WallClient:
    """A proctor's wall connection: auth, then snapshot and updates."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []  # received, not yet asked for

    @classmethod
    async def open(cls, host: str, exam_id: int, room: str, token: str) -> WallClient:
        ws = await websockets.connect(f"ws://{host}/ws/proctoring/exams/{exam_id}/wall?room={room}")
        await ws.send(json.dumps({"v": 1, "type": "auth", "token": token}))
        return cls(ws)

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))  # type: ignore[no-any-return]

    async def next_of(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first message of ``kind`` (others received meanwhile stay for later calls)."""
        for index, msg in enumerate(self.pending):
            if msg["type"] == kind:
                return self.pending.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.next(max(0.05, deadline - time.monotonic()))
            if msg["type"] == kind:
                return msg
            self.pending.append(msg)

    async def command(self, session_id: int, command: str, message: str | None = None,
                      request_id: str = "r1") -> dict[str, Any]:
        await self.ws.send(json.dumps({"v": 1, "type": "command", "session_id": session_id, "command": command,
                                       "message": message, "request_id": request_id}))
        return await self.next_of("command_result")

    async def close(self) -> None:
        await self.ws.close()


async def closed_with(ws: Any, timeout: float = 5.0) -> tuple[int | None, str]:
    """Wait for the server to close ``ws``; its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), (exc.rcvd.reason if exc.rcvd else "")
