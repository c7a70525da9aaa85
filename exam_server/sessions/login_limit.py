"""Login rate limiting with exponential back-off, per account and per client address.

Each key (``account:<name>``, ``address:<ip>``) counts failed sign-ins. The failure that reaches
``max_failures`` locks the key for ``lockout``; every further failure after the lock ends doubles
it, up to ``max_lockout``. The count is forgotten once a key has been quiet for ``window`` after
its last failure or lock. While a key is locked the password is not even checked, so a locked
account cannot be used to test passwords. A successful login clears the account's key only:
clearing the address too would let one valid account reset a guessing campaign from that address.

Two implementations of :class:`LoginLimiter`: in-process (a dict under a lock: the embedded
default, one process) and Redis (one Lua script per failure, so concurrent API processes count
atomically). Both keep instants from the injected clock in the entry and use TTLs only to
forget stale keys, so they behave the same and tests can move time by hand.
"""

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta

    @property
    def retention_ms(self) -> int:
        """How long an entry can matter after its last failure."""
        return _ms_of(self.window + self.max_lockout)


@dataclass(frozen=True)
class FailureState:
    failures: int
    last_ms: int
    locked_until_ms: int


def after_failure(state: FailureState | None, policy: LoginPolicy, now_ms: int) -> FailureState:
    """The pure rule both implementations follow (the Lua script mirrors it line by line)."""
    failures = 0
    if state is not None and now_ms - max(state.last_ms, state.locked_until_ms) <= _ms_of(policy.window):
        failures = state.failures
    failures += 1
    until = 0
    if failures >= policy.max_failures:
        doublings = min(failures - policy.max_failures, 30)
        until = now_ms + min(_ms_of(policy.lockout) * 2**doublings, _ms_of(policy.max_lockout))
    return FailureState(failures, now_ms, until)


class LoginLimiter(Protocol):
    def locked_for(self, keys: Sequence[str], now: datetime) -> float:
        """Seconds until every key is unlocked (0 when none is locked)."""
        ...

    def record_failure(self, key: str, policy: LoginPolicy, now: datetime) -> float:
        """Count a failure; the seconds the key is now locked for (0 when not locked)."""
        ...

    def reset(self, key: str) -> None: ...

    def close(self) -> None: ...


class InProcessLoginLimiter:
    """The embedded default: one process, so a dict under a lock is the whole truth."""

    MAX_ENTRIES = 50_000  # past this, stale entries are swept (bounds memory under a spray)

    def __init__(self) -> None:
        self._entries: dict[str, tuple[FailureState, int]] = {}  # key -> (state, forget-after ms)
        self._lock = threading.Lock()

    def locked_for(self, keys: Sequence[str], now: datetime) -> float:
        now_ms = _ms(now)
        with self._lock:
            untils = [self._entries[k][0].locked_until_ms for k in keys if k in self._entries]
        return _remaining(max(untils, default=0), now_ms)

    def record_failure(self, key: str, policy: LoginPolicy, now: datetime) -> float:
        now_ms = _ms(now)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._sweep(now_ms)
            entry = self._entries.get(key)
            state = after_failure(entry[0] if entry else None, policy, now_ms)
            self._entries[key] = (state, now_ms + policy.retention_ms)
        return _remaining(state.locked_until_ms, now_ms)

    def reset(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def close(self) -> None:
        pass

    def _sweep(self, now_ms: int) -> None:
        stale = [k for k, (_, forget_ms) in self._entries.items() if forget_ms < now_ms]
        for key in stale:
            del self._entries[key]


# KEYS[1] = the key's hash; ARGV = now ms, window ms, max failures, lockout ms, max lockout ms, retention ms.
_RECORD_FAILURE = """
local now = tonumber(ARGV[1])
local failures = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local locked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now - math.max(last, locked) > tonumber(ARGV[2]) then failures = 0 end
failures = failures + 1
local untilms = 0
local maxf = tonumber(ARGV[3])
if failures >= maxf then
  untilms = now + math.min(tonumber(ARGV[4]) * 2 ^ math.min(failures - maxf, 30), tonumber(ARGV[5]))
end
redis.call('HSET', KEYS[1], 'n', failures, 'last', now, 'until', string.format('%d', untilms))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return string.format('%d', untilms)
"""


class RedisLoginLimiter:
    """Production: every API process counts in the same Redis, atomically (one script per failure)."""

    def __init__(self, client: "redis.Redis", namespace: str) -> None:
        self._redis = client
        self._prefix = f"{namespace}:login:"
        self._record = client.register_script(_RECORD_FAILURE)

    def locked_for(self, keys: Sequence[str], now: datetime) -> float:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._prefix + key, "until")
        untils = [int(value) for value in pipe.execute() if value is not None]
        return _remaining(max(untils, default=0), _ms(now))

    def record_failure(self, key: str, policy: LoginPolicy, now: datetime) -> float:
        now_ms = _ms(now)
        args = [now_ms, _ms_of(policy.window), policy.max_failures, _ms_of(policy.lockout),
                _ms_of(policy.max_lockout), policy.retention_ms]
        until = int(self._record(keys=[self._prefix + key], args=args))
        return _remaining(until, now_ms)

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def close(self) -> None:
        self._redis.close()


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _ms_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _remaining(until_ms: int, now_ms: int) -> float:
    return max(0.0, (until_ms - now_ms) / 1000)


def retry_after_header(seconds: float) -> str:
    """Retry-After is whole seconds; round up so a client never retries a moment too early."""
    return str(max(1, math.ceil(seconds)))
