"""A two-school world for the permission tests, built over HTTP on each database backend.

School A: teacher ``tA`` (owns everything below), teacher ``tA2``, reviewer ``rA``, proctor ``pA``
(assigned to the exam), proctor ``pA2`` (not assigned), student ``sA`` (on the exam's roster).
School A also has a school admin ``saA``, exam-centre staff ``cA`` and ``cA2`` and a marker ``mA``
(none of them assigned to the exam; ``cA`` organises the printing exam ``EP``, see ``add_print_world``,
and runs a joint exam of class A1, see joint_perm_world). ``E`` has a scan batch with one page
waiting as an exception (``add_scan_world``). ``EM`` (``tA``'s, see ``add_marking_world``) has two
essays answered by ``sA`` and marked online by ``mA``.
School B: teacher ``tB``, student ``sB``, school admin ``saB``. District admin ``admin`` (district
``D``). School A has grade ``G10`` with classes ``A1`` (taught by ``tA``) and ``A2`` (taught by
``tA2``); school B class ``B1`` (taught by ``tB``).

``tA`` wrote items with every sharing scope, a paper of two of them and an exam (open now) on it,
so the paper and those items are locked to other teachers until the exam closes.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from print_fixture import seed_print_layout
from sqlalchemy import update
from support import PASSWORD, World

from exam_server.db import session_scope
from exam_server.services import accounts, marking, print_jobs, scans
from models import (
    ExamDuty,
    ExamStaff,
    MarkingTask,
    ProctorFrame,
    ProctorSession,
    ProctorSettings,
    Role,
    ScanBatch,
    ScanPage,
    User,
)

USERS = ["admin", "tA", "tA2", "rA", "pA", "pA2", "tB", "sA", "sB", "saA", "cA", "mA", "saB", "cA2"]
ROLE_OF = {"admin": Role.ADMIN, "tA": Role.TEACHER, "tA2": Role.TEACHER, "rA": Role.REVIEWER,
           "saA": Role.SCHOOL_ADMIN, "saB": Role.SCHOOL_ADMIN, "cA": Role.CENTRE_STAFF, "mA": Role.MARKER,
           "cA2": Role.CENTRE_STAFF,
           "pA": Role.PROCTOR, "pA2": Role.PROCTOR, "tB": Role.TEACHER, "sA": Role.STUDENT, "sB": Role.STUDENT}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


def _tf(stem: str, scope: str, **extra: Any) -> dict[str, Any]:
    return {"type": "true_false", "stem": stem, "definition": {"correct": True}, "share_scope": scope, **extra}


@dataclass
class PermWorld:
    world: World
    ids: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, url: str, who: str, **kwargs: Any) -> Any:
        return self.world.call(method, url, who, **kwargs)


def build_perm_world(world: World) -> PermWorld:
    w = PermWorld(world)
    clock = world.clock
    with session_scope(world.runtime.session_factory) as session:
        admin_id = accounts.create_user(session, "admin", PASSWORD, Role.ADMIN, "Admin", None, clock()).id
    world.login("admin")
    district = world.ok("POST", "/api/districts", "admin", json={"name": "D 区", "code": "D"})["id"]
    school_a = world.ok("POST", "/api/schools", "admin", json={"name": "A 中学", "code": "A",
                                                              "district_id": district})["id"]
    school_b = world.ok("POST", "/api/schools", "admin", json={"name": "B 中学", "code": "B"})["id"]
    grade = world.ok("POST", f"/api/schools/{school_a}/grades", "admin", json={"name": "G10"})["id"]
    class_a = world.ok("POST", f"/api/schools/{school_a}/classes", "admin",
                       json={"name": "A1", "grade_id": grade})["id"]
    class_a2 = world.ok("POST", f"/api/schools/{school_a}/classes", "admin",
                        json={"name": "A2", "grade_id": grade})["id"]
    class_b = world.ok("POST", f"/api/schools/{school_b}/classes", "admin", json={"name": "B1"})["id"]
    ids: dict[str, Any] = {"admin": admin_id}
    for name in ["tA", "tA2", "rA", "pA", "pA2", "tB", "saA", "cA", "mA", "saB", "cA2"]:
        school = school_b if name.endswith("B") else school_a
        ids[name] = world.ok("POST", "/api/users", "admin", json={
            "username": name, "password": PASSWORD, "display_name": name, "role": ROLE_OF[name],
            "school_id": school})["id"]
    for name, klass in (("tA", class_a), ("tA2", class_a2), ("tB", class_b)):
        world.ok("POST", f"/api/classes/{klass}/teachers", "admin", json={"teacher_id": ids[name], "subject": "math"})
    for name, klass in (("sA", class_a), ("sB", class_b)):
        created = world.ok("POST", f"/api/classes/{klass}/students", "admin",
                           json=[{"username": name, "password": PASSWORD, "display_name": name}])
        ids[name] = created["created"][0]["id"]
    for name in USERS[1:]:
        world.login(name)
    media = world.ok("POST", "/api/media", "tA", files={"file": ("p.png", PNG)})
    item = {
        "private": world.ok("POST", "/api/items", "tA", json=_tf("私有 ![p](media:p.png)", "private",
                                                                   media=[media]))["id"],
        "school": world.ok("POST", "/api/items", "tA", json=_tf("校内 school", "school"))["id"],
        "district": world.ok("POST", "/api/items", "tA", json=_tf("全区 district", "district"))["id"],
        "on_exam": world.ok("POST", "/api/items", "tA", json=_tf("考试中 on exam", "district"))["id"],
        "b_school": world.ok("POST", "/api/items", "tB", json=_tf("B 校 school", "school"))["id"],
    }
    paper = world.ok("POST", "/api/papers", "tA", json={"title": "P", "sections": [
        {"title": "一", "slots": [{"item_id": item["on_exam"], "points": 1}]}]})
    exam = world.ok("POST", "/api/exams", "tA", json={
        "title": "E", "paper_id": paper["id"], "class_id": class_a,
        "opens_at": (clock() - timedelta(minutes=5)).isoformat(),
        "closes_at": (clock() + timedelta(hours=3)).isoformat(), "duration_minutes": 60})
    world.ok("POST", f"/api/exams/{exam['id']}/staff", "tA", json={"user_id": ids["pA"], "duty": "proctor"})
    attempt = world.ok("POST", f"/api/exams/{exam['id']}/attempt", "sA")
    ids.update(school_a=school_a, school_b=school_b, class_a=class_a, class_a2=class_a2, class_b=class_b,
               district=district, grade=grade, subject="math", item=item,
               paper=paper["id"], exam=exam["id"], attempt=attempt["attempt_id"],
               slot=paper["sections"][0]["slots"][0]["slot_id"], sha=hashlib.sha256(PNG).hexdigest())
    w.ids = ids
    add_print_world(w)
    add_scan_world(w)
    add_marking_world(w)
    add_proctor_world(w)
    return w


def add_proctor_world(w: PermWorld) -> None:
    """Proctoring on ``E``: enabled, ``sA``'s session active (so saves still pass) with one frame
    (``proctor_frame``) in the evidence store."""
    world, now, ids = w.world, w.world.clock(), w.ids
    rt = world.runtime
    key = rt.evidence.put(b"\xff\xd8 frame \xff\xd9")
    with session_scope(rt.session_factory) as session:
        session.add(ProctorSettings(exam_id=ids["exam"], enabled=True, weights={}, retention_days=30, updated_at=now))
        ps = ProctorSession(attempt_id=ids["attempt"], exam_id=ids["exam"], user_id=ids["sA"], state="active",
                            identity="passed", last_seq=0, risk_score=0.0, created_at=now, updated_at=now)
        session.add(ps)
        session.flush()
        frame = ProctorFrame(session_id=ps.id, purpose="monitor", taken_at=now, storage_key=key, size_bytes=12)
        session.add(frame)
        session.flush()
        ids["proctor_frame"] = frame.id
    rt.proctored.forget(ids["exam"])


def add_print_world(w: PermWorld) -> None:
    """Printing: exam ``EP`` (created by the admin, same window as ``E``) with one site, a room of
    three candidates and a finished print run; exam-centre staff ``cA`` organises ``EP`` only."""
    world, clock = w.world, w.world.clock
    exam = world.ok("POST", "/api/exams", "admin", json={
        "title": "EP", "paper_id": w.ids["paper"], "class_id": w.ids["class_a"],
        "opens_at": (clock() - timedelta(minutes=5)).isoformat(),
        "closes_at": (clock() + timedelta(hours=3)).isoformat(), "duration_minutes": 60})
    with session_scope(world.runtime.session_factory) as session:
        seed_print_layout(session, exam["id"], clock(), prefix="pw", rooms=1, per_room=3)
        session.add(ExamStaff(exam_id=exam["id"], user_id=w.ids["cA"], duty=ExamDuty.ORGANISER))
    job = world.ok("POST", f"/api/exams/{exam['id']}/print-jobs", "admin", json={"kind": "door_lists"})
    print_jobs.run(world.runtime.session_factory, clock, job["id"])
    w.ids.update(print_exam=exam["id"], print_job=job["id"])


def add_scan_world(w: PermWorld) -> None:
    """Scanning: a batch on exam ``E`` (owned by ``tA``) with one page waiting as an exception."""
    world = w.world
    sha = scans.store_for(world.runtime.settings.data_dir).put(PNG, "page.png", "image/png")["sha256"]
    with session_scope(world.runtime.session_factory) as session:
        batch = ScanBatch(exam_id=w.ids["exam"], uploaded_by=w.ids["tA"], layout=None, status="done", files=1,
                          pages=1, done=1, read_ok=0, exceptions=1, duplicates=0, input_dir="",
                          created_at=world.clock())
        session.add(batch)
        session.flush()
        page = ScanPage(batch_id=batch.id, exam_id=w.ids["exam"], content_hash="0" * 64, source="p.png#1",
                        status="exception", issue_code="cannot_locate", issue_reason="no markers",
                        image_sha256=sha, created_at=world.clock())
        session.add(page)
        session.flush()
        w.ids.update(scan_batch=batch.id, scan_page=page.id)


def add_marking_world(w: PermWorld) -> None:
    """Online marking: exam ``EM`` (created by ``tA``, same window as ``E``) with two essays that ``sA``
    answered and submitted, one double-marked unit per essay, marker ``mA`` on its staff. ``mA`` holds
    the second unit's task (``marking_token2``); the first (``marking_token``) waits for a batch."""
    world, clock, ids = w.world, w.world.clock, w.ids
    essays = [world.ok("POST", "/api/items", "tA", json={"type": "essay", "stem": f"作文 {n}", "definition": {
        "reference_answer": "参考"}, "share_scope": "private"})["id"] for n in (1, 2)]
    ids["item"].update(essay1=essays[0], essay2=essays[1])  # tA's own, private
    paper = world.ok("POST", "/api/papers", "tA", json={"title": "PM", "sections": [
        {"title": "一", "slots": [{"item_id": i, "points": 2} for i in essays]}]})
    exam = world.ok("POST", "/api/exams", "tA", json={
        "title": "EM", "paper_id": paper["id"], "class_id": ids["class_a"],
        "opens_at": (clock() - timedelta(minutes=5)).isoformat(),
        "closes_at": (clock() + timedelta(hours=3)).isoformat(), "duration_minutes": 60})
    world.ok("POST", f"/api/exams/{exam['id']}/staff", "tA", json={"user_id": ids["mA"], "duty": "marker"})
    attempt = world.ok("POST", f"/api/exams/{exam['id']}/attempt", "sA")["attempt_id"]
    for seq, slot in enumerate(paper["sections"][0]["slots"], start=1):
        world.ok("PUT", f"/api/attempts/{attempt}/answers/{slot['slot_id']}", "sA",
                 json={"response": "答", "client_seq": seq})
    world.ok("POST", f"/api/attempts/{attempt}/submit", "sA")
    units = world.ok("POST", f"/api/exams/{exam['id']}/marking/units", "tA", json={"mode": "double"})
    with session_scope(world.runtime.session_factory) as session:
        marker = session.get(User, ids["mA"])
        assert marker is not None
        tokens = [marking.fetch_batch(session, marker, u["id"], 1, clock())["tasks"][0]["token"] for u in units]
    ids.update(mark_exam=exam["id"], marking_unit=units[0]["id"], marking_token=tokens[0],
               marking_token2=tokens[1])
    # The first unit's task is fetched again by the matrix (mA's row); free it here.
    with session_scope(world.runtime.session_factory) as session:
        session.execute(update(MarkingTask).where(MarkingTask.token == tokens[0])
                        .values(leased_by=None, lease_expires_at=None))
