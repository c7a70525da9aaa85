"""Table tests of every detection rule: debounce boundaries, out-of-order, end without start, session end."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proctoring.rules import (
    FlagChange,
    Observation,
    Rule,
    RuleState,
    Severity,
    finish,
    step,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(kind: str, seconds: float, data: dict[str, Any] | None = None, event_id: int | None = None) -> Observation:
    return Observation(kind, at(seconds), data, event_id=event_id)


def frame(seconds: float, frame_id: int, **analysis: Any) -> Observation:
    return Observation("frame_analysed", at(seconds), {"faces": 1, "usable": True, **analysis}, frame_id=frame_id)


def run(observations: list[Observation], end: float | None = None) -> list[FlagChange]:
    """Feed observations one by one through a JSON round trip (as the service stores the state)."""
    state = RuleState()
    changes: list[FlagChange] = []
    for obs in observations:
        changes += step(state, obs)
        state = RuleState.from_json(state.to_json())
    if end is not None:
        changes += finish(state, at(end))
    return changes


def spans(changes: list[FlagChange]) -> list[tuple[str, float, float | None]]:
    """Each flag as (rule, start s, end s or None), ends merged into their openings."""
    flags: dict[tuple[str, datetime], float | None] = {}
    for c in changes:
        key = (c.rule.value, c.started_at)
        if c.ended_at is None:
            assert key not in flags, f"flag opened twice: {key}"
            flags[key] = None
        else:
            assert key in flags, f"end without an opening: {c}"
            flags[key] = (c.ended_at - T0).total_seconds()
    return [(rule, (start - T0).total_seconds(), end) for (rule, start), end in flags.items()]


# ---- interval rules -------------------------------------------------------------------------------

INTERVAL_CASES = [
    # (name, observations, end, expected spans)
    ("blur under 2 s is ignored", [ev("window_blur", 0), ev("window_focus", 1.99)], None, []),
    ("blur of exactly 2 s flags", [ev("window_blur", 0), ev("window_focus", 2)], None, [("window_blur", 0, 2)]),
    ("blur noticed by a heartbeat before focus", [ev("window_blur", 0), ev("heartbeat", 5)], None,
     [("window_blur", 0, None)]),
    ("heartbeat before the debounce keeps it pending",
     [ev("window_blur", 0), ev("heartbeat", 1), ev("window_focus", 1.5)], None, []),
    ("focus without blur ends nothing", [ev("window_focus", 3)], None, []),
    ("repeated blur keeps the first start", [ev("window_blur", 0), ev("window_blur", 4), ev("window_focus", 6)], None,
     [("window_blur", 0, 6)]),
    ("tab hidden 10 s", [ev("tab_hidden", 0), ev("tab_visible", 10)], None, [("tab_hidden", 0, 10)]),
    ("tab hidden 1.5 s ignored", [ev("tab_hidden", 0), ev("tab_visible", 1.5)], None, []),
    ("a tab switch is one flag, not blur + hidden",
     [ev("window_blur", 0), ev("tab_hidden", 0.05), ev("window_blur", 0.1), ev("tab_visible", 30),
      ev("window_focus", 30)],
     None, [("tab_hidden", 0.05, 30)]),
    ("fullscreen exit under 3 s ignored", [ev("fullscreen_exit", 0), ev("fullscreen_enter", 2.9)], None, []),
    ("fullscreen exit of 3 s flags", [ev("fullscreen_exit", 0), ev("fullscreen_enter", 3)], None,
     [("fullscreen_exit", 0, 3)]),
    ("second screen flags at once and ends when one screen",
     [ev("screen_count", 0, {"screens": 2}), ev("screen_count", 40, {"screens": 1})], None,
     [("second_screen", 0, 40)]),
    ("one screen is no flag", [ev("screen_count", 0, {"screens": 1})], None, []),
    ("a malformed screen count is not a second screen", [ev("screen_count", 0, {"screens": "2"})], None, []),
    ("out of order: an older event is ignored",
     [ev("tab_hidden", 10), ev("tab_visible", 20), ev("tab_hidden", 5)], 100, [("tab_hidden", 10, 20)]),
    ("session end closes an open flag", [ev("tab_hidden", 0), ev("heartbeat", 5)], 60, [("tab_hidden", 0, 60)]),
    ("session end opens and closes a long pending one", [ev("tab_hidden", 0)], 60, [("tab_hidden", 0, 60)]),
    ("session end drops a short pending one", [ev("window_blur", 0)], 1, []),
]


@pytest.mark.parametrize(("name", "observations", "end", "expected"), INTERVAL_CASES,
                         ids=[c[0] for c in INTERVAL_CASES])
def test_interval_rules(name: str, observations: list[Observation], end: float | None,
                        expected: list[tuple[str, float, float | None]]) -> None:
    assert spans(run(observations, end)) == expected


def test_interval_evidence_names_the_events_and_severity() -> None:
    changes = run([ev("tab_hidden", 0, event_id=7), ev("tab_visible", 9, event_id=8)])
    assert [c.ended_at is None for c in changes] == [True, False]
    assert changes[0].severity == Severity.MEDIUM and changes[0].evidence["events"] == [7, 8]


# ---- frame rules ----------------------------------------------------------------------------------

FRAME_CASES = [
    ("one empty frame is no flag", [frame(0, 1, faces=0), frame(10, 2)], None, []),
    ("two empty frames 5 s apart flag", [frame(0, 1, faces=0), frame(5, 2, faces=0), frame(10, 3)], None,
     [("face_absent", 0, 10)]),
    ("two empty frames 4 s apart are not yet enough", [frame(0, 1, faces=0), frame(4, 2, faces=0), frame(8, 3)], None,
     []),
    ("an unusable frame neither counts nor resets",
     [frame(0, 1, faces=0), frame(5, 2, faces=0, usable=False), frame(10, 3, faces=0), frame(15, 4)], None,
     [("face_absent", 0, 15)]),
    ("a face in between resets the run", [frame(0, 1, faces=0), frame(5, 2), frame(10, 3, faces=0)], None, []),
    ("two faces twice flags", [frame(0, 1, faces=2), frame(5, 2, faces=3), frame(10, 3)], None,
     [("multiple_faces", 0, 10)]),
    ("two faces once is no flag", [frame(0, 1, faces=2), frame(5, 2)], None, []),
    ("mismatch needs 3 frames", [frame(0, 1, matches=False), frame(5, 2, matches=False), frame(10, 3, matches=True)],
     None, []),
    ("mismatch 3 frames flags", [frame(0, 1, matches=False), frame(5, 2, matches=False), frame(10, 3, matches=False),
                                 frame(15, 4, matches=True)], None, [("face_mismatch", 0, 15)]),
    ("no match computed is neutral for mismatch",
     [frame(0, 1, matches=False), frame(5, 2, faces=0, matches=None), frame(10, 3, matches=False),
      frame(15, 4, matches=False)], None, [("face_mismatch", 0, None)]),
    ("looking away 3 frames over 10 s", [frame(0, 1, looking_away=True), frame(5, 2, looking_away=True),
                                         frame(10, 3, looking_away=True), frame(15, 4, looking_away=False)], None,
     [("looking_away", 0, 15)]),
    ("looking away not estimated is no flag", [frame(i * 5, i) for i in range(5)], None, []),
    ("a late frame is ignored", [frame(0, 1, faces=0), frame(10, 2, faces=0), frame(5, 3), frame(20, 4)], None,
     [("face_absent", 0, 20)]),
    ("session end closes an open face flag", [frame(0, 1, faces=0), frame(10, 2, faces=0)], 100,
     [("face_absent", 0, 100)]),
]


@pytest.mark.parametrize(("name", "observations", "end", "expected"), FRAME_CASES, ids=[c[0] for c in FRAME_CASES])
def test_frame_rules(name: str, observations: list[Observation], end: float | None,
                     expected: list[tuple[str, float, float | None]]) -> None:
    assert spans(run(observations, end)) == expected


def test_frame_flag_evidence_lists_its_frames() -> None:
    changes = run([frame(0, 11, faces=0), frame(5, 12, faces=0), frame(10, 13, faces=0), frame(15, 14)])
    assert changes[0].evidence["frames"] == [11, 12]
    assert changes[-1].evidence["frames"] == [11, 12, 13] and changes[-1].severity == Severity.MEDIUM


# ---- instant rules and the network ----------------------------------------------------------------

INSTANT_CASES = [
    ("one copy is one flag", [ev("copy", 0)], [("copy_paste", 0, 0)]),
    ("copy then paste within 10 s is one burst", [ev("copy", 0), ev("paste", 10)], [("copy_paste", 0, 10)]),
    ("a paste 10.5 s later is a second flag", [ev("copy", 0), ev("paste", 10.5)],
     [("copy_paste", 0, 0), ("copy_paste", 10.5, 10.5)]),
    ("devtools repeats within a minute are one flag", [ev("devtools_opened", 0), ev("devtools_opened", 59)],
     [("devtools", 0, 59)]),
    ("each second login is a flag", [ev("second_login", 0), ev("second_login", 1)],
     [("second_login", 0, 0), ("second_login", 1, 1)]),
    ("an IP change", [ev("ip_changed", 3, {"old": "10.0.0.1", "new": "10.0.0.2"})], [("ip_change", 3, 3)]),
    ("heartbeat missing 15 s after last seen opens a drop, a heartbeat ends it",
     [ev("heartbeat", 0), ev("heartbeat_missing", 15, {"last_seen_at": at(0).isoformat()}), ev("heartbeat", 40)],
     [("network_drop", 0, 40)]),
    ("heartbeat missing under 15 s is nothing",
     [ev("heartbeat_missing", 14.9, {"last_seen_at": at(0).isoformat()})], []),
    ("buffered old events do not end a drop; the drop lasts at least until noticed",
     [ev("heartbeat_missing", 20, {"last_seen_at": at(0).isoformat()}), ev("tab_hidden", 5), ev("connected", 18)],
     [("network_drop", 0, 20)]),
    ("a second heartbeat_missing does not open a second drop",
     [ev("heartbeat_missing", 20, {"last_seen_at": at(0).isoformat()}),
      ev("heartbeat_missing", 50, {"last_seen_at": at(0).isoformat()})], [("network_drop", 0, None)]),
]


@pytest.mark.parametrize(("name", "observations", "expected"), INSTANT_CASES, ids=[c[0] for c in INSTANT_CASES])
def test_instant_and_network_rules(name: str, observations: list[Observation],
                                   expected: list[tuple[str, float, float | None]]) -> None:
    assert spans(run(observations)) == expected


def test_severities() -> None:
    sev = {c.rule: c.severity for c in run([ev("second_login", 0), ev("devtools_opened", 1), ev("copy", 2),
                                             ev("ip_changed", 3)])}
    assert sev == {Rule.SECOND_LOGIN: Severity.HIGH, Rule.DEVTOOLS: Severity.HIGH,
                   Rule.COPY_PASTE: Severity.MEDIUM, Rule.IP_CHANGE: Severity.MEDIUM}


def test_session_end_closes_everything_and_ignores_later_observations() -> None:
    state = RuleState()
    for obs in [ev("tab_hidden", 0), ev("heartbeat", 5), ev("screen_count", 6, {"screens": 2}),
                frame(0, 1, faces=2), frame(5, 2, faces=2),
                ev("heartbeat_missing", 30, {"last_seen_at": at(6).isoformat()})]:
        step(state, obs)
    closing = step(state, Observation("session_ended", at(60)))
    assert {(c.rule.value, c.ended_at) for c in closing} == {
        ("tab_hidden", at(60)), ("second_screen", at(60)), ("multiple_faces", at(60)), ("network_drop", at(60))}
    assert step(state, ev("tab_hidden", 70)) == [] and step(state, ev("copy", 71)) == []
    assert RuleState.from_json(state.to_json()).ended


def test_state_round_trips_through_json_with_naive_times() -> None:
    state = RuleState()
    step(state, Observation("tab_hidden", datetime(2026, 11, 24, 9, 0)))  # naive: as SQLite returns
    data = state.to_json()
    assert data["tracks"]["tab_hidden"]["since"] == "2026-11-24T09:00:00+00:00"
    again = RuleState.from_json(data)
    assert [c.rule for c in step(again, ev("tab_visible", 10))] == [Rule.TAB_HIDDEN, Rule.TAB_HIDDEN]
