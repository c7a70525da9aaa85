"""Password hashing (argon2id), bounded to the machine's cores.

A login burst (a whole exam hall signing in at once) would otherwise run as many argon2 hashes
at once as the thread pool has threads (40), each ~20 ms of CPU and 19 MiB: every request then
waits for all of them. One process-wide semaphore of ``os.cpu_count()`` slots lets hashes run
at full speed one per core while the rest queue.

Unknown users and disabled accounts are checked against a dummy hash made once with the current
parameters, so a failed login costs one verify whether or not the username exists.
"""

import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASH_SLOTS = os.cpu_count() or 1
_slots = threading.BoundedSemaphore(HASH_SLOTS)


def default_hasher() -> PasswordHasher:
    # OWASP's argon2id baseline (19 MiB, t=2, p=1): ~15 ms a hash here; stored hashes carry
    # their own parameters, so raising these later only triggers rehashes on login.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class Passwords:
    """Hash and verify passwords; every argon2 call takes one of the process's core slots."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or default_hasher()
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        with _slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with _slots:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def verify_dummy(self, password: str) -> None:
        """Spend the same work as a real check, for a user that does not exist or may not log in."""
        self.verify(self._dummy_hash(), password)

    def _dummy_hash(self) -> str:
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hash(secrets.token_urlsafe(16))
            return self._dummy


DEFAULT = Passwords()
