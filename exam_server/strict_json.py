"""Strict JSON bodies for every route: an ASGI middleware that refuses what Python's json module
accepts but no database or JSON consumer should see.

- ``NaN``, ``Infinity``, ``-Infinity`` and literals that overflow to infinity (``1e400``) ->
  422 ``InvalidNumber`` (stored, they become NULL or break every later JSON response);
- a lone UTF-16 surrogate (``"\\ud800"``) or a NUL character in any string or key -> 422
  ``ValidationError`` (PostgreSQL refuses both, SQLite cannot encode the first: a 500 before);
- nesting too deep to parse, or an integer literal longer than Python allows -> 400 ``MalformedJSON``
  or 422 ``InvalidNumber``, never a 500;
- a NUL in a query parameter -> 422 ``ValidationError`` (``query.q``).

Each error names the field path the way request validation does (``body.response.0``).
Malformed JSON is left to FastAPI (400 ``MalformedJSON``). The body is buffered here, so the
body-size limit middleware must sit outside this one. Huge but finite numbers are refused by
field bounds on the request models, where their meaning is known.
"""

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")
# Text that can hold a lone surrogate or NUL matches this: a \u escape, or raw bytes
# (json.loads decodes bytes with "surrogatepass": ED A0..BF is an encoded surrogate; NUL bytes
# also mean UTF-16/32). Most bodies match nothing, and then only numbers need looking at,
# which the parse itself does (bench/faults.py measures both paths).
_SUSPECT_TEXT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]|\x00")
_MAX_PROBLEMS = 5


class _Constant:
    """What ``NaN``/``Infinity`` parse to here, so the walk can report where they were."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _is_json(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    # FastAPI parses a body without a content type as JSON too.
    return not content_type or content_type.endswith(b"/json") or content_type.endswith(b"+json")


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in ("body", *parts))


def _text_problem(text: str) -> str | None:
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    return "contains a NUL character (\\u0000)" if char == "\x00" else \
        f"contains a lone UTF-16 surrogate (\\u{ord(char):04x}); text must be valid Unicode"


def find_problems(document: Any) -> list[tuple[str, str, str]]:
    """(error name, field path, what is wrong) for each bad number or string, iteratively (no
    recursion limit on deep documents)."""
    problems: list[tuple[str, str, str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack and len(problems) < _MAX_PROBLEMS:
        where, value = stack.pop()
        if isinstance(value, _Constant) or (isinstance(value, float) and not math.isfinite(value)):
            literal = value.literal if isinstance(value, _Constant) else str(value)
            problems.append(("InvalidNumber", _path(where), f"{literal} is not a finite number"))
        elif isinstance(value, str):
            if (text := _text_problem(value)) is not None:
                problems.append(("ValidationError", _path(where), text))
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if (text := _text_problem(key)) is not None:
                    problems.append(("ValidationError", _path(where), f"a key {text}"))
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, i), item) for i, item in reversed(list(enumerate(value))))
    return problems


def check_body(body: bytes) -> tuple[int, str, str] | None:
    """(status, error name, detail) when the body must be refused; None to let it through."""
    constants: list[_Constant] = []

    def constant(literal: str) -> _Constant:
        constants.append(_Constant(literal))
        return constants[-1]

    def number(literal: str) -> float | _Constant:
        value = float(literal)
        return value if math.isfinite(value) else constant("a number too large to represent")

    try:
        document = json.loads(body, parse_constant=constant, parse_float=number)
    except RecursionError:
        return 400, "MalformedJSON", "request body is not valid JSON: nested too deeply"
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            return None  # FastAPI answers 400 MalformedJSON with the position
        return 422, "InvalidNumber", f"body: {exc}"  # e.g. an integer literal of 5,000 digits
    if not constants and _SUSPECT_TEXT.search(body) is None:
        return None  # the common case: no walk needed
    problems = find_problems(document)
    if not problems:
        return None
    name = problems[0][0]
    return 422, name, "; ".join(f"{path}: {what}" for _, path, what in problems)


class StrictJSONMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (refusal := check_query(scope.get("query_string", b""))) is not None:
            await _refuse(refusal, scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if (refusal := check_body(body) if body.strip() else None) is not None:
            await _refuse(refusal, scope, receive, send)
            return
        await self.app(scope, _replay(body, more, receive), send)


def check_query(query: bytes) -> tuple[int, str, str] | None:
    """A NUL in a query parameter (``?q=%00``) reaches SQL as text PostgreSQL refuses."""
    if b"%00" not in query.lower() and b"\x00" not in query:
        return None
    bad = [key for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
           if "\x00" in key or "\x00" in value]
    if not bad:
        return None
    return 422, "ValidationError", "; ".join(f"query.{key}: contains a NUL character (%00)" for key in bad)


async def _refuse(refusal: tuple[int, str, str], scope: Scope, receive: Receive, send: Send) -> None:
    status, name, detail = refusal
    await JSONResponse({"error": name, "detail": detail}, status_code=status)(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, plus any non-body message (a disconnect) to hand on afterwards."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, pending: list[Message], receive: Receive) -> Receive:
    queue: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *pending]

    async def replay() -> Message:
        return queue.pop(0) if queue else await receive()

    return replay
