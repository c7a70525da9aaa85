"""``/ws/proctoring/attempts/{attempt_id}``: the candidate's exam page, protocol v1.

Flow: accept -> ``auth`` within AUTH_TIMEOUT_S (the access token is verified as HTTP does: signature,
expiry, revocation) -> the attempt must be the caller's, in progress, of a proctored exam -> the
session is taken over by this connection (an older one is closed SUPERSEDED through the bus) ->
``hello`` -> messages until the client leaves or a proctor terminates.

The connection holds no database session: each message is one short transaction in a worker thread
(:mod:`exam_server.services.proctor_live`), client events through the process's group-committing
:class:`~exam_server.proctoring.writer.EventWriter`; flag changes and status go to the wall after commit.
Proctors' :class:`~proctoring.protocol.Control` messages arrive on ``attempt_channel`` and are
forwarded; ``terminate`` then closes with TERMINATED. The token is checked when connecting only: a
connection outlives the 15-minute access token, and a reconnect must present a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from exam_server.deps import verify_access
from exam_server.errors import Unauthenticated
from exam_server.proctoring import hooks, live_io, wall
from exam_server.proctoring.bus import get_bus
from exam_server.proctoring.evidence import EvidenceStore, build_evidence_store
from exam_server.proctoring.writer import EventWriter
from exam_server.runtime import Runtime
from exam_server.services import proctor_live as live
from exam_server.services.proctor_events import Pending
from exam_server.sessions.addresses import client_address
from models import ProctorSession
from proctoring.bus import attempt_channel
from proctoring.protocol import (
    AUTH_TIMEOUT_S,
    CONSENT_NOTICE_VERSION,
    Ack,
    Auth,
    BrowserEvent,
    CloseCode,
    Consent,
    Control,
    ErrorMessage,
    Frame,
    Heartbeat,
    Hello,
    IdentityFrame,
    IdentityResult,
)
from proctoring.session import SessionState

log = logging.getLogger(__name__)
router = APIRouter()
T = TypeVar("T")
SUPERSEDE = "_supersede"  # bus payload on attempt_channel: {"type": SUPERSEDE, "connection_id": new}


@router.websocket("/ws/proctoring/attempts/{attempt_id}")
async def candidate_socket(websocket: WebSocket, attempt_id: int) -> None:
    await websocket.accept()
    await CandidateConnection(websocket, attempt_id).run()


def db_limiter(app: Any) -> anyio.CapacityLimiter:
    """At most half the pool's connections in proctoring transactions at once: a commit that queued
    a job takes a second connection to mark it sent, so more threads than that would wait on the
    pool for each other (measured: 30 s pool timeouts at 40 threads on a 20-connection pool)."""
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "proctor_db_limiter", None)
    if limiter is None:
        size = max(1, app.state.runtime.settings.db_pool_size // 2)
        limiter = app.state.proctor_db_limiter = anyio.CapacityLimiter(size)
    return limiter


def event_writer(app: Any) -> EventWriter:
    writer: EventWriter | None = getattr(app.state, "proctor_event_writer", None)
    if writer is None:
        runtime: Runtime = app.state.runtime
        writer = app.state.proctor_event_writer = EventWriter(runtime.session_factory, lambda: evidence_store(app),
                                                              db_limiter(app), runtime.clock)
    return writer


async def close_writer(app: Any) -> None:
    """At shutdown (the app's lifespan): stop the writer's tasks."""
    writer: EventWriter | None = getattr(app.state, "proctor_event_writer", None)
    if writer is not None:
        app.state.proctor_event_writer = None
        await writer.close()


def evidence_store(app: Any) -> EvidenceStore:
    store: EvidenceStore | None = getattr(app.state, "proctor_evidence", None)
    if store is None:
        settings = app.state.runtime.settings
        store = app.state.proctor_evidence = build_evidence_store(settings.evidence_key, settings.data_dir)
    return store


class CandidateConnection:
    __slots__ = ("ws", "runtime", "bus", "attempt_id", "connection_id", "opened", "bucket", "send_lock",
                 "closed", "close_reason")

    def __init__(self, websocket: WebSocket, attempt_id: int) -> None:
        self.ws = websocket
        self.runtime: Runtime = websocket.app.state.runtime
        self.bus = get_bus(websocket.app)
        self.attempt_id = attempt_id
        self.connection_id = secrets.token_hex(8)
        self.opened: live.Opened | None = None
        self.bucket = live_io.RateBucket()
        self.send_lock = asyncio.Lock()
        self.closed = False
        self.close_reason = "client left"

    async def run(self) -> None:
        channel = attempt_channel(self.attempt_id)
        subscribed = False
        try:
            auth = await self._authenticate()
            await self._open(auth)
            await self.bus.publish(channel, {"type": SUPERSEDE, "connection_id": self.connection_id})
            await self.bus.subscribe(channel, self.on_bus)
            subscribed = True
            await self._hello()
            while not self.closed:
                await self._handle(await self._receive())
        except live.LiveRefused as refused:
            await self.close(refused.code, refused.reason)
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("proctoring connection of attempt %s failed", self.attempt_id)
            await self.close(CloseCode.SERVER_ERROR, "server error")
        finally:
            if subscribed:
                await self.bus.unsubscribe(channel, self.on_bus)
            await self._disconnected()

    # ---- plumbing -------------------------------------------------------------------------------
    async def _txn(self, work: Callable[[Session, live.Put], T], evidence: bool = False) -> T:
        store = evidence_store(self.ws.app) if evidence else None
        return await anyio.to_thread.run_sync(live.transact, self.runtime.session_factory, store, work,
                                              limiter=db_limiter(self.ws.app))

    async def _receive(self) -> Any:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = live_io.frame_text(message)
        if not self.bucket.take():
            raise live.LiveRefused(CloseCode.RATE_LIMITED, "too many messages: slow down and reconnect")
        return live_io.parse(text)

    async def send(self, message: BaseModel) -> None:
        async with self.send_lock:
            if not self.closed and self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.send_text(message.model_dump_json(exclude_none=True))

    async def close(self, code: int, reason: str) -> None:
        async with self.send_lock:
            if self.closed:
                return
            self.closed = True
            self.close_reason = f"{int(code)} {reason}"
            if self.ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, OSError):  # the client went away first
                    await self.ws.close(int(code), live_io.close_reason(reason))

    # ---- opening and closing --------------------------------------------------------------------
    async def _authenticate(self) -> Auth:
        try:
            message = await asyncio.wait_for(self.ws.receive(), AUTH_TIMEOUT_S)
        except TimeoutError as exc:
            raise live.LiveRefused(CloseCode.UNAUTHENTICATED, f"send auth within {AUTH_TIMEOUT_S} s") from exc
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        parsed = live_io.parse(live_io.frame_text(message))
        if not isinstance(parsed, Auth):
            raise live.LiveRefused(CloseCode.UNAUTHENTICATED, "the first message must be auth")
        return parsed

    async def _open(self, auth: Auth) -> None:
        runtime = self.runtime
        try:
            claims = await run_in_threadpool(verify_access, runtime, auth.token, runtime.clock())
        except Unauthenticated as exc:
            raise live.LiveRefused(CloseCode.UNAUTHENTICATED, exc.detail) from exc
        ip = client_address(self.ws, runtime.sessions.trusted_proxies)
        peer = live.Peer(self.connection_id, ip, auth.device_id)
        self.opened = await self._txn(lambda s, _: live.open_connection(s, self.attempt_id, claims.user_id, peer,
                                                                         runtime.clock()))

    async def _hello(self) -> None:
        opened = self.opened
        assert opened is not None
        await self.send(Hello(session_id=opened.session_id, state=opened.state, resume_from=opened.last_seq,
                              consent_required=opened.state == SessionState.CONSENT_PENDING,
                              identity_required=opened.identity_required, notice_version=CONSENT_NOTICE_VERSION))
        await wall.session_status(self.bus, opened, opened.state, opened.identity, connected=True)
        await wall.flags(self.bus, opened, opened.changes)

    async def _disconnected(self) -> None:
        opened = self.opened
        if opened is None:
            return
        try:
            outcome = await self._txn(lambda s, _: live.close_connection(
                s, opened.session_id, self.connection_id, self.close_reason, self.runtime.clock()))
        except Exception:
            log.exception("could not record the disconnection of attempt %s", self.attempt_id)
            return
        if outcome is not None:
            await wall.session_status(self.bus, opened, outcome.state, outcome.identity, connected=False)
            await wall.flags(self.bus, opened, outcome.changes)

    # ---- messages -------------------------------------------------------------------------------
    async def _handle(self, msg: live_io.CandidateMsg) -> None:
        opened = self.opened
        assert opened is not None
        try:
            if isinstance(msg, Heartbeat | BrowserEvent | Frame):
                await self._event(opened, msg)
            elif isinstance(msg, Consent):
                outcome = await self._txn(lambda s, _: live.record_consent(
                    s, opened.session_id, self.connection_id, msg, self.runtime.clock()))
                await self._after(opened, outcome)
            elif isinstance(msg, IdentityFrame):
                await self._identity(opened, live_io.jpeg_bytes(msg.jpeg_b64))
            else:
                raise live.MessageRefused("already_authenticated", "auth: this connection is already authenticated")
        except live.MessageRefused as refused:
            await self.send(ErrorMessage(code=refused.code, detail=refused.detail, seq=getattr(msg, "seq", None)))

    async def _event(self, opened: live.Opened, msg: Heartbeat | BrowserEvent | Frame) -> None:
        jpeg = live_io.jpeg_bytes(msg.jpeg_b64) if isinstance(msg, Frame) else None
        outcome = await event_writer(self.ws.app).submit(Pending(opened.session_id, self.connection_id, msg, jpeg))
        await self.send(Ack(seq=msg.seq))
        if isinstance(msg, Frame) and outcome.frame_id is None and not outcome.duplicate:
            await self.send(ErrorMessage(code="frame_dropped", detail="no frame is kept before consent", seq=msg.seq))
        await wall.flags(self.bus, opened, outcome.changes)

    async def _identity(self, opened: live.Opened, jpeg: bytes) -> None:
        now = self.runtime.clock
        frame_id = await self._txn(lambda s, put: live.store_identity_frame(
            s, put, opened.session_id, self.connection_id, jpeg, now()), evidence=True)
        checked = await run_in_threadpool(self._check_identity, opened.session_id, jpeg)
        outcome = await self._txn(lambda s, _: live.apply_identity(s, opened.session_id, frame_id, checked, now()))
        await self.send(IdentityResult(status=outcome.identity or checked.status, reason=checked.reason))
        await self._after(opened, outcome)

    def _check_identity(self, session_id: int, jpeg: bytes) -> hooks.IdentityOutcome:
        with self.runtime.read_session() as session:
            ps = session.get(ProctorSession, session_id)
            assert ps is not None
            return hooks.check_identity(session, ps, jpeg, self.runtime.clock())

    async def _after(self, opened: live.Opened, outcome: live.Outcome) -> None:
        await wall.session_status(self.bus, opened, outcome.state, outcome.identity, connected=True)
        await wall.flags(self.bus, opened, outcome.changes)

    # ---- the bus --------------------------------------------------------------------------------
    async def on_bus(self, channel: str, payload: dict[str, Any]) -> None:
        if payload.get("type") == SUPERSEDE:
            if payload.get("connection_id") != self.connection_id:
                self.close_reason = "superseded"
                await self.close(CloseCode.SUPERSEDED, "a newer connection of this attempt took over")
            return
        try:
            control = Control.model_validate(payload)
        except ValidationError:
            log.warning("ignored a malformed control on %s: %r", channel, payload)
            return
        await self.send(control)
        if control.action == "terminate":
            await self.close(CloseCode.TERMINATED, control.message or "a proctor ended the attempt")
