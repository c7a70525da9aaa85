"""What a process holds for sign-ins: the password hasher, the login limiter and the revocation
store, chosen by the settings (Redis when ``EXAM_REDIS_URL`` is set, in-process otherwise)."""

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import redis
from sqlalchemy.orm import Session

from exam_server.errors import InvalidToken, TooManyAttempts
from exam_server.security import TokenClaims
from exam_server.sessions.addresses import Network, parse_networks
from exam_server.sessions.login_limit import InProcessLoginLimiter, LoginLimiter, LoginPolicy, RedisLoginLimiter
from exam_server.sessions.passwords import Passwords
from exam_server.sessions.revocation import (
    InProcessRevocationStore,
    RedisRevocationStore,
    RevocationStore,
    load_from_database,
    revoked_in_database,
)
from exam_server.settings import Settings

log = logging.getLogger(__name__)


# After a Redis error, go straight to the fallbacks for this long instead of waiting on a
# timeout in every request.
BYPASS_SECONDS = 5.0
T = TypeVar("T")


@dataclass
class SessionGuards:
    """The sign-in boundaries of one process, and what happens when Redis is unreachable:
    rate limiting fails open (argon2 still bounds guessing speed), token checks fall back to the
    database (the source of truth) and a missed revocation write is repaired by refilling the
    store from the database once Redis answers again. An exam never stops because Redis did."""

    passwords: Passwords
    limiter: LoginLimiter
    revocations: RevocationStore
    account_policy: LoginPolicy
    address_policy: LoginPolicy
    trusted_proxies: tuple[Network, ...]
    access_lifetime: timedelta
    _loaded: bool = field(default=False, init=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _bypass_until: float = field(default=0.0, init=False)

    # --- logins -------------------------------------------------------------------------------
    def check_login_allowed(self, username: str, address: str, now: datetime) -> None:
        keys = [_account(username), _address(address)]
        wait = self._limit(lambda: self.limiter.locked_for(keys, now), 0.0)
        if wait > 0:
            raise TooManyAttempts("too many failed sign-ins for this account or from this address; "
                                  f"try again in {_whole(wait)} s", wait)

    def login_failed(self, username: str, address: str, now: datetime) -> float:
        """Count the failure on both keys; the seconds the caller must now wait (0: none)."""
        return self._limit(lambda: max(
            self.limiter.record_failure(_account(username), self.account_policy, now),
            self.limiter.record_failure(_address(address), self.address_policy, now)), 0.0)

    def login_succeeded(self, username: str) -> None:
        self._limit(lambda: self.limiter.reset(_account(username)), None)

    # --- ending sessions ----------------------------------------------------------------------
    def end_family(self, family_id: str, now: datetime) -> None:
        self._write(lambda: self.revocations.end_family(family_id, now, now + self.access_lifetime))

    def end_user_tokens(self, user_id: int, now: datetime) -> None:
        self._write(lambda: self.revocations.end_user_tokens(user_id, now, now + self.access_lifetime))

    # --- access tokens ------------------------------------------------------------------------
    def ensure_valid(self, claims: TokenClaims, now: datetime, read_session: Callable[[], Session]) -> None:
        """Refuse an access token whose sign-in was ended (no database read once loaded)."""
        revoked: bool | None = None
        if self._store_up():
            try:
                self._load_once(now, read_session)
                revoked = self.revocations.is_revoked(claims.user_id, claims.family_id, claims.issued_at_ms, now)
            except redis.RedisError as exc:
                self._store_failed("revocation check", exc)
        if revoked is None:
            with read_session() as session:
                revoked = revoked_in_database(session, claims.user_id, claims.family_id, claims.issued_at_ms)
        if revoked:
            raise InvalidToken("this session was signed out (logout, sign-out everywhere or a disabled "
                               "account); log in again")

    def _load_once(self, now: datetime, read_session: Callable[[], Session]) -> None:
        # Lazily on the first check, not at start-up: the CLI builds runtimes on databases that
        # may not be migrated yet. The refill keeps later instants, so racing writes are safe.
        if self._loaded:
            return
        with self._load_lock:
            if not self._loaded:
                with read_session() as session:
                    load_from_database(session, self.revocations, now, self.access_lifetime)
                self._loaded = True

    # --- Redis outages ------------------------------------------------------------------------
    def _store_up(self) -> bool:
        return time.monotonic() >= self._bypass_until

    def _store_failed(self, what: str, exc: Exception) -> None:
        self._loaded = False  # refill from the database once Redis answers again
        self._bypass_until = time.monotonic() + BYPASS_SECONDS
        log.warning("%s: Redis unreachable (%s); using the fallback for %.0f s", what, exc, BYPASS_SECONDS)

    def _limit(self, call: Callable[[], T], fallback: T) -> T:
        if not self._store_up():
            return fallback
        try:
            return call()
        except redis.RedisError as exc:
            self._store_failed("login limiter", exc)
            return fallback

    def _write(self, call: Callable[[], None]) -> None:
        # The database row commits regardless: it is the truth, and the refill repairs the store.
        if not self._store_up():
            self._loaded = False
            return
        try:
            call()
        except redis.RedisError as exc:
            self._store_failed("revocation write", exc)

    def close(self) -> None:
        self.limiter.close()
        self.revocations.close()


def _account(username: str) -> str:
    return f"account:{username.casefold()}"


def _address(address: str) -> str:
    return f"address:{address}"


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def build_session_guards(settings: Settings) -> SessionGuards:
    limiter: LoginLimiter
    revocations: RevocationStore
    if settings.redis_url:
        # Short timeouts: a dead Redis must cost a request little before the fallbacks take over.
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, socket_timeout=1.0)
        limiter = RedisLoginLimiter(client, settings.queue_namespace)
        revocations = RedisRevocationStore(client, settings.queue_namespace)
    else:
        limiter, revocations = InProcessLoginLimiter(), InProcessRevocationStore()
    return SessionGuards(
        passwords=Passwords(), limiter=limiter, revocations=revocations,
        account_policy=_policy(settings, settings.login_max_failures_per_account),
        address_policy=_policy(settings, settings.login_max_failures_per_address),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        access_lifetime=timedelta(minutes=settings.access_token_minutes),
    )


def _policy(settings: Settings, max_failures: int) -> LoginPolicy:
    return LoginPolicy(max_failures, timedelta(seconds=settings.login_failure_window_seconds),
                       timedelta(seconds=settings.login_lockout_seconds),
                       timedelta(seconds=settings.login_lockout_max_seconds))
