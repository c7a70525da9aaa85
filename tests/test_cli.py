"""The `exam` command as an operator runs it: db upgrade, demo seeding, and a real `exam worker`
process closing overdue attempts from Redis."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from exam_server.clock import system_clock
from exam_server.jobs.queue import JobContext, JobQueue, build_broker
from item_bank.assembly import Blueprint, DifficultyTarget, Section, assemble, check
from item_bank.bank_pool import load_pool, load_tree
from models import Attempt, AttemptState, AttemptStep, Exam, StepKind, User


def _exam(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exam_server.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_db_upgrade_and_demo_seed_are_repeatable(tmp_path: Path) -> None:
    env = {"EXAM_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db", "EXAM_DATA_DIR": str(tmp_path / "data")}
    upgraded = _exam(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    for _ in range(2):  # seeding twice keeps one set of people and one open exam
        seeded = _exam(["demo", "--no-serve"], env)
        assert seeded.returncode == 0, seeded.stderr
        assert "student1" in seeded.stdout and "http://127.0.0.1:8000/" in seeded.stdout
    engine = create_engine(env["EXAM_DATABASE_URL"])
    with Session(engine) as session:
        # admin, school admin, teacher, reviewer, proctor and five students
        assert session.scalar(select(func.count()).select_from(User)) == 10
        assert session.scalar(select(func.count()).select_from(Exam)) == 1
        # the demo bank is rich enough to assemble a paper from
        pool, tree = load_pool(session, None, datetime.now(UTC), 180), load_tree(session)
        sections = (Section("选择", 5, ("single_choice",), 4.0), Section("判断", 5, ("true_false",), 2.0))
        blueprint = Blueprint(sections=sections, difficulty=DifficultyTarget(mean=0.65, tolerance=0.1))
        paper = assemble(blueprint, pool, tree)
        assert check(blueprint, pool, tree, paper) == [] and len(paper.item_ids()) == 10
    engine.dispose()


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    result = _exam(["worker"], {"EXAM_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "EXAM_REDIS_URL": ""})
    assert result.returncode != 0 and "EXAM_REDIS_URL" in result.stderr


def _seed_overdue_attempt(database_url: str, tmp_path: Path) -> int:
    env = {"EXAM_DATABASE_URL": database_url, "EXAM_DATA_DIR": str(tmp_path / "data")}
    assert _exam(["demo", "--no-serve"], env).returncode == 0
    engine = create_engine(database_url)
    with Session(engine) as session:
        exam = session.scalars(select(Exam)).one()
        student = session.scalars(select(User).where(User.username == "student1")).one()
        started = datetime.now(UTC) - timedelta(hours=2)
        attempt = Attempt(exam_id=exam.id, user_id=student.id, state=AttemptState.IN_PROGRESS, started_at=started,
                          deadline=started + timedelta(minutes=60), max_score=30)
        session.add(attempt)
        session.commit()
        attempt_id = attempt.id
    engine.dispose()
    return attempt_id


def test_worker_process_closes_overdue_attempts_from_redis(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    attempt_id = _seed_overdue_attempt(database_url, tmp_path)
    namespace = f"exam-cli-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "EXAM_DATABASE_URL": database_url, "EXAM_REDIS_URL": redis_url,
           "EXAM_QUEUE_NAMESPACE": namespace, "EXAM_SECRET_KEY": "x" * 40, "EXAM_SWEEP_SECONDS": "3600"}
    worker = subprocess.Popen([sys.executable, "-m", "exam_server.cli", "worker", "--threads", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    queue = JobQueue(build_broker(redis_url, namespace), JobContext(None, system_clock))
    try:
        queue.send("close_overdue_attempts")
        engine = create_engine(database_url)
        closed = 0
        for _ in range(300):
            with Session(engine) as session:
                closed = session.scalar(select(func.count()).select_from(AttemptStep).where(
                    AttemptStep.attempt_id == attempt_id, AttemptStep.kind == StepKind.CLOSED_AT_DEADLINE)) or 0
                attempt = session.get(Attempt, attempt_id)
            if closed:
                break
            time.sleep(0.1)
        engine.dispose()
        assert closed == 1
        assert attempt is not None and attempt.finish_reason == "deadline" and attempt.state == "graded"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
        queue.broker.close()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
    assert worker.returncode == 0, output


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("EXAM_"):
            monkeypatch.delenv(name)
