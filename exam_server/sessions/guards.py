"""What a process holds for sign-ins: the password hasher, the login limiter and the revocation
store, chosen by the settings (Redis when ``EXAM_REDIS_URL`` is set, in-process otherwise)."""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
)
from exam_server.settings import Settings


@dataclass
class SessionGuards:
    passwords: Passwords
    limiter: LoginLimiter
    revocations: RevocationStore
    account_policy: LoginPolicy
    address_policy: LoginPolicy
    trusted_proxies: tuple[Network, ...]
    access_lifetime: timedelta
    _loaded: bool = field(default=False, init=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    # --- logins -------------------------------------------------------------------------------
    def check_login_allowed(self, username: str, address: str, now: datetime) -> None:
        wait = self.limiter.locked_for([_account(username), _address(address)], now)
        if wait > 0:
            raise TooManyAttempts("too many failed sign-ins for this account or from this address; "
                                  f"try again in {_whole(wait)} s", wait)

    def login_failed(self, username: str, address: str, now: datetime) -> float:
        """Count the failure on both keys; the seconds the caller must now wait (0: none)."""
        return max(self.limiter.record_failure(_account(username), self.account_policy, now),
                   self.limiter.record_failure(_address(address), self.address_policy, now))

    def login_succeeded(self, username: str) -> None:
        self.limiter.reset(_account(username))

    # --- access tokens ------------------------------------------------------------------------
    def ensure_valid(self, claims: TokenClaims, now: datetime, read_session: Callable[[], Session]) -> None:
        """Refuse an access token whose sign-in was ended (no database read once loaded)."""
        self._load_once(now, read_session)
        if self.revocations.is_revoked(claims.user_id, claims.family_id, claims.issued_at_ms, now):
            raise InvalidToken("this session was signed out (logout, sign-out everywhere or a disabled "
                               "account); log in again")

    def forget_at(self, instant: datetime) -> datetime:
        return instant + self.access_lifetime

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
        client = redis.Redis.from_url(settings.redis_url)
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
