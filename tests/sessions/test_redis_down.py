"""With Redis unreachable, sign-ins keep working on both databases: the limiter fails open,
token checks fall back to the database, and a revocation made meanwhile still holds."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import PASSWORD, START, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.runtime import Runtime
from exam_server.services import accounts
from models import Role

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = make_runtime(database_url, tmp_path, ManualClock(START), redis_url=DEAD_REDIS)
    with session_scope(runtime.session_factory) as session:
        for name in ("s1", "s2"):
            accounts.create_user(session, name, PASSWORD, Role.STUDENT, name, None, START)
    yield runtime
    runtime.close()


def test_sessions_work_and_end_while_redis_is_down(runtime: Runtime) -> None:
    client = make_client(runtime)

    def login(name: str, password: str = PASSWORD) -> dict[str, str]:
        r = client.post("/api/auth/login", json={"username": name, "password": password})
        assert r.status_code == (200 if password == PASSWORD else 401), r.text
        return r.json() if r.status_code == 200 else {}

    for _ in range(6):  # the limiter cannot count: wrong passwords are 401s, never a 500
        login("s1", "wrong-pass")
    s1, s2 = login("s1"), login("s2")

    def me(tokens: dict[str, str]) -> int:
        return client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code

    assert me(s1) == 200 and me(s2) == 200
    runtime.clock.advance(seconds=1)  # type: ignore[attr-defined]
    r = client.post("/api/auth/logout", json={"refresh_token": s1["refresh_token"]})
    assert r.status_code == 204
    assert client.post("/api/auth/logout-all", headers={"Authorization": f"Bearer {s2['access_token']}"}
                       ).status_code == 204
    # Checked against the database: both sign-outs hold although the store never heard of them.
    assert me(s1) == 401 and me(s2) == 401
    assert me(login("s1")) == 200
