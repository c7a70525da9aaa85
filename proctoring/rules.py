"""Detection rules: from a session's observations to flags.

An :class:`Observation` is anything the server learned about a session: a browser event, a
heartbeat, a connection or disconnection, an IP change, a second login, a frame's analysis. The
rules turn the ordered stream of one session into :class:`FlagChange` values: a flag opened (with a
severity and its evidence) or a flag ended. Rules debounce (a blur of 300 ms is no flag) and
measure durations; each rule's numbers and the reason for them are in ``docs/proctoring-rules.md``.

The engine is pure: :class:`RuleState` (JSON-serialisable, stored per session by the app) plus
:func:`step` for one observation and :func:`finish` when the session ends. Three families:

* **interval** rules (tab hidden, window blur, fullscreen exit, second screen): a start event and an
  end event on the client's clock; a flag opens once the violation has lasted ``min_seconds``
  (noticed at the end event or at any later client observation, e.g. a heartbeat) and starts at the
  start event. Shorter ones are ignored.
* **frame** rules (face absent, several faces, not the enrolled face, looking away): ``min_frames``
  consecutive analysed frames spanning ``min_seconds``; a frame without the needed information
  (unusable, or no match computed) neither counts nor resets the run. Frames are analysed on
  workers and may arrive late: one older than the newest frame already taken is ignored.
* **instant** rules (copy/paste/cut, devtools, second login, IP change): one flag per burst; a
  repeat within ``window_seconds`` of the previous one extends the same flag.
* **network drop**: opened by ``heartbeat_missing`` (the sweep job, server clock) and ended by the
  next client observation.

Every change comes as a pair for flags that open and end at once: an opening change (``ended_at``
None) then an ending change with the same ``rule`` and ``started_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    heartbeat_missing (``data``: {"last_seen_at": iso}), ip_changed ({"old", "new"}), second_login,
    frame_analysed (``data``: a FrameAnalysis dict), session_ended."""

    kind: str
    at: datetime
    data: dict[str, Any] | None = None
    event_id: int | None = None
    frame_id: int | None = None


@dataclass(frozen=True)
class FlagChange:
    """A flag opened (``ended_at`` None) or the flag of ``rule`` that started at ``started_at``
    ended (or, for an instant rule's burst, was extended) at ``ended_at``."""

    rule: Rule
    severity: Severity
    started_at: datetime
    ended_at: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


# ---- the numbers (docs/proctoring-rules.md says why) ------------------------------------------

MAX_EVIDENCE_IDS = 50  # frames/events kept in one flag's evidence (the timeline shows them all)
HEARTBEAT_MISSING_S = 15.0  # 3 heartbeat intervals of 5 s (protocol.HEARTBEAT_S)


@dataclass(frozen=True)
class IntervalSpec:
    rule: Rule
    severity: Severity
    min_seconds: float
    classify: Callable[[Observation], bool | None]  # True starts, False ends, None: not this rule


@dataclass(frozen=True)
class FrameSpec:
    rule: Rule
    severity: Severity
    min_frames: int
    min_seconds: float
    classify: Callable[[dict[str, Any]], bool | None]  # True violating, False clear, None: no information


@dataclass(frozen=True)
class InstantSpec:
    rule: Rule
    severity: Severity
    kinds: frozenset[str]
    window_seconds: float


def _pair(start: str, end: str) -> Callable[[Observation], bool | None]:
    def classify(obs: Observation) -> bool | None:
        return True if obs.kind == start else False if obs.kind == end else None
    return classify


def _blur(obs: Observation) -> bool | None:
    # A tab switch also blurs the window: the tab_hidden flag covers it, so hiding ends a blur.
    return True if obs.kind == "window_blur" else False if obs.kind in ("window_focus", "tab_hidden") else None


def _screens(obs: Observation) -> bool | None:
    if obs.kind != "screen_count":
        return None
    screens = (obs.data or {}).get("screens")
    return isinstance(screens, int) and screens > 1


def _usable(a: dict[str, Any]) -> bool:
    return bool(a.get("usable", True))


INTERVALS: tuple[IntervalSpec, ...] = (
    IntervalSpec(Rule.TAB_HIDDEN, Severity.MEDIUM, 2.0, _pair("tab_hidden", "tab_visible")),
    IntervalSpec(Rule.WINDOW_BLUR, Severity.LOW, 2.0, _blur),
    IntervalSpec(Rule.FULLSCREEN_EXIT, Severity.LOW, 3.0, _pair("fullscreen_exit", "fullscreen_enter")),
    IntervalSpec(Rule.SECOND_SCREEN, Severity.MEDIUM, 0.0, _screens),
)
FRAMES: tuple[FrameSpec, ...] = (
    FrameSpec(Rule.FACE_ABSENT, Severity.MEDIUM, 2, 5.0,
              lambda a: None if not _usable(a) else a.get("faces", 0) == 0),
    FrameSpec(Rule.MULTIPLE_FACES, Severity.HIGH, 2, 0.0,
              lambda a: None if not _usable(a) else a.get("faces", 0) >= 2),
    FrameSpec(Rule.FACE_MISMATCH, Severity.HIGH, 3, 0.0,
              lambda a: None if a.get("matches") is None else a.get("matches") is False),
    FrameSpec(Rule.LOOKING_AWAY, Severity.LOW, 3, 10.0,
              lambda a: None if a.get("looking_away") is None else bool(a.get("looking_away"))),
)
INSTANTS: tuple[InstantSpec, ...] = (
    InstantSpec(Rule.COPY_PASTE, Severity.MEDIUM, frozenset({"copy", "paste", "cut"}), 10.0),
    InstantSpec(Rule.DEVTOOLS, Severity.HIGH, frozenset({"devtools_opened"}), 60.0),
    InstantSpec(Rule.SECOND_LOGIN, Severity.HIGH, frozenset({"second_login"}), 0.0),
    InstantSpec(Rule.IP_CHANGE, Severity.MEDIUM, frozenset({"ip_changed"}), 0.0),
)
NETWORK_SEVERITY = Severity.LOW
SEVERITY: dict[Rule, Severity] = ({s.rule: s.severity for s in INTERVALS} | {s.rule: s.severity for s in FRAMES}
                                  | {s.rule: s.severity for s in INSTANTS} | {Rule.NETWORK_DROP: NETWORK_SEVERITY})
INSTANT_RULES = frozenset(s.rule for s in INSTANTS)
FRAME_RULES = frozenset(s.rule for s in FRAMES)

# Observations on the client's clock: only these move client-clock rules forward.
SERVER_CLOCK_KINDS = frozenset({"connected", "disconnected", "heartbeat_missing", "ip_changed", "second_login",
                                "session_ended"})


# ---- state ----------------------------------------------------------------------------------------

def utc(at: datetime) -> datetime:
    """Datetimes from SQLite come back naive; every stored time is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else utc(at).isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else utc(datetime.fromisoformat(text))


@dataclass
class Track:
    """One rule's progress: a pending or open violation and the evidence gathered so far."""

    since: datetime | None = None  # the violation's start (pending or open)
    open: bool = False  # a flag has been opened for it
    run: int = 0  # consecutive violating frames (frame rules)
    last: datetime | None = None  # last violating time (frame rules) or last occurrence (instant rules)
    ids: list[int] = field(default_factory=list)  # event or frame ids of the evidence

    def to_json(self) -> dict[str, Any]:
        return {"since": _iso(self.since), "open": self.open, "run": self.run, "last": _iso(self.last),
                "ids": self.ids}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        return cls(_dt(data.get("since")), bool(data.get("open")), int(data.get("run", 0)), _dt(data.get("last")),
                   [int(i) for i in data.get("ids", [])])

    def add(self, ident: int | None) -> None:
        if ident is not None and len(self.ids) < MAX_EVIDENCE_IDS:
            self.ids.append(ident)


@dataclass
class RuleState:
    """Everything the rules remember about one session (stored as JSON between observations)."""

    tracks: dict[str, Track] = field(default_factory=dict)
    client_at: datetime | None = None  # newest client-clock observation
    frame_at: datetime | None = None  # newest analysed frame taken
    ended: bool = False

    def track(self, rule: Rule) -> Track:
        return self.tracks.setdefault(rule.value, Track())

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "tracks": {k: t.to_json() for k, t in self.tracks.items() if t != Track()},
                "client_at": _iso(self.client_at), "frame_at": _iso(self.frame_at), "ended": self.ended}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RuleState:
        if not data:
            return cls()
        return cls({k: Track.from_json(v) for k, v in data.get("tracks", {}).items()},
                   _dt(data.get("client_at")), _dt(data.get("frame_at")), bool(data.get("ended")))


# ---- the engine -----------------------------------------------------------------------------------

def _evidence(rule: Rule, track: Track, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    key = "frames" if rule in FRAME_RULES else "events"
    out: dict[str, Any] = {key: list(track.ids)}
    if detail:
        out["detail"] = detail
    return out


def _opened(rule: Rule, track: Track, detail: dict[str, Any] | None = None) -> FlagChange:
    track.open = True
    assert track.since is not None
    return FlagChange(rule, SEVERITY[rule], track.since, None, _evidence(rule, track, detail))


def _ended(rule: Rule, track: Track, at: datetime) -> FlagChange:
    assert track.since is not None
    return FlagChange(rule, SEVERITY[rule], track.since, max(at, track.since), _evidence(rule, track))


def _interval_tick(spec: IntervalSpec, track: Track, at: datetime) -> list[FlagChange]:
    """Open a pending violation that has now lasted long enough."""
    if track.since is None or track.open or (at - track.since).total_seconds() < spec.min_seconds:
        return []
    return [_opened(spec.rule, track, {"min_seconds": spec.min_seconds})]


def _interval(spec: IntervalSpec, track: Track, obs: Observation, at: datetime) -> list[FlagChange]:
    verdict = spec.classify(obs)
    if verdict is None:
        return _interval_tick(spec, track, at)
    if verdict:
        if track.since is None:  # a repeated start (blur, blur) keeps the first one
            track.since = at
        track.add(obs.event_id)
        return _interval_tick(spec, track, at)
    if track.since is None:  # an end without a start: nothing to end
        return []
    track.add(obs.event_id)
    changes = _interval_tick(spec, track, at)
    if track.open:
        changes.append(_ended(spec.rule, track, at))
    track.since, track.open, track.ids = None, False, []
    return changes


def _frame(spec: FrameSpec, track: Track, analysis: dict[str, Any], obs: Observation, at: datetime) -> list[FlagChange]:
    verdict = spec.classify(analysis)
    if verdict is None:
        return []
    if not verdict:
        changes = [_ended(spec.rule, track, at)] if track.open else []
        track.since, track.open, track.run, track.last, track.ids = None, False, 0, None, []
        return changes
    if track.since is None:
        track.since = at
    track.run += 1
    track.last = at
    track.add(obs.frame_id)
    if track.open or track.run < spec.min_frames or (at - track.since).total_seconds() < spec.min_seconds:
        return []
    return [_opened(spec.rule, track, {"min_frames": spec.min_frames, "min_seconds": spec.min_seconds})]


def _instant(spec: InstantSpec, track: Track, obs: Observation, at: datetime) -> list[FlagChange]:
    detail = {"kind": obs.kind, **(obs.data or {})}
    if track.last is not None and track.since is not None and (at - track.last).total_seconds() <= spec.window_seconds \
            and at >= track.last:
        track.last = at
        track.ids = []
        track.add(obs.event_id)
        return [FlagChange(spec.rule, spec.severity, track.since, at, {"events": list(track.ids), "detail": detail})]
    track.since, track.last, track.ids = at, at, []
    track.add(obs.event_id)
    opened = FlagChange(spec.rule, spec.severity, at, None, {"events": list(track.ids), "detail": detail})
    return [opened, FlagChange(spec.rule, spec.severity, at, at, {"events": []})]


def _network(state: RuleState, obs: Observation, at: datetime) -> list[FlagChange]:
    track = state.track(Rule.NETWORK_DROP)
    if obs.kind == "heartbeat_missing":
        if track.open:
            return []
        seen = _dt((obs.data or {}).get("last_seen_at")) or state.client_at
        if seen is None or (at - seen).total_seconds() < HEARTBEAT_MISSING_S:
            return []
        track.since, track.last = seen, at
        return [_opened(Rule.NETWORK_DROP, track, {"last_seen_at": _iso(seen), "noticed_at": _iso(at)})]
    if track.open and obs.kind in ("connected", "heartbeat"):
        # Events the client buffered offline carry old times; the drop lasted at least until noticed.
        change = _ended(Rule.NETWORK_DROP, track, max(at, track.last or at))
        state.tracks.pop(Rule.NETWORK_DROP.value)
        return [change]
    return []


def _frame_step(state: RuleState, obs: Observation, at: datetime) -> list[FlagChange]:
    if state.frame_at is not None and at <= state.frame_at:
        return []  # a late (or repeated) frame: the run it belonged to has been judged already
    state.frame_at = at
    analysis = obs.data or {}
    changes: list[FlagChange] = []
    for spec in FRAMES:
        changes += _frame(spec, state.track(spec.rule), analysis, obs, at)
    return changes


def step(state: RuleState, obs: Observation) -> list[FlagChange]:
    """Feed one observation; returns the flags it opened or ended (and updates ``state``)."""
    if state.ended:
        return []
    at = utc(obs.at)
    if obs.kind == "session_ended":
        return finish(state, at)
    changes = _network(state, obs, at)
    for spec in INSTANTS:
        if obs.kind in spec.kinds:
            return changes + _instant(spec, state.track(spec.rule), obs, at)
    if obs.kind == "frame_analysed":
        return changes + _frame_step(state, obs, at)
    if obs.kind in SERVER_CLOCK_KINDS:
        return changes
    if state.client_at is not None and at < state.client_at:
        return changes  # older than what the browser already told us: out of order, ignored
    state.client_at = at
    hidden = state.track(Rule.TAB_HIDDEN).since is not None
    for ispec in INTERVALS:
        if ispec.rule == Rule.WINDOW_BLUR and hidden and obs.kind == "window_blur":
            continue  # blurred because the tab is hidden: one act, one flag
        changes += _interval(ispec, state.track(ispec.rule), obs, at)
    return changes


def finish(state: RuleState, at: datetime) -> list[FlagChange]:
    """The session ended at ``at``: open flags end there, long-enough pending ones open and end."""
    at = utc(at)
    changes: list[FlagChange] = []
    for ispec in INTERVALS:
        track = state.track(ispec.rule)
        changes += _interval_tick(ispec, track, at)
        if track.open:
            changes.append(_ended(ispec.rule, track, at))
    for fspec in FRAMES:
        track = state.track(fspec.rule)
        if track.open:
            changes.append(_ended(fspec.rule, track, max(at, track.last or at)))
    net = state.track(Rule.NETWORK_DROP)
    if net.open:
        changes.append(_ended(Rule.NETWORK_DROP, net, at))
    state.tracks.clear()
    state.ended = True
    return changes
