"""Both implementations of each session boundary, real: in-process and on the test Redis."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from exam_server.sessions.login_limit import InProcessLoginLimiter, LoginLimiter, RedisLoginLimiter
from exam_server.sessions.revocation import InProcessRevocationStore, RedisRevocationStore, RevocationStore


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis.from_url(redis_url)
    namespace = f"exam-test-{uuid.uuid4().hex[:8]}"
    yield client, namespace
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["in-process", "redis"])
def limiter(request: pytest.FixtureRequest) -> LoginLimiter:
    if request.param == "in-process":
        return InProcessLoginLimiter()
    client, namespace = request.getfixturevalue("redis_namespace")
    return RedisLoginLimiter(client, namespace)


@pytest.fixture(params=["in-process", "redis"])
def store(request: pytest.FixtureRequest) -> RevocationStore:
    if request.param == "in-process":
        return InProcessRevocationStore()
    client, namespace = request.getfixturevalue("redis_namespace")
    return RedisRevocationStore(client, namespace)
