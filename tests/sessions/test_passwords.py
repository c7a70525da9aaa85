"""Hashing is bounded to the cores: a burst of logins never runs more argon2 calls at once
than the machine has cores, whatever the number of threads."""

import threading
from typing import Any

from argon2 import PasswordHasher

from exam_server.sessions.passwords import HASH_SLOTS, Passwords


class CountingHasher(PasswordHasher):
    """Real argon2 (cheap parameters), recording how many calls run at the same time."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _enter(self) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)

    def _leave(self) -> None:
        with self.lock:
            self.running -= 1

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's name
        self._enter()
        try:
            return super().verify(hash, password)
        finally:
            self._leave()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._enter()
        try:
            return super().hash(password, salt=salt)
        finally:
            self._leave()


def test_a_burst_of_verifies_runs_at_most_one_per_core() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    stored = passwords.hash("pass-word-1")
    results: list[Any] = []
    barrier = threading.Barrier(24)

    def login() -> None:
        barrier.wait()
        for _ in range(3):
            results.append(passwords.verify(stored, "pass-word-1"))
            passwords.verify_dummy("whatever")

    threads = [threading.Thread(target=login) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 72
    assert 1 <= hasher.most <= HASH_SLOTS


def test_verify_refuses_wrong_and_malformed_hashes() -> None:
    passwords = Passwords(CountingHasher())
    stored = passwords.hash("right")
    assert passwords.verify(stored, "right")
    assert not passwords.verify(stored, "wrong")
    assert not passwords.verify("not-a-hash", "right")
    assert not passwords.verify("", "right")
