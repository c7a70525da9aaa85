"""The login limiter on both backends: lock-out after N failures, doubling back-off, reset on
success, forgetting after a quiet window, and atomic counting under concurrency."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from exam_server.sessions.addresses import client_address, parse_networks
from exam_server.sessions.login_limit import LoginLimiter, LoginPolicy, after_failure, retry_after_header

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
POLICY = LoginPolicy(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(seconds=30),
                     max_lockout=timedelta(minutes=4))


def _fail(limiter: LoginLimiter, times: int, at: datetime, key: str = "account:s1") -> float:
    wait = 0.0
    for _ in range(times):
        wait = limiter.record_failure(key, POLICY, at)
    return wait


def test_locks_after_n_failures_and_only_that_key(limiter: LoginLimiter) -> None:
    assert _fail(limiter, 2, T0) == 0
    assert limiter.locked_for(["account:s1"], T0) == 0
    assert _fail(limiter, 1, T0) == 30
    assert limiter.locked_for(["account:s1", "address:1.2.3.4"], T0 + timedelta(seconds=10)) == 20
    assert limiter.locked_for(["account:s2", "address:1.2.3.4"], T0) == 0
    assert limiter.locked_for(["account:s1"], T0 + timedelta(seconds=30)) == 0


def test_back_off_doubles_up_to_the_cap(limiter: LoginLimiter) -> None:
    _fail(limiter, 3, T0)
    now, waits = T0, []
    for _ in range(5):
        now += timedelta(seconds=waits[-1] if waits else 30)
        waits.append(limiter.record_failure("account:s1", POLICY, now))
    assert waits == [60, 120, 240, 240, 240]


def test_success_resets_the_account(limiter: LoginLimiter) -> None:
    _fail(limiter, 3, T0)
    limiter.reset("account:s1")
    assert limiter.locked_for(["account:s1"], T0) == 0
    assert _fail(limiter, 2, T0) == 0  # counting starts again from zero


def test_a_quiet_window_forgets_failures_but_not_inside_it(limiter: LoginLimiter) -> None:
    _fail(limiter, 2, T0)
    assert _fail(limiter, 1, T0 + timedelta(minutes=14)) == 30  # still inside the window: third failure locks
    limiter.reset("account:s1")
    _fail(limiter, 2, T0)
    assert _fail(limiter, 1, T0 + timedelta(minutes=16)) == 0  # quiet for longer than the window


def test_concurrent_failures_are_all_counted(limiter: LoginLimiter) -> None:
    policy = LoginPolicy(max_failures=100, window=timedelta(minutes=15), lockout=timedelta(seconds=30),
                         max_lockout=timedelta(minutes=4))
    threads = [threading.Thread(target=lambda: [limiter.record_failure("address:x", policy, T0)
                                                for _ in range(20)]) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.locked_for(["address:x"], T0) == 30  # exactly the 100th failure locked it
    assert limiter.record_failure("address:x", policy, T0 + timedelta(seconds=30)) == 60


def test_pure_rule_and_header() -> None:
    state = None
    for _ in range(3):
        state = after_failure(state, POLICY, 1000)
    assert state is not None and (state.failures, state.locked_until_ms) == (3, 31000)
    assert retry_after_header(0.2) == "1" and retry_after_header(30.0) == "30" and retry_after_header(30.1) == "31"


def _request(peer: str, forwarded: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 5555), "headers": headers, "method": "POST", "path": "/"})


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.9", ["1.1.1.1"], [], "203.0.113.9"),  # no trusted proxy: the header is ignored
    ("203.0.113.9", ["1.1.1.1"], ["10.0.0.0/8"], "203.0.113.9"),  # peer is not a trusted proxy
    ("10.0.0.2", ["1.1.1.1, 198.51.100.7"], ["10.0.0.0/8"], "198.51.100.7"),  # right-most untrusted hop
    ("10.0.0.2", ["1.1.1.1, 10.0.0.3"], ["10.0.0.0/8"], "1.1.1.1"),  # trusted hops are skipped
    ("10.0.0.2", ["1.1.1.1", "198.51.100.7"], ["10.0.0.0/8"], "198.51.100.7"),  # several headers
    ("10.0.0.2", [], ["10.0.0.2"], "10.0.0.2"),  # no header: the proxy itself
    ("10.0.0.2", ["garbage"], ["10.0.0.0/8"], "garbage"),  # a non-address is a key like any other
    ("::1", ["2001:db8::5"], ["::1"], "2001:db8::5"),
])
def test_client_address(peer: str, forwarded: list[str], trusted: list[str], expected: str) -> None:
    assert client_address(_request(peer, forwarded), parse_networks(trusted)) == expected


def test_bad_trusted_proxy_setting_fails_loudly() -> None:
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.300"])
