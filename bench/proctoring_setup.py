"""Set-up for bench/proctoring.py: the database with N candidates in a proctored exam, their access
tokens, server processes (the API under uvicorn, or a bare websockets echo server) and their memory.

Run as ``python bench/proctoring_setup.py serve --port P --ws websockets`` (the API) or
``... echo --port P`` (the baseline) by the bench itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from exam_server import migrate  # noqa: E402
from exam_server.db import create_db_engine, make_session_factory, session_scope  # noqa: E402
from exam_server.security import hash_password, issue_token  # noqa: E402
from models import Attempt, Exam, ExamCandidate, Paper, ProctorSettings, Role, User  # noqa: E402
from models.enums import AttemptState  # noqa: E402


def seed(url: str, count: int, signing_key: str) -> tuple[list[tuple[int, str]], int, str]:
    """N students with an in-progress attempt each in one proctored exam: ([(attempt_id, token)],
    the exam's id, an admin's token for the proctor walls)."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    try:
        with session_scope(make_session_factory(engine, None)) as session:
            password = hash_password("bench-pass-1")
            admin = User(username="bench-admin", password_hash=password, role=Role.ADMIN, display_name="admin",
                         is_active=True, created_at=now)
            session.add(admin)
            session.flush()
            paper = Paper(title="bench", author_id=admin.id, frozen=True, created_at=now)
            session.add(paper)
            session.flush()
            exam = Exam(title="proctoring bench", paper_id=paper.id, class_id=None, opens_at=now - timedelta(minutes=1),
                        closes_at=now + timedelta(hours=3), duration_minutes=120, results_released=False,
                        created_by=admin.id, created_at=now)
            session.add(exam)
            session.flush()
            session.add(ProctorSettings(exam_id=exam.id, enabled=True, require_identity=False, weights={},
                                        retention_days=30, updated_by=admin.id, updated_at=now))
            users = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
                {"username": f"cand{i}", "password_hash": password, "role": Role.STUDENT, "display_name": f"c{i}",
                 "is_active": True, "created_at": now} for i in range(count)]))
            session.execute(insert(ExamCandidate), [{"exam_id": exam.id, "user_id": u, "extra_minutes": 0}
                                                    for u in users])
            attempts = list(session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), [
                {"exam_id": exam.id, "user_id": u, "state": AttemptState.IN_PROGRESS, "started_at": now,
                 "deadline": now + timedelta(hours=2), "max_score": 0.0, "variant_seed": 0} for u in users]))
    finally:
        engine.dispose()
    tokens = [(a, issue_token(signing_key, u, Role.STUDENT, "access", now, timedelta(hours=2))[0])
              for a, u in zip(attempts, users, strict=True)]
    return tokens, exam.id, issue_token(signing_key, admin.id, Role.ADMIN, "access", now, timedelta(hours=2))[0]


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as out:
        return subprocess.Popen([sys.executable, __file__, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port: int, proc: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    import socket

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)  # polling the port until the server listens
    raise RuntimeError(f"server on port {port} did not listen within {limit_s} s")


def _serve(port: int, ws: str) -> None:
    import uvicorn

    from exam_server.cli import WS_MAX_QUEUE, WS_MAX_SIZE

    uvicorn.run("exam_server.asgi:app", host="127.0.0.1", port=port, log_level="warning", ws=ws,  # type: ignore[arg-type]
                ws_per_message_deflate=False, ws_max_size=WS_MAX_SIZE, ws_max_queue=WS_MAX_QUEUE, backlog=4096)


async def _echo(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", port, compression=None, max_size=2**20, max_queue=4, ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "echo"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ws", default="websockets")
    opts = parser.parse_args()
    if opts.mode == "serve":
        _serve(opts.port, opts.ws)
    else:
        asyncio.run(_echo(opts.port))
