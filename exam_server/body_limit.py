"""Request body limits, enforced before a body is read into memory.

An ASGI middleware (outside FastAPI, which would otherwise read the whole body, JSON or
multipart, before any check runs):

- a declared ``Content-Length`` over the limit is answered ``413 PayloadTooLarge`` at once,
  without reading a byte of the body (uvicorn then closes the connection);
- a body without ``Content-Length`` (chunked) is counted as it streams; the receive call that
  crosses the limit raises, and whatever the app would have answered is replaced by the 413.

The limit is ``EXAM_MAX_BODY_BYTES`` everywhere except the upload routes in :data:`UPLOAD_ROUTES`
(item import, media upload), which get their own file limit plus room for the multipart framing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exam_server.errors import PayloadTooLarge
from exam_server.settings import Settings
from proctoring.face_engine import MAX_PHOTO_BYTES

# Multipart headers, boundaries and the small form fields beside the file.
MULTIPART_SLACK = 64 * 1024


def upload_routes(settings: Settings) -> dict[str, int]:
    """Path -> body limit for the routes that take files (the only ones above the general limit)."""
    return {
        "/api/interchange/import": settings.max_import_bytes + MULTIPART_SLACK,
        "/api/media": settings.max_media_bytes + MULTIPART_SLACK,
        # "*" stands for one path segment (a record id).
        "/api/exams/*/scan-batches": settings.max_scan_upload_bytes + MULTIPART_SLACK,
        # Proctoring: a student's enrolled photo, and a school's ZIP of them.
        "/api/users/*/enrolled-photo": MAX_PHOTO_BYTES + MULTIPART_SLACK,
        "/api/schools/*/enrolled-photos/import": settings.max_import_bytes + MULTIPART_SLACK,
    }


class _TooLarge(Exception):
    """Raised from receive() when a streamed body crosses the limit."""


@dataclass
class _Cycle:
    limit: int
    received: int = 0
    over: bool = False
    started: bool = False


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default_limit: int, route_limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.route_limits = route_limits

    def limit_for(self, path: str) -> int:
        path = path.rstrip("/") or "/"
        if path in self.route_limits:
            return self.route_limits[path]
        segments = path.split("/")
        for pattern, limit in self.route_limits.items():
            parts = pattern.split("/")
            if "*" in parts and len(parts) == len(segments) and all(
                    p in ("*", s) for p, s in zip(parts, segments, strict=True)):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cycle = _Cycle(self.limit_for(scope["path"]))
        declared = _content_length(scope)
        if declared is not None and declared > cycle.limit:
            await _send_413(send, cycle.limit, f"the declared Content-Length is {declared} bytes")
            return
        try:
            await self.app(scope, _counting(receive, cycle), _guarded(send, cycle))
        except _TooLarge:
            pass  # answered below; an app that did not catch it has nothing more to say
        except Exception:
            if not cycle.over:
                raise
        if cycle.over and not cycle.started:
            await _send_413(send, cycle.limit, "the body sent so far is larger")


def _counting(receive: Receive, cycle: _Cycle) -> Receive:
    async def wrapped() -> Message:
        if cycle.over:
            raise _TooLarge
        message = await receive()
        if message["type"] == "http.request":
            cycle.received += len(message.get("body", b""))
            if cycle.received > cycle.limit:
                cycle.over = True
                raise _TooLarge
        return message

    return wrapped


def _guarded(send: Send, cycle: _Cycle) -> Send:
    async def wrapped(message: Message) -> None:
        if cycle.over and not cycle.started:
            return  # the app's answer to a body cut short (a 400 or 500) gives way to the 413
        if message["type"] == "http.response.start":
            cycle.started = True
        await send(message)

    return wrapped


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, limit: int, why: str) -> None:
    error = PayloadTooLarge(f"request body: {why}; the limit for this route is {limit} bytes")
    body = json.dumps(error.body()).encode()
    await send({"type": "http.response.start", "status": error.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middleware to the app (one line in the app factory)."""
    app.add_middleware(BodyLimitMiddleware, default_limit=settings.max_body_bytes,
                       route_limits=upload_routes(settings))
