"""Sign-in over HTTP on both databases: lock-out with 429 + Retry-After, reset on success, the
per-address limit (and X-Forwarded-For only from a trusted proxy), Redis-shared counting, and
one password verify whether or not the user exists."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from support import PASSWORD, START, World, make_runtime

from exam_server.app import create_app
from exam_server.clock import ManualClock
from exam_server.runtime import Runtime
from exam_server.sessions.passwords import Passwords


def _login(client: TestClient, username: str, password: str, **kwargs: Any) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password}, **kwargs)


def test_account_locks_after_five_failures_and_success_resets(world: World) -> None:
    for _ in range(4):
        assert _login(world.client, "s1", "wrong-pass").status_code == 401
    fifth = _login(world.client, "s1", "wrong-pass")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "30"
    assert fifth.json()["error"] == "TooManyAttempts" and fifth.json()["retry_after"] == 30
    assert "30 s" in fifth.json()["detail"]
    # Locked: even the right password is not checked, and other accounts are not affected.
    locked = _login(world.client, "s1", PASSWORD)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
    world.clock.advance(seconds=12)
    assert _login(world.client, "s1", PASSWORD).headers["Retry-After"] == "18"
    assert _login(world.client, "s2", PASSWORD).status_code == 200
    world.clock.advance(seconds=18)
    assert _login(world.client, "s1", PASSWORD).status_code == 200
    # The success cleared the account's count: four more failures are allowed before a lock.
    for _ in range(4):
        assert _login(world.client, "s1", "wrong-pass").status_code == 401
    again = _login(world.client, "s1", "wrong-pass")
    assert again.status_code == 429 and again.headers["Retry-After"] == "30"


def test_a_locked_account_backs_off_exponentially(world: World) -> None:
    for _ in range(5):
        _login(world.client, "s1", "wrong-pass")
    world.clock.advance(seconds=30)
    assert _login(world.client, "s1", "wrong-pass").headers["Retry-After"] == "60"
    world.clock.advance(seconds=60)
    assert _login(world.client, "s1", "wrong-pass").headers["Retry-After"] == "120"


@pytest.fixture
def bare_runtime(database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, ManualClock]]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, login_max_failures_per_address=3,
                           trusted_proxies=["10.0.0.0/8"])
    yield runtime, clock
    runtime.close()


def test_address_limit_spans_usernames_and_trusts_only_listed_proxies(
        bare_runtime: tuple[Runtime, ManualClock]) -> None:
    runtime, _ = bare_runtime
    app = create_app(runtime=runtime)
    attacker = TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 4000))
    for name in ("ghost1", "ghost2"):
        assert _login(attacker, name, "x").status_code == 401
    assert _login(attacker, "ghost3", "x").status_code == 429
    # A forged X-Forwarded-For from an untrusted peer changes nothing.
    assert _login(attacker, "ghost4", "x", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    # Through the trusted proxy each client is counted on its own forwarded address.
    proxy = TestClient(app, raise_server_exceptions=False, client=("10.0.0.2", 4000))
    assert _login(proxy, "ghost5", "x", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 401
    assert _login(proxy, "ghost6", "x", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_redis_counts_failures_across_api_processes(database_url: str, tmp_path: Path, redis_url: str) -> None:
    namespace = f"exam-test-{uuid.uuid4().hex[:8]}"
    clock = ManualClock(START)
    runtimes = [make_runtime(database_url, tmp_path, clock, redis_url=redis_url, queue_namespace=namespace)
                for _ in range(2)]
    clients = [TestClient(create_app(runtime=r), raise_server_exceptions=False) for r in runtimes]
    try:
        for attempt in range(5):
            status = _login(clients[attempt % 2], "ghost", "x").status_code
        assert status == 429
        assert _login(clients[0], "ghost", "x").headers["Retry-After"] == "30"
    finally:
        for runtime in runtimes:
            runtime.close()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)


class CountingPasswords(Passwords):
    """The real hasher, counting verifies (the injected boundary, not a mock)."""

    def __init__(self) -> None:
        super().__init__()
        self.verifies = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifies += 1
        return super().verify(password_hash, password)


def test_unknown_user_and_wrong_password_both_cost_one_verify(world: World) -> None:
    passwords = CountingPasswords()
    world.runtime.sessions.passwords = passwords
    cases = [("ghost", "nope-nope"), ("s1", "nope-nope")]
    world.ok("POST", f"/api/users/{_user_id(world, 's2')}/deactivate", "admin")
    cases.append(("s2", PASSWORD))  # a disabled account, even with its right password
    for username, password in cases:
        before = passwords.verifies
        r = _login(world.client, username, password)
        assert r.status_code == 401 and r.json()["detail"] == "username or password is wrong"
        assert passwords.verifies == before + 1, username
    # The dummy hash uses the current parameters, so it costs what a real one does.
    assert not passwords.needs_rehash(passwords._dummy_hash())


def _user_id(world: World, username: str) -> int:
    r = world.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    return int(r.json()["user"]["id"])


def test_login_page_strings_exist_in_both_languages() -> None:
    from exam_server.web.i18n import EN, ZH

    for strings in (EN, ZH):
        assert "{seconds}" in strings["login_too_many"]


