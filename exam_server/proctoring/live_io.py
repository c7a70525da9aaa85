"""Reading one candidate frame: size, rate, JSON, type and version, fields, JPEG payloads.

Every refusal is a :class:`~exam_server.services.proctor_live.LiveRefused` with the close code
of ``docs/proctoring-protocol.md`` and a reason that names what was wrong, checked in this order:
size (before parsing anything), rate, JSON, type/version, fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from exam_server.services.proctor_live import LiveRefused
from proctoring.protocol import (
    MAX_FRAME_JPEG,
    MAX_TEXT_FRAME,
    RATE_BURST,
    RATE_PER_S,
    VERSION,
    Auth,
    BrowserEvent,
    CloseCode,
    Consent,
    Frame,
    Heartbeat,
    IdentityFrame,
    parse_candidate,
)

CandidateMsg = Auth | Consent | IdentityFrame | Heartbeat | Frame | BrowserEvent
CANDIDATE_TYPES = frozenset({"auth", "consent", "identity_frame", "heartbeat", "frame", "event"})
_JPEG_MAGIC = b"\xff\xd8\xff"
_REASON_BYTES = 123  # a close frame's reason is at most 123 bytes (RFC 6455 5.5)


def close_reason(text: str) -> str:
    data = text.encode()
    if len(data) <= _REASON_BYTES:
        return text
    return data[:_REASON_BYTES - 3].decode(errors="ignore") + "..."


class RateBucket:
    """A token bucket: ``RATE_PER_S`` a second, at most ``RATE_BURST`` saved up."""

    __slots__ = ("_tokens", "_at")

    def __init__(self) -> None:
        self._tokens = float(RATE_BURST)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(RATE_BURST), self._tokens + (now - self._at) * RATE_PER_S)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def frame_text(message: Mapping[str, Any]) -> str:
    """The text of a received ASGI websocket message (binary frames are refused)."""
    text = message.get("text")
    if text is None:
        raise LiveRefused(CloseCode.BAD_JSON, "binary frames are not accepted: send JSON text")
    if len(text) > MAX_TEXT_FRAME or (len(text) * 4 > MAX_TEXT_FRAME and len(text.encode()) > MAX_TEXT_FRAME):
        raise LiveRefused(CloseCode.TOO_LARGE, f"a message is at most {MAX_TEXT_FRAME} bytes")
    return str(text)


def parse(text: str) -> CandidateMsg:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise LiveRefused(CloseCode.BAD_JSON, f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise LiveRefused(CloseCode.BAD_JSON, "a message is a JSON object")
    if raw.get("v", VERSION) != VERSION:
        raise LiveRefused(CloseCode.UNKNOWN_TYPE, f"v: protocol version {raw.get('v')!r} is not known (use {VERSION})")
    if raw.get("type") not in CANDIDATE_TYPES:
        raise LiveRefused(CloseCode.UNKNOWN_TYPE, f"type: {str(raw.get('type'))[:40]!r} is not known; "
                                                  f"known: {', '.join(sorted(CANDIDATE_TYPES))}")
    try:
        return parse_candidate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> LiveRefused:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "message"
    if where == "jpeg_b64" and first.get("type") == "string_too_long":
        return LiveRefused(CloseCode.TOO_LARGE, f"jpeg_b64: a JPEG is at most {MAX_FRAME_JPEG} bytes")
    return LiveRefused(CloseCode.INVALID_MESSAGE, f"{where}: {first.get('msg', 'invalid')}")


def jpeg_bytes(jpeg_b64: str) -> bytes:
    try:
        data = base64.b64decode(jpeg_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LiveRefused(CloseCode.INVALID_MESSAGE, "jpeg_b64: not base64") from exc
    if len(data) > MAX_FRAME_JPEG:
        raise LiveRefused(CloseCode.TOO_LARGE, f"jpeg_b64: a JPEG is at most {MAX_FRAME_JPEG} bytes")
    if not data.startswith(_JPEG_MAGIC):
        raise LiveRefused(CloseCode.INVALID_MESSAGE, "jpeg_b64: not a JPEG image")
    return data
