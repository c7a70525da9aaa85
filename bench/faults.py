"""What the fault hardening costs, each figure against a baseline measured in the same run.

- outbox: a small write transaction (one audit row) committed N times, without a job (baseline)
  and with one job through ``enqueue_after_commit`` (the outbox row, the after-commit send to
  dramatiq's stub broker and the second, mark-sent transaction); SQLite always, PostgreSQL when
  EXAM_BENCH_DATABASE_URL (default: the local server's ``test`` database) answers;
- strict JSON: the middleware's ``check_body`` against a plain ``json.loads`` (the parse FastAPI
  does anyway) on a typical save body and on a ~1 MB body of 2,000 items.

Run: ``.venv/bin/python bench/faults.py``. The last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exam_server import migrate  # noqa: E402
from exam_server.clock import system_clock  # noqa: E402
from exam_server.db import create_db_engine, enqueue_after_commit, make_session_factory  # noqa: E402
from exam_server.jobs.queue import JobContext, JobQueue  # noqa: E402
from exam_server.strict_json import check_body  # noqa: E402
from models import AuditEvent  # noqa: E402

N = 300
PG_URL = os.environ.get("EXAM_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99)]
    return {"p50": round(statistics.median(ordered) * 1000, 3), "p99": round(p99 * 1000, 3)}


def _transactions(url: str) -> dict[str, dict[str, float]]:
    engine = create_db_engine(url)
    queue = JobQueue(StubBroker(), JobContext(None, system_clock))
    factory = make_session_factory(engine, queue)

    def one(with_job: bool) -> float:
        started = time.perf_counter()
        with factory() as session:
            session.add(AuditEvent(action="bench", target_type="bench", created_at=datetime.now(UTC)))
            if with_job:
                enqueue_after_commit(session, "grade_attempt", 1, delay_seconds=60)
            session.commit()
        return time.perf_counter() - started

    for _ in range(20):  # warm the pool and caches
        one(False), one(True)
    plain, outboxed = [], []
    for _ in range(N):  # interleaved, so both see the same machine load
        plain.append(one(False))
        outboxed.append(one(True))
    queue.broker.close()
    engine.dispose()
    return {"plain": _ms(plain), "outbox": _ms(outboxed)}


def _postgres() -> str | None:
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"bench_faults_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None


def _drop(url: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _per_call_us(fn: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return round((time.perf_counter() - started) / repeat * 1e6, 2)


def _json_costs() -> dict[str, float]:
    save = json.dumps({"response": ["北京", "上海"], "client_seq": 1733040000000}).encode()
    items = [{"type": "single_choice", "stem": "题干 " * 40, "definition": {"options": [
        {"id": k, "text": f"选项 {k} " * 5} for k in "ABCD"], "correct": "B"}, "tags": ["a", "b"],
        "default_points": 2.5} for _ in range(2000)]
    big = json.dumps(items, ensure_ascii=False).encode()
    return {
        "save_json_loads_us": _per_call_us(lambda: json.loads(save), 20000),
        "save_strict_check_us": _per_call_us(lambda: check_body(save), 20000),
        "big_body_kb": round(len(big) / 1024),
        "big_json_loads_us": _per_call_us(lambda: json.loads(big), 20),
        "big_strict_check_us": _per_call_us(lambda: check_body(big), 20),
    }


def main() -> None:
    result: dict[str, object] = {"transactions": N}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(sqlite)
        result["sqlite_commit_ms"] = _transactions(sqlite)
    pg = _postgres()
    if pg is not None:
        try:
            migrate.upgrade(pg)
            result["postgresql_commit_ms"] = _transactions(pg)
        finally:
            _drop(pg)
    result.update(_json_costs())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
