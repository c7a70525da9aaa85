"""Sign-in costs: a burst of password checks with and without the core bound, and failed logins
for unknown users against wrong passwords (same work now; the old code skipped the hash).

    .venv/bin/python bench/login.py [--burst 40] [--repeats 30]

Everything runs in this process on a scratch SQLite database; the baselines (an unbounded
hasher; the old unknown-user path, which only read the database) are measured in the same run.
The last stdout line is one JSON object.
"""

import argparse
import contextlib
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exam_server import migrate  # noqa: E402
from exam_server.db import create_db_engine, make_session_factory, session_scope  # noqa: E402
from exam_server.errors import Unauthenticated  # noqa: E402
from exam_server.services import accounts, sessions  # noqa: E402
from exam_server.sessions.passwords import HASH_SLOTS, Passwords, default_hasher  # noqa: E402
from models import Role, User  # noqa: E402


def _work_unit() -> None:
    """About a millisecond of pure Python: stands for a cheap request (an answer save's CPU)."""
    total = 0
    for i in range(20_000):
        total += i * i


def _probe(stop: threading.Event, samples: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        _work_unit()
        samples.append(1000 * (time.perf_counter() - start))


def _burst(verify: Callable[[], object], size: int) -> dict[str, float]:
    """``size`` threads verify at the same instant (the API's thread pool under a login spike)
    while a probe thread keeps doing small units of work: how long do other requests wait?"""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(size)

    def one() -> None:
        barrier.wait()
        start = time.perf_counter()
        verify()
        with lock:
            latencies.append(time.perf_counter() - start)

    stop, probe_samples = threading.Event(), []
    probe = threading.Thread(target=_probe, args=(stop, probe_samples))
    threads = [threading.Thread(target=one) for _ in range(size)]
    began = time.perf_counter()
    probe.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    stop.set()
    probe.join()
    latencies.sort()
    probe_samples.sort()
    return {"p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[-1], "wall_ms": 1000 * wall,
            "probe_p50_ms": probe_samples[len(probe_samples) // 2],
            "probe_p99_ms": probe_samples[int(len(probe_samples) * 0.99)],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _median_ms(runs: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median time of each run, interleaved so that load from elsewhere hits all of them alike."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, into in zip(runs, samples, strict=True):
            start = time.perf_counter()
            with contextlib.suppress(Unauthenticated):
                run()
            into.append(1000 * (time.perf_counter() - start))
    return [statistics.median(s) for s in samples]


def _old_unknown_user(factory: Callable[[], Session], username: str) -> None:
    """What `authenticate` did before: an unknown user cost only the lookup."""
    with factory() as read:
        if read.scalars(select(User).where(User.username == username)).first() is None:
            raise Unauthenticated("username or password is wrong")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=40, help="concurrent verifies (the thread pool size)")
    parser.add_argument("--repeats", type=int, default=30, help="failed logins timed per case")
    args = parser.parse_args()

    passwords = Passwords()
    stored = passwords.hash("pass-word-1")
    unbounded: PasswordHasher = default_hasher()
    _burst(lambda: passwords.verify(stored, "pass-word-1"), 4)  # warm up
    bounded_burst = _burst(lambda: passwords.verify(stored, "pass-word-1"), args.burst)
    unbounded_burst = _burst(lambda: unbounded.verify(stored, "pass-word-1"), args.burst)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = create_db_engine(url)
        factory = make_session_factory(engine, None)
        with session_scope(factory) as session:
            accounts.create_user(session, "s1", "pass-word-1", Role.STUDENT, "s1", None, datetime.now(UTC))

        def read() -> Session:
            return factory(bind=engine)

        def attempt(username: str) -> Callable[[], object]:
            def run() -> object:
                with read() as session:
                    return sessions.authenticate(session, passwords, username, "wrong-pass")
            return run

        passwords.verify_dummy("warm-up")
        unknown_ms, wrong_ms, old_unknown_ms = _median_ms(
            [attempt("ghost"), attempt("s1"), lambda: _old_unknown_user(read, "ghost")], args.repeats)
        engine.dispose()

    idle: list[float] = []
    for _ in range(200):
        start = time.perf_counter()
        _work_unit()
        idle.append(1000 * (time.perf_counter() - start))
    result: dict[str, float] = {"hash_slots": HASH_SLOTS, "burst": args.burst,
                                "probe_idle_ms": round(statistics.median(idle), 2)}
    for name, figures in (("bounded", bounded_burst), ("unbounded", unbounded_burst)):
        result.update({f"burst_{name}_{key}": round(value, 1) for key, value in figures.items()})
    result.update({
        "failed_login_unknown_user_ms": round(unknown_ms, 1),
        "failed_login_wrong_password_ms": round(wrong_ms, 1),
        "failed_login_unknown_user_before_ms": round(old_unknown_ms, 1),
        "unknown_to_wrong_ratio": round(unknown_ms / wrong_ms, 2),
        "unknown_to_wrong_ratio_before": round(old_unknown_ms / wrong_ms, 2),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
