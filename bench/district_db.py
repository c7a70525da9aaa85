"""The service path of bench/district.py: the same district as rows in a database, seated and
numbered by :mod:`exam_server.services.seat_plan` (allocation, then publishing).

Used by ``bench/district.py --database-url URL``; the database must be empty (it is migrated to
head here) or a fresh SQLite path. Rows are inserted in bulk with one shared password hash.
"""

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from exam_server import migrate
from exam_server.db import create_db_engine, make_session_factory, session_scope
from exam_server.security import hash_password
from exam_server.services import joint, seat_plan
from models import (
    ClassMembership,
    Exam,
    ExamCandidate,
    ExamRoom,
    ExamSitting,
    Paper,
    Role,
    Room,
    School,
    SchoolClass,
    Site,
    User,
)

SCHEME = "{year}{site}{room:04}{seat:02}"


def run_db(args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: bench/district.py puts the repository on sys.path first.
    from bench.district import ROOMS_PER_SITE, build_district

    cands, rooms = build_district(args.candidates, args.schools, args.rooms, args.seed)
    migrate.upgrade(args.database_url)
    engine = create_db_engine(args.database_url)
    factory = make_session_factory(engine, None)
    now = datetime.now(UTC)
    start = time.perf_counter()
    with session_scope(factory) as session:
        admin_id, exam_id = _seed(session, cands, rooms, args.schools, ROOMS_PER_SITE, now)
    seed_seconds = time.perf_counter() - start
    with session_scope(factory) as session:
        admin, exam = session.get(User, admin_id), session.get(Exam, exam_id)
        assert admin is not None and exam is not None
        start = time.perf_counter()
        reports = seat_plan.allocate_exam(session, admin, exam, now)
        allocate_seconds = time.perf_counter() - start
    with session_scope(factory) as session:
        admin, exam = session.get(User, admin_id), session.get(Exam, exam_id)
        assert admin is not None and exam is not None
        start = time.perf_counter()
        published = seat_plan.publish(session, admin, exam, now)
        publish_seconds = time.perf_counter() - start
    with session_scope(factory) as session:
        numbered = session.scalar(select(func.count(func.distinct(ExamCandidate.admission_no)))
                                  .where(ExamCandidate.exam_id == exam_id)) or 0
    engine.dispose()
    return {"db_seed_seconds": round(seed_seconds, 2), "db_allocate_seconds": round(allocate_seconds, 2),
            "db_publish_seconds": round(publish_seconds, 2), "db_published": published,
            "db_distinct_numbers": numbered,
            "db_same_class_adjacent_pairs": sum(r.same_class_adjacent_pairs for r in reports)}


def _seed(session: Session, cands: list[Any], rooms: list[Any], schools: int, per_site: int,
          now: datetime) -> tuple[int, int]:
    password = hash_password("bench-pass-1")
    admin = User(username="bench-admin", password_hash=password, role=Role.ADMIN, display_name="admin",
                 is_active=True, created_at=now)
    session.add(admin)
    session.flush()
    groups = sorted({c.group for c in cands})
    per_school = max(1, len(groups) // schools)
    school_ids = _ids(session, School, [{"name": f"school {s}", "code": f"{s:04}"} for s in range(schools)])
    class_ids = _ids(session, SchoolClass, [{"school_id": school_ids[min(g // per_school, schools - 1)],
                                             "name": f"class {g}"} for g in groups])
    class_of = dict(zip(groups, class_ids, strict=True))
    user_ids = _ids(session, User, [{"username": f"cand{c.key}", "password_hash": password, "role": Role.STUDENT,
                                     "display_name": f"cand {c.key}", "is_active": True, "created_at": now}
                                    for c in cands])
    session.execute(insert(ClassMembership), [{"class_id": class_of[c.group], "user_id": uid}
                                              for c, uid in zip(cands, user_ids, strict=True)])
    paper = Paper(title="bench", author_id=admin.id, frozen=True, created_at=now)
    session.add(paper)
    session.flush()
    data = joint.JointInput("district bench", paper.id, now, now + timedelta(hours=3), 120)
    exam = Exam(title=data.title, paper_id=paper.id, class_id=None, opens_at=now, closes_at=data.closes_at,
                duration_minutes=120, results_released=False, created_by=admin.id, created_at=now, seat_seed=1,
                admission_scheme=SCHEME)
    session.add(exam)
    session.flush()
    sitting = ExamSitting(exam_id=exam.id, name="AM", opens_at=now, closes_at=data.closes_at, is_makeup=False)
    session.add(sitting)
    session.flush()
    site_ids = _ids(session, Site, [{"name": f"site {s}", "code": f"{s + 1:03}"}
                                    for s in range((len(rooms) + per_site - 1) // per_site)])
    room_ids = _ids(session, Room, [{"site_id": site_ids[i // per_site], "code": f"R{i}", "name": f"room {i}",
                                     "rows": r.rows, "cols": r.cols, "capacity": r.capacity}
                                    for i, r in enumerate(rooms)])
    session.execute(insert(ExamRoom), [{"exam_id": exam.id, "sitting_id": sitting.id, "room_id": rid,
                                        "number": i + 1} for i, rid in enumerate(room_ids)])
    session.execute(insert(ExamCandidate), [{"exam_id": exam.id, "user_id": uid, "class_id": class_of[c.group],
                                             "extra_minutes": 0} for c, uid in zip(cands, user_ids, strict=True)])
    return admin.id, exam.id


def _ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert, returning the new ids in order (both backends support RETURNING)."""
    result = session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result)
