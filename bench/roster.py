"""What a roster import costs, on SQLite, each figure against a baseline measured in the same run.

A school of ``EXAM_BENCH_ROSTER_ROWS`` (default 1,000) students in 20 classes is imported from an
XLSX file, then the same file again (every row an update):

- ``parse_s`` (openpyxl read_only) and ``plan_s`` (the preview's checks, one read per table);
- initial-password hashing: ``hash_pool_per_s`` (``roster.hash_all``: one thread per core, the
  process-wide argon2 slots) against ``hash_serial_per_s`` (one after another, the baseline), on
  the same ``HASH_SAMPLE`` passwords;
- ``write_s``: the one write transaction of apply (what holds SQLite's lock), for the creating
  import and for the re-import (``rewrite_s``).

Run: ``.venv/bin/python bench/roster.py``. The last stdout line is one JSON object.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exam_server import migrate  # noqa: E402
from exam_server.api.accounts import initial_password  # noqa: E402
from exam_server.clock import system_clock  # noqa: E402
from exam_server.db import create_db_engine, make_session_factory, session_scope  # noqa: E402
from exam_server.services import accounts, org, roster  # noqa: E402
from exam_server.services.roster_xlsx import read_roster  # noqa: E402
from exam_server.sessions.passwords import HASH_SLOTS, Passwords  # noqa: E402
from models import Role, School, User  # noqa: E402

ROWS = int(os.environ.get("EXAM_BENCH_ROSTER_ROWS", "1000"))
HASH_SAMPLE = 64
CLASSES = 20


def workbook(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["学号", "姓名", "性别", "年级", "班级"])
    for n in range(rows):
        sheet.append([f"2026{n:05d}", f"学生{n}", "男" if n % 2 else "女", "高一", f"高一({n % CLASSES + 1})班"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def timed(run: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main() -> None:
    passwords = Passwords()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/roster.db"
        migrate.upgrade(url)
        engine = create_db_engine(url)
        factory = make_session_factory(engine, None)
        now = system_clock()
        with session_scope(factory) as session:
            school = accounts.create_school(session, "基准中学", None, "BM")
            grade = org.create_grade(session, school.id, "高一", None)
            for c in range(CLASSES):
                accounts.create_class(session, school.id, f"高一({c + 1})班", grade.id)
            actor = accounts.create_user(session, "bench-admin", "bench-pass-1", Role.ADMIN, "admin", None, now)
            school_id, actor_id = school.id, actor.id
        data = workbook(ROWS)
        parse_s, sheet = timed(lambda: read_roster(data, "students", ROWS))

        def plan() -> roster.Plan:
            with session_scope(factory) as session:
                found = session.get(School, school_id)
                assert found is not None
                return roster.plan_roster(session, found, "students", sheet, False)  # type: ignore[arg-type]

        plan_s, first = timed(plan)
        assert isinstance(first, roster.Plan) and first.errors == 0
        sample = [initial_password(10) for _ in range(HASH_SAMPLE)]
        serial_s, _ = timed(lambda: [passwords.hash(p) for p in sample])
        pool_s, _ = timed(lambda: roster.hash_all(passwords, sample))
        plain = [initial_password(10) for _ in first.rows]
        hashes = roster.hash_all(passwords, plain)

        def write(plan: roster.Plan, by_row: dict[int, str]) -> None:
            with session_scope(factory) as session:
                actor = session.get(User, actor_id)
                assert actor is not None
                roster.apply_plan(session, plan, by_row, actor, system_clock())

        write_s, _ = timed(lambda: write(first, {r.checked.row: h for r, h in zip(first.rows, hashes, strict=True)}))
        second = plan()
        assert all(r.action == "update" for r in second.rows)
        rewrite_s, _ = timed(lambda: write(second, {}))
        engine.dispose()
    print(json.dumps({
        "rows": ROWS, "cores": HASH_SLOTS, "parse_s": round(parse_s, 3), "plan_s": round(plan_s, 3),
        "hash_serial_per_s": round(HASH_SAMPLE / serial_s, 1), "hash_pool_per_s": round(HASH_SAMPLE / pool_s, 1),
        "pool_speedup": round(serial_s / pool_s, 2), "write_s": round(write_s, 3), "rewrite_s": round(rewrite_s, 3),
        "apply_estimate_s": round(plan_s + ROWS / (HASH_SAMPLE / pool_s) + write_s, 2),
    }))


if __name__ == "__main__":
    main()
