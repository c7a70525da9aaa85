"""Detection rules: from a session's observations to flags (contract; the rules themselves follow).

An :class:`Observation` is anything the server learned about a session: a browser event, a
heartbeat, a connection or disconnection, an IP change, a second login, a frame's analysis. The
rules turn the ordered stream of one session into :class:`FlagChange` values: a flag opened (with a
severity and its evidence) or an open flag ended. Rules debounce (a blur of 300 ms is no flag) and
measure durations; each rule's thresholds are documented in ``docs/proctoring-rules.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    FACE_ABSENT = "face_absent"
    MULTIPLE_FACES = "multiple_faces"
    FACE_MISMATCH = "face_mismatch"
    LOOKING_AWAY = "looking_away"
    TAB_HIDDEN = "tab_hidden"
    WINDOW_BLUR = "window_blur"
    FULLSCREEN_EXIT = "fullscreen_exit"
    COPY_PASTE = "copy_paste"
    DEVTOOLS = "devtools"
    SECOND_SCREEN = "second_screen"
    NETWORK_DROP = "network_drop"
    SECOND_LOGIN = "second_login"
    IP_CHANGE = "ip_change"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Observation:
    """One thing learned about a session. ``kind`` is a browser event kind
    (:class:`proctoring.protocol.BrowserEventKind`) or one of: heartbeat, connected, disconnected,
    heartbeat_missing, ip_changed, second_login, frame_analysed (``data``: a FrameAnalysis dict)."""

    kind: str
    at: datetime
    data: dict[str, Any] | None = None
    event_id: int | None = None
    frame_id: int | None = None


@dataclass(frozen=True)
class FlagChange:
    """A flag opened (``ended_at`` None) or an open flag of ``rule`` ended at ``ended_at``."""

    rule: Rule
    severity: Severity
    started_at: datetime
    ended_at: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
