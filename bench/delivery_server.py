"""bench/delivery.py's own server: a temp dir, ``exam db upgrade``, an admin, ``exam serve`` (and
``exam worker`` with Redis) as subprocesses that are stopped on every exit path; plus the scan of
its log for exceptions.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from delivery_common import BenchError, Options, database_kind, log


@dataclass
class Server:
    base_url: str
    admin: tuple[str, str]
    workdir: Path | None = None
    log_path: Path | None = None
    keep: bool = False
    """Keep the temp dir (database, logs) after the run: set on any failure."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recreate_postgres(url: str) -> None:
    """DROP and CREATE the bench database, connecting to the server's postgres/test database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or ""
    if not re.fullmatch(r"bench\w*", name):
        raise BenchError(f"refusing to drop database {name!r}: its name must start with 'bench'")
    last: Exception | None = None
    for admin_db in ("postgres", "test"):
        engine = create_engine(target.set(database=admin_db), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return
        except Exception as exc:  # noqa: BLE001 - try the next maintenance database
            last = exc
        finally:
            engine.dispose()
    raise BenchError(f"could not recreate database {name!r}: {last}")


def seed_admin(url: str, username: str, password: str) -> None:
    from exam_server.clock import system_clock
    from exam_server.db import create_db_engine, make_session_factory, session_scope
    from exam_server.services.accounts import create_user
    from models import Role

    engine = create_db_engine(url)
    try:
        with session_scope(make_session_factory(engine, None)) as session:
            create_user(session, username, password, Role.ADMIN, "Bench Admin", None, system_clock())
    finally:
        engine.dispose()


def server_env(opts: Options, db_url: str, workdir: Path, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAM_")}
    env.update(EXAM_DATABASE_URL=db_url, EXAM_DATA_DIR=str(workdir / "data"),
               EXAM_SECRET_KEY=secrets.token_urlsafe(32), EXAM_QUEUE_NAMESPACE=namespace)
    if opts.redis_url:
        env["EXAM_REDIS_URL"] = opts.redis_url
    return env


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "exam_server.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM the process group we started (uvicorn's workers too), SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            log(f"{name} (pid {proc.pid}) stopped")
            return
        except subprocess.TimeoutExpired:
            log(f"{name} (pid {proc.pid}) did not stop on {sig.name}")


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    with httpx.Client(base_url=base_url, trust_env=False, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/health").status_code == 200:
                    return
            time.sleep(0.25)
    raise BenchError(f"server not healthy after {limit_s:.0f}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def clean_redis(url: str, namespace: str) -> None:
    """Drop this run's dramatiq keys (delayed deadline jobs would otherwise stay in Redis)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextlib.contextmanager
def own_server(opts: Options, deadline: float) -> Iterator[Server]:
    workdir = Path(tempfile.mkdtemp(prefix="bench_delivery_"))
    namespace = f"bench-delivery-{os.getpid()}-{secrets.token_hex(3)}"
    db_url = opts.database_url or f"sqlite:///{workdir / 'exam.db'}"
    env = server_env(opts, db_url, workdir, namespace)
    procs: list[tuple[subprocess.Popen[bytes], str]] = []
    log_path = workdir / "server.log"
    admin = ("bench_admin", secrets.token_urlsafe(12))
    server: Server | None = None
    keep = False
    try:
        if database_kind(db_url) == "postgresql":
            recreate_postgres(db_url)
        migrate = subprocess.run([sys.executable, "-m", "exam_server.cli", "db", "upgrade"], env=env,
                                 capture_output=True, text=True,
                                 timeout=max(10.0, deadline - time.monotonic()))
        if migrate.returncode != 0:
            raise BenchError(f"db upgrade failed:\n{migrate.stdout}{migrate.stderr}")
        seed_admin(db_url, *admin)
        port = free_port()
        procs.append((spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(opts.workers)], env, log_path), "server"))
        if opts.redis_url:
            procs.append((spawn(["worker"], env, workdir / "worker.log"), "worker"))
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, procs[0][0], log_path, min(90.0, max(5.0, deadline - time.monotonic())))
        log(f"server {base_url} up: {database_kind(db_url)}, {opts.workers} worker(s), logs in {workdir}")
        server = Server(base_url, admin, workdir, log_path, keep=opts.keep_dir)
        yield server
    except BaseException:
        keep = True
        raise
    finally:
        for proc, name in reversed(procs):
            stop(proc, name)
        if opts.redis_url:
            with contextlib.suppress(Exception):
                clean_redis(opts.redis_url, namespace)
        if keep or (server is not None and server.keep):
            log(f"kept {workdir} (database and server logs)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def server_problems(log_path: Path | None) -> Counter[str]:
    """Exception lines in the server log (the last line of each traceback), counted."""
    found: Counter[str] = Counter()
    if log_path is None or not log_path.exists():
        return found
    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout)\w*): ?(.{0,160})")
    for line in log_path.read_text(errors="replace").splitlines():
        match = pattern.match(line)
        if match:
            found[f"{match.group(1)}: {match.group(2)}"] += 1
    return found

