"""The revocation store on both backends: ended families, per-user "not before", keeping the later
instant, and forgetting entries once no token they cover can still be alive."""

from datetime import UTC, datetime, timedelta

import redis

from exam_server.sessions.revocation import InProcessRevocationStore, RedisRevocationStore, RevocationStore

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
LIFE = timedelta(minutes=15)


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def test_an_ended_family_revokes_only_its_tokens(store: RevocationStore) -> None:
    store.end_family("fam-a", T0, T0 + LIFE)
    assert store.is_revoked(1, "fam-a", _ms(T0), T0)
    assert store.is_revoked(1, "fam-a", _ms(T0 + timedelta(seconds=5)), T0 + timedelta(minutes=1))
    assert not store.is_revoked(1, "fam-b", _ms(T0), T0)
    assert not store.is_revoked(1, None, _ms(T0), T0)


def test_not_before_revokes_older_tokens_of_that_user_only(store: RevocationStore) -> None:
    store.end_user_tokens(7, T0, T0 + LIFE)
    assert store.is_revoked(7, "f", _ms(T0) - 1, T0)
    assert not store.is_revoked(7, "f", _ms(T0), T0)  # issued at the instant or later: a new sign-in
    assert not store.is_revoked(8, "f", _ms(T0) - 1, T0)


def test_the_later_instant_wins(store: RevocationStore) -> None:
    store.end_user_tokens(7, T0 + timedelta(minutes=2), T0 + timedelta(minutes=2) + LIFE)
    store.end_user_tokens(7, T0, T0 + LIFE)  # e.g. a refill from the database racing a new sign-out
    assert store.is_revoked(7, "f", _ms(T0 + timedelta(minutes=1)), T0 + timedelta(minutes=3))


def test_in_process_entries_are_forgotten_after_the_access_lifetime() -> None:
    store = InProcessRevocationStore()
    store.end_family("fam-a", T0, T0 + LIFE)
    store.end_user_tokens(7, T0, T0 + LIFE)
    later = T0 + LIFE + timedelta(seconds=1)
    assert not store.is_revoked(7, "fam-a", _ms(T0) - 1, later)


def test_redis_entries_expire_with_the_access_lifetime(redis_namespace: tuple[redis.Redis, str]) -> None:
    client, namespace = redis_namespace
    store = RedisRevocationStore(client, namespace)
    store.end_family("fam-a", T0, T0 + LIFE)
    store.end_user_tokens(7, T0, T0 + LIFE)
    for key in (f"{namespace}:revoked:family:fam-a", f"{namespace}:revoked:user:7"):
        ttl_ms = client.pttl(key)
        assert 0 < ttl_ms <= LIFE.total_seconds() * 1000, key
