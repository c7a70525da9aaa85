"""Which access tokens are dead before they expire, answered without a database read.

Two kinds of entry, each kept only as long as an access token can live (after that every token
it covers has expired anyway):

- an ended sign-in: ``family:<id>``, from logout or a reused refresh token; access tokens whose
  ``sid`` is that family are dead;
- a user's "not before": ``user:<id>`` = an instant in ms, from sign-out-everywhere and
  deactivation; that user's access tokens issued before it are dead.

The database stays the source of truth (``refresh_tokens.logged_out``/``revoked_at`` and
``users.tokens_valid_after``); :func:`load_from_database` refills a store from it, so restarting
the embedded server (in-process store) resurrects nothing. Writes keep the later instant on
both implementations, so a refill racing a new sign-out cannot move an instant back.
"""

import threading
from datetime import datetime, timedelta
from typing import Protocol

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import RefreshToken, User


class RevocationStore(Protocol):
    def end_family(self, family_id: str, ended_at: datetime, forget_at: datetime) -> None: ...

    def end_user_tokens(self, user_id: int, not_before: datetime, forget_at: datetime) -> None: ...

    def is_revoked(self, user_id: int, family_id: str | None, issued_at_ms: int, now: datetime) -> bool: ...

    def close(self) -> None: ...


class InProcessRevocationStore:
    """The embedded default: one process, a dict under a lock."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, int]] = {}  # key -> (instant ms, forget at ms)
        self._lock = threading.Lock()
        self._writes = 0

    def end_family(self, family_id: str, ended_at: datetime, forget_at: datetime) -> None:
        self._keep_later(f"family:{family_id}", _ms(ended_at), _ms(forget_at))

    def end_user_tokens(self, user_id: int, not_before: datetime, forget_at: datetime) -> None:
        self._keep_later(f"user:{user_id}", _ms(not_before), _ms(forget_at))

    def is_revoked(self, user_id: int, family_id: str | None, issued_at_ms: int, now: datetime) -> bool:
        now_ms = _ms(now)
        with self._lock:
            family = self._entries.get(f"family:{family_id}") if family_id else None
            user = self._entries.get(f"user:{user_id}")
        if family is not None and family[1] > now_ms:
            return True
        return user is not None and user[1] > now_ms and issued_at_ms < user[0]

    def close(self) -> None:
        pass

    def _keep_later(self, key: str, instant_ms: int, forget_ms: int) -> None:
        with self._lock:
            current = self._entries.get(key)
            if current is None or current[0] < instant_ms:
                self._entries[key] = (instant_ms, max(forget_ms, current[1] if current else 0))
            self._writes += 1
            if self._writes % 1000 == 0:  # forget expired entries now and then
                self._entries = {k: v for k, v in self._entries.items() if v[1] > instant_ms}


# KEYS[1]; ARGV = instant ms, ttl ms. Keep the later instant (a refill must not move it back).
_KEEP_LATER = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisRevocationStore:
    """Production: every API process reads the same entries; a check is one MGET."""

    def __init__(self, client: "redis.Redis", namespace: str) -> None:
        self._redis = client
        self._prefix = f"{namespace}:revoked:"
        self._keep_later_script = client.register_script(_KEEP_LATER)

    def end_family(self, family_id: str, ended_at: datetime, forget_at: datetime) -> None:
        self._keep_later(f"family:{family_id}", ended_at, forget_at)

    def end_user_tokens(self, user_id: int, not_before: datetime, forget_at: datetime) -> None:
        self._keep_later(f"user:{user_id}", not_before, forget_at)

    def is_revoked(self, user_id: int, family_id: str | None, issued_at_ms: int, now: datetime) -> bool:
        family_key = self._prefix + f"family:{family_id}" if family_id else self._prefix + "family:-"
        family, not_before = self._redis.mget([family_key, self._prefix + f"user:{user_id}"])
        return family is not None or (not_before is not None and issued_at_ms < int(not_before))

    def close(self) -> None:
        self._redis.close()

    def _keep_later(self, key: str, instant: datetime, forget_at: datetime) -> None:
        # Redis expires by its own clock: pass a relative TTL computed from our clock.
        ttl_ms = _ms(forget_at) - _ms(instant)
        if ttl_ms > 0:
            self._keep_later_script(keys=[self._prefix + key], args=[_ms(instant), ttl_ms])


def load_from_database(session: Session, store: RevocationStore, now: datetime, lifetime: timedelta) -> int:
    """Put every revocation that can still matter (younger than an access token's lifetime) into
    the store; returns how many entries were written."""
    cutoff = now - lifetime
    families = session.execute(
        select(RefreshToken.family_id, func.max(RefreshToken.revoked_at))
        .where(RefreshToken.logged_out.is_(True), RefreshToken.revoked_at > cutoff)
        .group_by(RefreshToken.family_id))
    written = 0
    for family_id, ended_at in families:
        if ended_at is None:
            continue
        store.end_family(family_id, ended_at, ended_at + lifetime)
        written += 1
    users = session.execute(select(User.id, User.tokens_valid_after).where(User.tokens_valid_after > cutoff))
    for user_id, not_before in users:
        if not_before is None:
            continue
        store.end_user_tokens(user_id, not_before, not_before + lifetime)
        written += 1
    return written


def revoked_in_database(session: Session, user_id: int, family_id: str | None, issued_at_ms: int) -> bool:
    """The same answer from the source of truth (used while Redis is unreachable)."""
    not_before = session.scalar(select(User.tokens_valid_after).where(User.id == user_id))
    if not_before is not None and issued_at_ms < _ms(not_before):
        return True
    if family_id is None:
        return False
    ended = select(RefreshToken.jti).where(RefreshToken.family_id == family_id, RefreshToken.logged_out.is_(True))
    return session.scalar(ended.limit(1)) is not None


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)
