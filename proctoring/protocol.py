"""The proctoring WebSocket protocol, version 1: every message as a pydantic model.

Endpoints (served by ``exam_server``):

* ``/ws/proctoring/attempts/{attempt_id}``: the candidate's exam page.
* ``/ws/proctoring/exams/{exam_id}/wall?room={exam_room_id}``: a proctor's live wall.

Frames are JSON text, one message each, ``{"v": 1, "type": "...", ...}``; at most
:data:`MAX_TEXT_FRAME` bytes (a webcam frame is a base64 JPEG of at most :data:`MAX_FRAME_JPEG`
bytes). The first client message must be ``auth`` within :data:`AUTH_TIMEOUT_S` seconds.

Client events carry a ``seq`` that increases by one per event over the whole attempt (across
reconnects). The server stores each seq once: on reconnect ``hello`` tells the client the last seq
stored (``resume_from``) and the client resends only later ones, in order. ``ack`` confirms storage.

Errors close the connection with an application close code (:class:`CloseCode`) and a reason text;
nothing half-written stays behind (each message is one short transaction). The full description
with examples lives in ``docs/proctoring-protocol.md``; its JSON schema is generated from this
module by :func:`json_schema`.
"""

from __future__ import annotations

import json
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, field_validator

VERSION = 1
MAX_TEXT_FRAME = 256 * 1024
MAX_FRAME_JPEG = 150 * 1024
AUTH_TIMEOUT_S = 10
HEARTBEAT_S = 5  # the client sends a heartbeat this often
MAX_BUFFERED_EVENTS = 500  # a client sends at most this many events in one resume batch
# Per connection, a token bucket: RATE_PER_S messages a second on average, bursts up to RATE_BURST
# (a resume batch of MAX_BUFFERED_EVENTS fits). Above it the server closes with RATE_LIMITED.
RATE_PER_S = 10
RATE_BURST = MAX_BUFFERED_EVENTS + 50
MAX_EVENT_DATA = 2048  # bytes of a browser event's ``data`` as JSON
CONSENT_NOTICE_VERSION = "1"  # the 告知 text the check-in shows; a new text gets a new version


class CloseCode(IntEnum):
    """WebSocket close codes (4000-4999 are for applications, RFC 6455 section 7.4.2)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down: reconnect
    BAD_JSON = 4400  # not JSON, or not an object
    UNKNOWN_TYPE = 4401  # type or version not known
    INVALID_MESSAGE = 4402  # a field is wrong (the reason names it)
    TOO_LARGE = 4413  # frame above MAX_TEXT_FRAME, or a JPEG above MAX_FRAME_JPEG
    UNAUTHENTICATED = 4001  # no auth in time, bad or expired or revoked token
    FORBIDDEN = 4003  # not this user's attempt, or not this proctor's exam/room
    NOT_FOUND = 4004  # attempt or exam does not exist
    NOT_PROCTORED = 4009  # proctoring is not enabled for this exam, or the attempt is closed
    SUPERSEDED = 4010  # a newer connection of the same attempt took over
    TERMINATED = 4020  # a proctor ended the attempt
    RATE_LIMITED = 4029  # too many messages per second
    SERVER_ERROR = 4500


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


# ---- client -> server (candidate) ---------------------------------------------------------------

class Auth(_Msg):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096, description="the access token of the signed-in user")
    last_seq: int = Field(0, ge=0, description="the highest seq the client has sent (for resume)")
    device_id: str | None = Field(None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                  description="a random id the page keeps in localStorage: tells a "
                                              "reconnect of this device from a second login")


class Consent(_Msg):
    type: Literal["consent"]
    accepted: bool
    notice_version: str = Field(min_length=1, max_length=20)
    language: Literal["zh", "en"] = "zh"


class IdentityFrame(_Msg):
    """A live frame for the identity check (base64 JPEG)."""

    type: Literal["identity_frame"]
    jpeg_b64: str = Field(min_length=4, max_length=MAX_FRAME_JPEG * 4 // 3 + 8)


class Heartbeat(_Msg):
    type: Literal["heartbeat"]
    seq: int = Field(ge=1)
    at: AwareDatetime = Field(description="the client's clock, with a time zone offset")


class Frame(_Msg):
    """A monitoring frame (a small JPEG every few seconds)."""

    type: Literal["frame"]
    seq: int = Field(ge=1)
    at: AwareDatetime = Field(description="the client's clock, with a time zone offset")
    jpeg_b64: str = Field(min_length=4, max_length=MAX_FRAME_JPEG * 4 // 3 + 8)


class BrowserEventKind(StrEnum):
    TAB_HIDDEN = "tab_hidden"
    TAB_VISIBLE = "tab_visible"
    WINDOW_BLUR = "window_blur"
    WINDOW_FOCUS = "window_focus"
    FULLSCREEN_EXIT = "fullscreen_exit"
    FULLSCREEN_ENTER = "fullscreen_enter"
    COPY = "copy"
    PASTE = "paste"
    CUT = "cut"
    DEVTOOLS_OPENED = "devtools_opened"
    SCREEN_COUNT = "screen_count"  # data: {"screens": n}
    CAMERA_LOST = "camera_lost"
    CAMERA_RESTORED = "camera_restored"


class BrowserEvent(_Msg):
    type: Literal["event"]
    seq: int = Field(ge=1)
    at: AwareDatetime = Field(description="the client's clock, with a time zone offset")
    kind: BrowserEventKind
    data: dict[str, Any] | None = None

    @field_validator("data")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, separators=(",", ":"))) > MAX_EVENT_DATA:
            raise ValueError(f"at most {MAX_EVENT_DATA} bytes of data as JSON")
        return value


CandidateMessage = Annotated[Auth | Consent | IdentityFrame | Heartbeat | Frame | BrowserEvent,
                             Field(discriminator="type")]


# ---- client -> server (proctor wall) ------------------------------------------------------------

class ProctorCommandKind(StrEnum):
    WARN = "warn"
    PAUSE = "pause"
    RESUME = "resume"
    TERMINATE = "terminate"
    ADMIT = "admit"  # after a manual identity check


class ProctorCommand(_Msg):
    type: Literal["command"]
    session_id: int
    command: ProctorCommandKind
    message: str | None = Field(None, max_length=500, description="shown to the candidate (warn)")
    request_id: str | None = Field(None, max_length=40)


ProctorMessage = Annotated[Auth | ProctorCommand, Field(discriminator="type")]


# ---- server -> client ---------------------------------------------------------------------------

class Hello(_Msg):
    type: Literal["hello"] = "hello"
    session_id: int
    state: str
    resume_from: int = Field(description="the last seq stored; resend later ones")
    heartbeat_s: int = HEARTBEAT_S
    consent_required: bool
    identity_required: bool
    notice_version: str


class Ack(_Msg):
    type: Literal["ack"] = "ack"
    seq: int


class IdentityResult(_Msg):
    type: Literal["identity_result"] = "identity_result"
    status: str  # passed, failed, manual_pending, impossible
    reason: str | None = None


class Control(_Msg):
    """A proctor's act reaching the candidate's page: the page obeys pause and terminate."""

    type: Literal["control"] = "control"
    action: Literal["warn", "pause", "resume", "terminate", "admit"]
    message: str | None = None


class ErrorMessage(_Msg):
    """A recoverable problem with one message (the connection stays open)."""

    type: Literal["error"] = "error"
    code: str
    detail: str
    seq: int | None = None


class WallUpdate(_Msg):
    """What a proctor's wall receives: a session's status, a new or ended flag, a command's result."""

    type: Literal["session", "flag", "command_result"]
    exam_id: int
    exam_room_id: int | None
    session_id: int
    payload: dict[str, Any]


_CANDIDATE = TypeAdapter(CandidateMessage)
_PROCTOR = TypeAdapter(ProctorMessage)


def parse_candidate(raw: dict[str, Any]) -> Auth | Consent | IdentityFrame | Heartbeat | Frame | BrowserEvent:
    """Validate one candidate message (raises pydantic.ValidationError)."""
    return _CANDIDATE.validate_python(raw)


def parse_proctor(raw: dict[str, Any]) -> Auth | ProctorCommand:
    return _PROCTOR.validate_python(raw)


def json_schema() -> dict[str, Any]:
    """The protocol's JSON schema (written to docs/proctoring-protocol.schema.json)."""
    return {"candidate_to_server": _CANDIDATE.json_schema(), "proctor_to_server": _PROCTOR.json_schema(),
            "server_to_client": {m.__name__: m.model_json_schema()
                                 for m in (Hello, Ack, IdentityResult, Control, ErrorMessage, WallUpdate)}}
