"""Shared fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

PostgreSQL: EXAM_TEST_DATABASE_URL (default the local server's ``test`` database); the suite
creates its own scratch database next to it and drops it at the end. Redis: EXAM_TEST_REDIS_URL
(default redis://127.0.0.1:6379/0), used with a namespace unique to the run.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import START, World, build_world, make_client, make_runtime

from exam_server import migrate
from exam_server.clock import ManualClock
from models import Base

PG_URL = os.environ.get("EXAM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("EXAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_skip_reasons: dict[str, str] = {}


def _postgres_reason() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()} ({type(exc).__name__}: {exc})"


def _redis_reason() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}: {exc})"


def pytest_configure(config: pytest.Config) -> None:
    for name, reason in (("postgresql", _postgres_reason()), ("redis", _redis_reason())):
        if reason:
            _skip_reasons[name] = reason


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"postgresql: {'SKIPPED - ' + _skip_reasons['postgresql'] if 'postgresql' in _skip_reasons else PG_URL}"]
    lines.append(f"redis: {'SKIPPED - ' + _skip_reasons['redis'] if 'redis' in _skip_reasons else REDIS_URL}")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, reason in _skip_reasons.items():
        terminalreporter.write_line(f"NOTE: {name} tests were skipped: {reason}", yellow=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if "postgresql" in _skip_reasons:
        pytest.skip(_skip_reasons["postgresql"])
    name = f"exam_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "exam.db"
        shutil.copyfile(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    """A school, a class of two students (s1, s2), a teacher, six items, a paper and an open exam,
    built over HTTP on each database backend, with a clock the test moves by hand."""
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    yield build_world(make_client(runtime), runtime, clock)
    runtime.engine.dispose()


@pytest.fixture
def redis_url() -> str:
    if "redis" in _skip_reasons:
        pytest.skip(_skip_reasons["redis"])
    return REDIS_URL
