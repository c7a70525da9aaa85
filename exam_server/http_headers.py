"""Security headers on every response, and the one way the app sets cookies.

One ASGI middleware adds, to pages, API answers, static files, errors and refusals alike:

- ``Content-Security-Policy``: scripts and styles only from this origin (no inline script, no
  ``eval``; the pages keep their data in ``data-`` attributes and a non-executable JSON block),
  images also from ``data:`` (the blank favicon, Swagger UI's icons), nothing may frame a page;
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` (signed media links carry their signature in the URL, so no
  URL may leak to another site), ``Cross-Origin-Opener-Policy: same-origin``;
- ``Strict-Transport-Security`` when the request came over HTTPS: the request's own scheme, or
  ``X-Forwarded-Proto`` when ``EXAM_TRUST_FORWARDED_PROTO`` says a proxy in front sets it.

A header a route already set is kept (a route may tighten its own policy). An exception that
escapes the app still gets a JSON 500 carrying these headers.
"""

import logging
from typing import Literal

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exam_server.settings import Settings

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
STATIC_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def scope_is_https(scope: Scope, trust_forwarded_proto: bool) -> bool:
    if trust_forwarded_proto:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-proto":
                # A chain of proxies appends: the first hop is the client's own scheme.
                return bool(value.split(b",")[0].strip().lower() == b"https")
    return bool(scope.get("scheme") in ("https", "wss"))


def request_is_https(request: Request) -> bool:
    settings: Settings = request.app.state.runtime.settings
    return scope_is_https(request.scope, settings.trust_forwarded_proto)


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int,
               http_only: bool = True, same_site: Literal["lax", "strict"] = "lax") -> None:
    """Every cookie goes through here: HttpOnly and SameSite by default, Secure over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, httponly=http_only, samesite=same_site,
                        secure=request_is_https(request), path="/")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, trust_forwarded_proto: bool = False, hsts_seconds: int = 0) -> None:
        self.app = app
        self.trust_forwarded_proto = trust_forwarded_proto
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains".encode() if hsts_seconds > 0 else None

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = list(STATIC_HEADERS)
        if self.hsts is not None and scope_is_https(scope, self.trust_forwarded_proto):
            headers.append((b"strict-transport-security", self.hsts))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers(scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((n, v) for n, v in extra if n not in present)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # Answer here so even a crash carries the headers; re-raise so the server logs it.
            await _internal_error(send_with_headers)
            raise


async def _internal_error(send: Send) -> None:
    body = b'{"error":"InternalError","detail":"the server failed to answer this request; it has been logged"}'
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
