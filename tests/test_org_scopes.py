"""Organisation scopes on both databases: the teacher of class A1 vs the teacher of A2 (same
school) vs the school admin vs another school; accounts a school admin may manage; initial and
reset passwords must be changed before anything else."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from permissions_world import PermWorld, build_perm_world
from sqlalchemy import select
from support import PASSWORD, START, World, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from models import AuditEvent


@pytest.fixture
def perm(database_url: str, tmp_path: Path) -> Iterator[PermWorld]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    yield build_perm_world(World(make_client(runtime), runtime, clock))
    runtime.engine.dispose()


def _classes(perm: PermWorld, who: str) -> set[int]:
    return {c["id"] for c in perm.world.ok("GET", "/api/classes", who)}


def test_each_user_lists_the_classes_in_their_reach(perm: PermWorld) -> None:
    ids = perm.ids
    assert _classes(perm, "tA") == {ids["class_a"]}
    assert _classes(perm, "tA2") == {ids["class_a2"]}
    assert _classes(perm, "rA") == set(), "a reviewer not assigned to a class sees none"
    assert _classes(perm, "saA") == {ids["class_a"], ids["class_a2"]}
    assert _classes(perm, "saB") == {ids["class_b"]}
    assert _classes(perm, "admin") == {ids["class_a"], ids["class_a2"], ids["class_b"]}
    grades = perm.world.ok("GET", "/api/classes", "saA")
    assert {c["grade_name"] for c in grades} == {"G10"}


def test_a_teacher_enrols_and_schedules_only_for_assigned_classes(perm: PermWorld) -> None:
    ids, w = perm.ids, perm.world
    body = [{"username": "new-a2", "password": PASSWORD, "display_name": "新生"}]
    assert w.call("POST", f"/api/classes/{ids['class_a']}/students", "tA2", json=body).status_code == 404
    assert w.ok("POST", f"/api/classes/{ids['class_a2']}/students", "tA2", json=body)["created"]
    item = w.ok("POST", "/api/items", "tA2", json={"type": "true_false", "stem": "x", "definition": {"correct": True}})
    paper = w.ok("POST", "/api/papers", "tA2", json={"title": "P2", "sections": [
        {"title": "s", "slots": [{"item_id": item["id"], "points": 1}]}]})
    exam = {"title": "A2 quiz", "paper_id": paper["id"], "opens_at": START.isoformat(),
            "closes_at": (START + timedelta(hours=2)).isoformat(), "duration_minutes": 30}
    assert w.call("POST", "/api/exams", "tA2", json={**exam, "class_id": ids["class_a"]}).status_code == 404
    created = w.ok("POST", "/api/exams", "tA2", json={**exam, "class_id": ids["class_a2"]})
    # The school admin reads the results of every exam of the school; the other school's does not.
    assert w.call("GET", f"/api/exams/{created['id']}/results", "saA").status_code == 200
    assert w.call("GET", f"/api/exams/{created['id']}/results", "saB").status_code == 404
    assert created["id"] in {e["id"] for e in w.ok("GET", "/api/exams", "saA")}
    assert created["id"] not in {e["id"] for e in w.ok("GET", "/api/exams", "saB")}


def test_an_assignment_needs_a_teacher_of_the_same_school(perm: PermWorld) -> None:
    ids, w = perm.ids, perm.world
    r = w.call("POST", f"/api/classes/{ids['class_a']}/teachers", "saA", json={"teacher_id": ids["tB"], "subject": "x"})
    assert r.status_code == 422 and "school" in r.json()["detail"]
    r = w.call("POST", f"/api/classes/{ids['class_a']}/teachers", "saA", json={"teacher_id": ids["sA"], "subject": "x"})
    assert r.status_code == 422 and "not a teacher" in r.json()["detail"]
    w.ok("POST", f"/api/classes/{ids['class_a']}/teachers", "saA", json={"teacher_id": ids["tA2"], "subject": "art"})
    assert _classes(perm, "tA2") == {ids["class_a"], ids["class_a2"]}
    rows = w.ok("GET", f"/api/schools/{ids['school_a']}/assignments", "saA")
    assert ("tA2", "A1", "art") in {(r["username"], r["class_name"], r["subject"]) for r in rows}
    r = w.call("POST", f"/api/schools/{ids['school_a']}/classes", "saA", json={"name": "X", "grade_id": 10_000})
    assert r.status_code == 422 and "grade_id" in r.json()["detail"]


def test_a_school_admin_manages_only_non_admin_accounts_of_their_school(perm: PermWorld) -> None:
    ids, w = perm.ids, perm.world
    teacher = {"username": "t-new", "password": PASSWORD, "display_name": "新老师", "role": "teacher"}
    assert w.call("POST", "/api/users", "saA", json={**teacher, "school_id": ids["school_b"]}).status_code == 404
    assert w.call("POST", "/api/users", "saA", json={**teacher, "role": "school_admin",
                                                     "school_id": ids["school_a"]}).status_code == 404
    assert w.call("POST", "/api/users", "saA", json={**teacher, "role": "admin",
                                                     "school_id": ids["school_a"]}).status_code == 404
    w.ok("POST", "/api/users", "saA", json={**teacher, "school_id": ids["school_a"]})
    listed = {u["username"] for u in w.ok("GET", "/api/users?limit=1000", "saA")}
    assert {"tA", "sA", "t-new"} <= listed and not listed & {"admin", "saA", "tB", "sB", "saB"}
    assert {u["username"] for u in w.ok("GET", "/api/users?q=t-n", "saA")} == {"t-new"}
    for target in ("tB", "saB"):
        assert w.call("POST", f"/api/users/{ids[target]}/password", "saA", json={}).status_code == 404
        assert w.call("POST", f"/api/users/{ids[target]}/deactivate", "saA").status_code == 404
    assert w.call("POST", f"/api/users/{ids['saA']}/deactivate", "saB").status_code == 404


def test_a_reset_password_must_be_changed_before_anything_else(perm: PermWorld) -> None:
    ids, w = perm.ids, perm.world
    reset = w.ok("POST", f"/api/users/{ids['sA']}/password", "saA", json={})
    initial = reset["initial_password"]
    assert len(initial) == 10 and reset["must_change_password"] is True
    r = w.client.post("/api/auth/login", json={"username": "sA", "password": initial})
    assert r.status_code == 200 and r.json()["user"]["must_change_password"] is True
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    blocked = w.client.get("/api/exams", headers=token)
    assert blocked.status_code == 403 and blocked.json()["error"] == "PasswordChangeRequired"
    assert w.client.get("/api/auth/me", headers=token).json()["must_change_password"] is True
    r = w.client.post("/api/auth/password", headers=token, json={"current_password": initial,
                                                                  "new_password": "my-own-pass-1"})
    assert r.status_code == 200 and r.json()["user"]["must_change_password"] is False
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert w.client.get("/api/exams", headers=fresh).status_code == 200
    # A chosen password set by an admin is a reset too: it must be changed.
    w.ok("POST", f"/api/users/{ids['sA']}/password", "admin", json={"password": "admin-set-pass"})
    r = w.client.post("/api/auth/login", json={"username": "sA", "password": "admin-set-pass"})
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert w.client.get("/api/exams", headers=token).json()["error"] == "PasswordChangeRequired"
    with session_scope(w.runtime.session_factory) as session:
        trail = session.execute(select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.target_id)
                                .where(AuditEvent.action == "user.password_reset").order_by(AuditEvent.id)).all()
    assert [tuple(t) for t in trail] == [(ids["saA"], "user.password_reset", ids["sA"]),
                                         (ids["admin"], "user.password_reset", ids["sA"])]


def test_a_nul_in_the_subject_path_is_refused_not_queried(perm: PermWorld) -> None:
    ids = perm.ids
    r = perm.call("DELETE", f"/api/classes/{ids['class_a']}/teachers/{ids['tA']}/ma%00th", "admin")
    assert r.status_code == 422, r.text
    r = perm.call("DELETE", f"/api/classes/{ids['class_a']}/teachers/{ids['tA']}/math", "admin")
    assert r.status_code == 204 and _classes(perm, "tA") == set()
