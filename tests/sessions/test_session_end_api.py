"""Ending sessions over HTTP on both databases: a reused refresh token ends its whole sign-in,
logout and sign-out-everywhere end access tokens at once, deactivation too, a restart keeps all
of it (the store is refilled from the database), and on Redis every API process sees it."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from support import PASSWORD, START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.runtime import Runtime


def _me(client: TestClient, access: str) -> int:
    return client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code


def _refresh(client: TestClient, refresh: str) -> int:
    return client.post("/api/auth/refresh", json={"refresh_token": refresh}).status_code


def _second_sign_in(world: World, username: str) -> tuple[str, str]:
    r = world.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"], r.json()["refresh_token"]


def test_reused_refresh_token_ends_the_whole_family(world: World) -> None:
    other_access, other_refresh = _second_sign_in(world, "s1")  # another device: another family
    stolen = world.tokens["s1:refresh"]
    world.refresh("s1")  # the owner rotates; the thief keeps the old token
    world.clock.advance(seconds=31)
    reused = world.client.post("/api/auth/refresh", json={"refresh_token": stolen})
    assert reused.status_code == 401 and reused.json()["error"] == "InvalidToken"
    assert "every session of this sign-in" in reused.json()["detail"]
    # The family's newest tokens are dead too: refresh and, at once, access.
    assert _refresh(world.client, world.tokens["s1:refresh"]) == 401
    r = world.call("GET", "/api/auth/me", "s1")
    assert r.status_code == 401 and "signed out" in r.json()["detail"]
    # Other sign-ins of the same user and other users are untouched.
    assert _me(world.client, other_access) == 200 and _refresh(world.client, other_refresh) == 200
    assert world.call("GET", "/api/auth/me", "s2").status_code == 200


def test_rotation_within_grace_keeps_the_family_alive(world: World) -> None:
    old = world.tokens["s1:refresh"]
    world.refresh("s1")
    world.clock.advance(seconds=10)
    assert _refresh(world.client, old) == 200  # a second tab, inside the grace period
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200
    assert _refresh(world.client, world.tokens["s1:refresh"]) == 200


@pytest.mark.parametrize("send", ["refresh-body", "access-header", "both"])
def test_logout_ends_the_access_token_at_once(world: World, send: str) -> None:
    other_access, _ = _second_sign_in(world, "s1")
    world.refresh("s1")  # a rotated family: logout must end the newest tokens
    body = {"refresh_token": world.tokens["s1:refresh"]} if send != "access-header" else {}
    headers = world.headers("s1") if send != "refresh-body" else {}
    assert world.client.post("/api/auth/logout", json=body, headers=headers).status_code == 204
    assert world.call("GET", "/api/auth/me", "s1").status_code == 401
    assert _refresh(world.client, world.tokens["s1:refresh"]) == 401
    assert _me(world.client, other_access) == 200


def test_logout_never_fails(world: World) -> None:
    for body, headers in [({}, {}), ({"refresh_token": "garbage"}, {"Authorization": "Bearer garbage"})]:
        assert world.client.post("/api/auth/logout", json=body, headers=headers).status_code == 204
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200


def test_logout_all_ends_every_session_of_the_caller_only(world: World) -> None:
    other_access, other_refresh = _second_sign_in(world, "s1")
    world.clock.advance(seconds=1)
    assert world.call("POST", "/api/auth/logout-all", "s1").status_code == 204
    for access in (world.tokens["s1"], other_access):
        assert _me(world.client, access) == 401
    for refresh in (world.tokens["s1:refresh"], other_refresh):
        assert _refresh(world.client, refresh) == 401
    assert world.call("GET", "/api/auth/me", "s2").status_code == 200
    assert world.call("GET", "/api/auth/me", "teacher").status_code == 200
    # A new sign-in right after works (tokens issued at or after the instant are valid).
    world.login("s1")
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200
    assert world.client.post("/api/auth/logout-all").status_code == 401  # needs a valid access token


def _user_id(world: World, username: str) -> int:
    return int(world.ok("GET", "/api/auth/me", username)["id"])


def test_deactivation_ends_access_at_once_and_reactivation_needs_a_new_login(world: World) -> None:
    s1 = _user_id(world, "s1")
    world.clock.advance(seconds=1)
    out = world.ok("POST", f"/api/users/{s1}/deactivate", "admin")
    assert out["is_active"] is False
    assert world.call("GET", "/api/auth/me", "s1").status_code == 401
    assert _refresh(world.client, world.tokens["s1:refresh"]) == 401
    assert world.client.post("/api/auth/login", json={"username": "s1", "password": PASSWORD}).status_code == 401
    assert world.ok("POST", f"/api/users/{s1}/reactivate", "admin")["is_active"] is True
    assert world.call("GET", "/api/auth/me", "s1").status_code == 401  # old tokens stay dead
    world.login("s1")
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200


def test_deactivation_rules(world: World) -> None:
    s1, admin = _user_id(world, "s1"), _user_id(world, "admin")
    assert world.call("POST", f"/api/users/{s1}/deactivate", "teacher").status_code == 403
    assert world.call("POST", f"/api/users/{s1}/deactivate", "s2").status_code == 403
    assert world.call("POST", "/api/users/987654/deactivate", "admin").status_code == 404
    r = world.call("POST", f"/api/users/{admin}/deactivate", "admin")
    assert r.status_code == 409 and r.json()["error"] == "Conflict"
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200


def test_a_restart_keeps_revocations(world: World, database_url: str, tmp_path: Path) -> None:
    s2 = _user_id(world, "s2")
    world.clock.advance(seconds=1)
    assert world.client.post("/api/auth/logout", json={"refresh_token": world.tokens["s1:refresh"]}).status_code == 204
    world.ok("POST", f"/api/users/{s2}/deactivate", "admin")
    world.ok("POST", f"/api/users/{s2}/reactivate", "admin")  # active again, old tokens still dead
    assert world.call("POST", "/api/auth/logout-all", "teacher").status_code == 204
    restarted = make_runtime(database_url, tmp_path, world.clock)  # a new process, an empty store
    try:
        client = make_client(restarted)
        for who in ("s1", "s2", "teacher"):
            assert _me(client, world.tokens[who]) == 401, who
        assert _me(client, world.tokens["admin"]) == 200
        r = client.post("/api/auth/login", json={"username": "s2", "password": PASSWORD})
        assert r.status_code == 200 and _me(client, r.json()["access_token"]) == 200
    finally:
        restarted.close()


@pytest.fixture
def redis_pair(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[tuple[World, TestClient]]:
    """Two API processes (runtimes) sharing one database and one Redis namespace."""
    namespace = f"exam-test-{uuid.uuid4().hex[:8]}"
    clock = ManualClock(START)
    first = make_runtime(database_url, tmp_path, clock, redis_url=redis_url, queue_namespace=namespace)
    second = make_runtime(database_url, tmp_path, clock, redis_url=redis_url, queue_namespace=namespace)
    runtimes: list[Runtime] = [first, second]
    try:
        yield build_world(make_client(first), first, clock), make_client(second)
    finally:
        for runtime in runtimes:
            runtime.close()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)


def test_redis_store_is_shared_by_api_processes(redis_pair: tuple[World, TestClient]) -> None:
    world, second = redis_pair
    # The second process has already loaded its view (so only Redis can tell it what follows).
    for who in ("s1", "s2", "teacher"):
        assert _me(second, world.tokens[who]) == 200
    world.clock.advance(seconds=1)
    assert world.client.post("/api/auth/logout", headers=world.headers("s1")).status_code == 204  # no body
    assert world.call("POST", "/api/auth/logout-all", "s2").status_code == 204
    assert _me(second, world.tokens["s1"]) == 401
    assert _me(second, world.tokens["s2"]) == 401
    assert _me(second, world.tokens["teacher"]) == 200
    # ...and the other way round.
    teacher = _user_id(world, "teacher")
    assert second.post(f"/api/users/{teacher}/deactivate", headers=world.headers("admin")).status_code == 200
    assert world.call("GET", "/api/auth/me", "teacher").status_code == 401


def test_changing_ones_password_ends_every_other_session(world: World) -> None:
    other_access, other_refresh = _second_sign_in(world, "s1")
    world.clock.advance(seconds=1)
    body = {"current_password": PASSWORD, "new_password": "brand-new-pass"}
    r = world.call("POST", "/api/auth/password", "s1", json=body)
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert _me(world.client, fresh["access_token"]) == 200 and _refresh(world.client, fresh["refresh_token"]) == 200
    for access in (world.tokens["s1"], other_access):
        assert _me(world.client, access) == 401
    assert _refresh(world.client, other_refresh) == 401
    assert world.call("GET", "/api/auth/me", "s2").status_code == 200
    old = world.client.post("/api/auth/login", json={"username": "s1", "password": PASSWORD})
    new = world.client.post("/api/auth/login", json={"username": "s1", "password": "brand-new-pass"})
    assert old.status_code == 401 and new.status_code == 200


def test_a_wrong_current_password_is_refused_and_counted(world: World) -> None:
    body = {"current_password": "not-it", "new_password": "brand-new-pass"}
    for _ in range(4):
        r = world.call("POST", "/api/auth/password", "s1", json=body)
        assert r.status_code == 422 and "current_password" in r.json()["detail"]
    r = world.call("POST", "/api/auth/password", "s1", json=body)
    assert r.status_code == 429 and r.headers["Retry-After"] == "30"
    assert world.call("GET", "/api/auth/me", "s1").status_code == 200  # nothing ended
    short = world.call("POST", "/api/auth/password", "s2", json={"current_password": PASSWORD, "new_password": "x"})
    assert short.status_code == 422 and "new_password" in short.json()["detail"]


def test_an_admin_reset_ends_sessions_and_lifts_the_lock(world: World) -> None:
    s1 = _user_id(world, "s1")
    for _ in range(5):
        world.client.post("/api/auth/login", json={"username": "s1", "password": "wrong-pass"})
    world.clock.advance(seconds=1)
    assert world.ok("POST", f"/api/users/{s1}/password", "admin", json={"password": "reset-pass-1"})["id"] == s1
    assert world.call("GET", "/api/auth/me", "s1").status_code == 401
    assert _refresh(world.client, world.tokens["s1:refresh"]) == 401
    r = world.client.post("/api/auth/login", json={"username": "s1", "password": "reset-pass-1"})
    assert r.status_code == 200, r.text
    assert world.call("POST", "/api/users/987654/password", "admin", json={"password": "reset-pass-1"}
                      ).status_code == 404
    assert world.call("POST", f"/api/users/{s1}/password", "teacher", json={"password": "reset-pass-1"}
                      ).status_code == 403
