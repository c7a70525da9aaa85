"""The proctor wall over WebSocket: ``/ws/proctoring/exams/{exam_id}/wall?room=ID``.

Flow: accept -> the first message must be ``auth`` (an access token) within AUTH_TIMEOUT_S ->
the wall scope is checked (Cap.PROCTOR_EXAMS, the exam, ``may_proctor_room``, proctoring on) ->
subscribe to the room's channel *before* reading the snapshot (nothing falls between the two) ->
``snapshot`` -> live ``session`` / ``flag`` WallUpdates, and ``command`` messages answered with a
``command_result``. A later ``auth`` replaces the token (same user): pages send one before each
command, so a long shift outlives the 15-minute access token.

Bus handlers only enqueue (one queue per connection, drained by a sender task), so a slow proctor
never delays the process's other connections; a proctor so far behind that the queue fills is
sent a fresh snapshot instead of the backlog. The connection holds no database session: each
message opens a short one in the thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from exam_server.db import session_scope
from exam_server.deps import verify_access
from exam_server.errors import ServiceError
from exam_server.proctoring.bus import get_bus, publish_all
from exam_server.runtime import Runtime
from exam_server.services import proctor_wall
from exam_server.services.proctor_wall import CommandOutcome, CommandRefused, WallRefused, WallScope
from models import User
from proctoring.bus import Bus, attempt_channel, exam_channel, room_channel
from proctoring.protocol import (
    AUTH_TIMEOUT_S,
    MAX_TEXT_FRAME,
    VERSION,
    Auth,
    CloseCode,
    Control,
    ProctorCommand,
    WallUpdate,
    parse_proctor,
)

log = logging.getLogger(__name__)
router = APIRouter()
QUEUE_LIMIT = 1000
_RESYNC: dict[str, Any] = {"type": "_resync"}


class Closing(Exception):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@router.websocket("/ws/proctoring/exams/{exam_id}/wall")
async def wall_socket(websocket: WebSocket, exam_id: int, room: str | None = None) -> None:
    await websocket.accept()
    runtime: Runtime = websocket.app.state.runtime
    conn = WallConnection(websocket, runtime, get_bus(websocket.app), exam_id, room)
    try:
        await conn.run()
    except Closing as exc:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=int(exc.code), reason=exc.reason[:120])
    except WebSocketDisconnect:
        pass


class WallConnection:
    def __init__(self, websocket: WebSocket, runtime: Runtime, bus: Bus, exam_id: int, room: str | None) -> None:
        self.ws, self.runtime, self.bus = websocket, runtime, bus
        self.exam_id, self.raw_room = exam_id, room
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False
        self.token = ""
        self.user: User | None = None
        self.scope: WallScope | None = None

    async def run(self) -> None:
        first = await self._receive(timeout=AUTH_TIMEOUT_S)
        if not isinstance(first, Auth):
            raise Closing(CloseCode.UNAUTHENTICATED, "the first message must be auth")
        self.user = await self._authenticate(first.token)
        self.scope = await run_in_threadpool(self._open_scope)
        channel = self.scope.channel()
        await self.bus.subscribe(channel, self._on_update)
        listen = getattr(self.bus, "on_reconnect", None)
        if listen is not None:
            listen(self._on_bus_reconnect)
        try:
            await self._send_snapshot()
            await self._serve()
        finally:
            await self.bus.unsubscribe(channel, self._on_update)
            forget = getattr(self.bus, "remove_reconnect_listener", None)
            if forget is not None:
                forget(self._on_bus_reconnect)

    async def _serve(self) -> None:
        sender = asyncio.create_task(self._send_updates())
        try:
            while True:
                message = await self._receive(timeout=None)
                if isinstance(message, Auth):
                    await self._reauthenticate(message.token)
                else:
                    await self._command(message)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    # ---- receiving ------------------------------------------------------------------------------

    async def _receive(self, timeout: float | None) -> Auth | ProctorCommand:
        try:
            text = await asyncio.wait_for(self.ws.receive_text(), timeout)
        except TimeoutError as exc:
            raise Closing(CloseCode.UNAUTHENTICATED, f"no auth within {AUTH_TIMEOUT_S} s") from exc
        except KeyError as exc:  # a binary frame
            raise Closing(CloseCode.BAD_JSON, "frames must be JSON text") from exc
        if len(text.encode()) > MAX_TEXT_FRAME:
            raise Closing(CloseCode.TOO_LARGE, f"a message is at most {MAX_TEXT_FRAME} bytes")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise Closing(CloseCode.BAD_JSON, "a message is not valid JSON") from exc
        if not isinstance(raw, dict):
            raise Closing(CloseCode.BAD_JSON, "a message must be a JSON object")
        if raw.get("v") != VERSION or raw.get("type") not in ("auth", "command"):
            raise Closing(CloseCode.UNKNOWN_TYPE, f"unknown message type {str(raw.get('type'))[:40]!r} "
                                                  f"or version {str(raw.get('v'))[:10]!r} on a wall")
        try:
            return parse_proctor(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"][1:]) or "message"
            raise Closing(CloseCode.INVALID_MESSAGE, f"{where}: {err['msg']}") from exc

    async def _authenticate(self, token: str) -> User:
        def check() -> User:
            try:
                claims = verify_access(self.runtime, token, self.runtime.clock())
            except ServiceError as exc:
                raise Closing(CloseCode.UNAUTHENTICATED, exc.detail) from exc
            with self.runtime.read_session() as session:
                user = session.get(User, claims.user_id)
                if user is None or not user.is_active:
                    raise Closing(CloseCode.UNAUTHENTICATED, "the account behind this token is gone or disabled")
                session.expunge(user)
                return user

        user = await run_in_threadpool(check)
        self.token = token
        return user

    async def _reauthenticate(self, token: str) -> None:
        user = await self._authenticate(token)
        if self.user is None or user.id != self.user.id:
            raise Closing(CloseCode.FORBIDDEN, "a wall's auth may not change the user")
        self.user = user

    def _open_scope(self) -> WallScope:
        assert self.user is not None
        with self.runtime.read_session() as session:
            try:
                return proctor_wall.open_wall(session, self.user, self.exam_id, self.raw_room)
            except WallRefused as exc:
                raise Closing(exc.code, exc.reason) from exc

    # ---- commands -------------------------------------------------------------------------------

    async def _command(self, command: ProctorCommand) -> None:
        assert self.scope is not None
        try:
            self.user = await self._authenticate(self.token)  # expired or revoked since: refused
            outcome = await run_in_threadpool(self._apply, command)
        except Closing as exc:
            if exc.code != CloseCode.UNAUTHENTICATED:
                raise
            await self._result(command, {"ok": False, "code": "token_expired", "detail": exc.reason})
            return
        except CommandRefused as exc:
            await self._result(command, {"ok": False, "code": exc.code, "detail": exc.detail})
            return
        control = Control(action=command.command.value, message=command.message)
        await self.bus.publish(attempt_channel(outcome.attempt_id), control.model_dump(mode="json"))
        update = WallUpdate(type="session", exam_id=self.exam_id, exam_room_id=outcome.exam_room_id,
                            session_id=command.session_id, payload=outcome.status)
        await publish_all(self.bus, [room_channel(self.exam_id, outcome.exam_room_id), exam_channel(self.exam_id)],
                          update.model_dump(mode="json"))
        await self._result(command, {"ok": True, "state": outcome.status["state"]})

    def _apply(self, command: ProctorCommand) -> CommandOutcome:
        assert self.user is not None and self.scope is not None
        with session_scope(self.runtime.session_factory) as session:
            try:
                proctor_wall.open_wall(session, self.user, self.exam_id, self.raw_room)  # still this proctor's?
            except WallRefused as exc:
                raise Closing(exc.code, exc.reason) from exc
            return proctor_wall.apply_command(session, self.user, self.scope, command, self.runtime.clock())

    async def _result(self, command: ProctorCommand, payload: dict[str, Any]) -> None:
        assert self.scope is not None
        body = {"request_id": command.request_id, "command": command.command.value, **payload}
        result = WallUpdate(type="command_result", exam_id=self.exam_id, exam_room_id=self.scope.room,
                            session_id=command.session_id, payload=body)
        await self.queue.put(result.model_dump(mode="json"))

    # ---- sending --------------------------------------------------------------------------------

    async def _on_update(self, channel: str, payload: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True  # the sender replaces the backlog with a snapshot

    async def _on_bus_reconnect(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(_RESYNC)

    async def _send_updates(self) -> None:
        while True:
            payload = await self.queue.get()
            if self.overflowed or payload is _RESYNC:
                self.overflowed = False
                while not self.queue.empty():
                    self.queue.get_nowait()
                await self._send_snapshot()
                continue
            await self.ws.send_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))

    async def _send_snapshot(self) -> None:
        assert self.scope is not None
        scope = self.scope

        def read() -> list[dict[str, Any]]:
            with self.runtime.read_session() as session:
                return proctor_wall.snapshot(session, scope)

        tiles = await run_in_threadpool(read)
        body = {"v": VERSION, "type": "snapshot", "exam_id": scope.exam_id,
                "room": "all" if scope.whole_exam else (scope.room if scope.room is not None else "none"),
                "server_time": self.runtime.clock().isoformat(), "candidates": tiles}
        await self.ws.send_text(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
