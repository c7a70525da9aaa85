"""Online marking over the API and the service, on SQLite and PostgreSQL: units, anonymous batches,
double marking through to the attempt's total, third marks, arbitration, problems, leases, quotas,
and parallel markers that never get the same task twice."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import PASSWORD, World

from exam_server.db import session_scope
from exam_server.services import marking
from models import (
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    AuditEvent,
    ExamDuty,
    ExamStaff,
    MarkingAssignment,
    MarkingMark,
    MarkingTask,
    Role,
    StepKind,
    User,
)

ESSAY = 5  # index of the essay slot in support.ITEMS (10 points, no score step)


def _marker(world: World, name: str) -> int:
    user_id: int = world.ok("POST", "/api/users", "admin", json={
        "username": name, "password": PASSWORD, "display_name": name, "role": "marker",
        "school_id": world.ids["school"]})["id"]
    world.ok("POST", f"/api/exams/{world.ids['exam']}/staff", "teacher", json={"user_id": user_id, "duty": "marker"})
    world.login(name)
    return user_id


def _sit(world: World, student: str, essay: str) -> int:
    attempt_id: int = world.start(student)["attempt_id"]
    slots = world.ids["slots"]
    assert world.save(student, attempt_id, slots[0], "B", 1).status_code == 200  # 2 points, right
    assert world.save(student, attempt_id, slots[ESSAY], essay, 2).status_code == 200
    world.ok("POST", f"/api/attempts/{attempt_id}/submit", student)
    return attempt_id


@pytest.fixture
def marked(world: World) -> World:
    return set_up_marking(world)


def set_up_marking(world: World) -> World:
    """Two submitted attempts with an essay each, three markers on the exam, a double-marked unit."""
    world.ids["attempts"] = [_sit(world, "s1", "答案一 first essay"), _sit(world, "s2", "答案二 second essay")]
    world.ids["markers"] = {name: _marker(world, name) for name in ("m1", "m2", "m3")}
    units = world.ok("POST", f"/api/exams/{world.ids['exam']}/marking/units", "teacher",
                     json={"mode": "double", "tolerance": 2})
    # Named by the question as printed (the essay is question 6).
    assert [(u["name"], u["tasks"], u["by_state"]["waiting_first"]) for u in units] == [("Q6", 2, 2)]
    world.ids["unit"] = units[0]["id"]
    return world


def _batch(world: World, who: str, n: int = 10, queue: str = "marking") -> Any:
    return world.ok("POST", f"/api/marking/units/{world.ids['unit']}/batch", who, json={"n": n, "queue": queue})


def _mark(world: World, who: str, token: str, score: float) -> Any:
    return world.call("POST", f"/api/marking/tasks/{token}/mark", who, json={"score": score, "seconds": 30})


def _by_response(batch: Any) -> dict[str, str]:
    return {t["response"].split()[0]: t["token"] for t in batch["tasks"]}


def _attempt(world: World, attempt_id: int) -> tuple[str, float, bool]:
    with session_scope(world.runtime.session_factory) as session:
        a = session.get(Attempt, attempt_id)
        assert a is not None
        return a.state, a.score or 0.0, a.needs_manual_grading


def test_double_marking_third_mark_and_arbitration_reach_the_attempt(marked: World) -> None:
    w = marked
    a1, a2 = w.ids["attempts"]
    assert _attempt(w, a1) == (AttemptState.SUBMITTED, 2.0, True)
    batch = _batch(w, "m1")
    assert batch["unit"]["reference_answer"] == "SECRET-REFERENCE-TEXT" and batch["unit"]["points"] == 10
    assert len(batch["tasks"]) == 2
    for task in batch["tasks"]:  # anonymous: a token and the answer, nothing about who wrote it
        assert set(task) == {"token", "round", "response", "crop_id", "crops"} and task["round"] == "first"
        assert task["crops"] == [], "a typed answer has no scanned crops"
        assert len(task["token"]) == 32
    first = _by_response(batch)
    assert _mark(w, "m1", first["答案一"], 7).status_code == 200
    assert _mark(w, "m1", first["答案二"], 2).status_code == 200
    again = _mark(w, "m1", first["答案一"], 7)
    assert again.status_code == 409 and again.json()["error"] == "MarkingRefused" and "twice" in again.text
    assert _batch(w, "m1")["tasks"] == [], "a marker never gets a task they marked"
    second = _by_response(_batch(w, "m2"))
    assert second == first
    assert _mark(w, "m2", first["答案一"], 8).json() == {"token": first["答案一"], "round": "second", "score": 8}
    assert _attempt(w, a1) == (AttemptState.GRADED, 2.0 + 7.5, False)  # (7 + 8) / 2, within tolerance 2
    _mark(w, "m2", first["答案二"], 9)  # 2 vs 9: a third mark
    assert _attempt(w, a2) == (AttemptState.SUBMITTED, 2.0, True)
    third = _batch(w, "m3")["tasks"]
    assert [(t["token"], t["round"]) for t in third] == [(first["答案二"], "third")]
    _mark(w, "m3", first["答案二"], 5)  # 3 from 2, 4 from 9: arbitration
    assert _batch(w, "m3")["tasks"] == []
    r = w.call("POST", f"/api/marking/units/{w.ids['unit']}/batch", "m1", json={"queue": "arbitration"})
    assert r.status_code == 403, "only the lead marker arbitrates"
    arbitration = _batch(w, "teacher", queue="arbitration")["tasks"]
    assert [(t["token"], t["round"]) for t in arbitration] == [(first["答案二"], "arbitration")]
    assert _mark(w, "teacher", first["答案二"], 5.5).status_code == 200
    assert _attempt(w, a2) == (AttemptState.GRADED, 7.5, False)
    progress = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking", "teacher")[0]
    assert progress["done"] == 2 and progress["by_state"]["done"] == 2
    assert sum(progress["marks_by_marker"].values()) == 6
    assert "marks_by_marker" not in w.ok("GET", f"/api/exams/{w.ids['exam']}/marking", "m1")[0]
    with session_scope(w.runtime.session_factory) as session:
        steps = session.scalars(select(AttemptStep).where(AttemptStep.kind == StepKind.MANUALLY_GRADED)
                                .order_by(AttemptStep.id)).all()
        assert [(s.attempt_id, s.slot_id, s.data["score"]) for s in steps] == [
            (a1, w.ids["slots"][ESSAY], 7.5), (a2, w.ids["slots"][ESSAY], 5.5)]
        answer = session.get(AttemptAnswer, (a2, w.ids["slots"][ESSAY]))
        assert answer is not None and answer.fraction == 0.55 and answer.grading_state == "graded"
        rounds = [(m.round, m.score) for m in session.scalars(select(MarkingMark).order_by(MarkingMark.id))]
        assert rounds[-1] == ("arbitration", 5.5) and len(rounds) == 6
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "marking.arbitrated")).all()
    result = w.ok("GET", f"/api/attempts/{a2}/result", "teacher")
    assert result["score"] == 7.5


def test_bad_scores_and_strangers(marked: World) -> None:
    w = marked
    token = _batch(w, "m1", n=1)["tasks"][0]["token"]
    for body in ({"score": 10.5}, {"score": -1}, {"criteria": [3]}, {}):
        r = w.call("POST", f"/api/marking/tasks/{token}/mark", "m1", json=body)
        assert r.status_code == 422 and r.json()["error"] == "InvalidScore", (body, r.text)
    r = w.call("POST", f"/api/marking/tasks/{token}/mark", "m2", json={"score": 3})
    assert r.status_code == 409 and r.json()["error"] == "TaskLeasedElsewhere"
    assert w.call("POST", "/api/marking/tasks/nope/mark", "m1", json={"score": 3}).status_code == 404
    for who in ("s1", "admin"):
        r = w.call("POST", f"/api/marking/units/{w.ids['unit']}/batch", who, json={"n": 1})
        assert r.status_code in (403, 404), who
    assert w.call("POST", f"/api/marking/units/{w.ids['unit']}/batch", "m1", json={"n": 0}).status_code == 422
    assert w.call("POST", f"/api/exams/{w.ids['exam']}/marking/units", "m1", json={}).status_code == 404


def test_leases_expire_and_the_late_marker_is_told(marked: World) -> None:
    w = marked
    held = [t["token"] for t in _batch(w, "m1", n=1)["tasks"]]
    assert [t["token"] for t in _batch(w, "m1", n=1)["tasks"]] == held, "a reload gets the same batch back"
    other = [t["token"] for t in _batch(w, "m2", n=10)["tasks"]]
    assert len(other) == 1 and other != held
    w.clock.advance(minutes=21)
    for who in ("m1", "m2"):
        w.login(who)
    assert {t["token"] for t in _batch(w, "m2", n=10)["tasks"]} == {*other, *held}
    r = _mark(w, "m1", held[0], 4)
    assert r.status_code == 409 and r.json()["error"] == "TaskLeasedElsewhere"
    assert _mark(w, "m2", held[0], 4).status_code == 200


def test_problem_scripts_go_to_the_lead(marked: World) -> None:
    w = marked
    token = _batch(w, "m1", n=1)["tasks"][0]["token"]
    r = w.ok("POST", f"/api/marking/tasks/{token}/problem", "m1", json={"reason": "字迹无法辨认 unreadable"})
    assert r["state"] == "problem"
    assert token not in [t["token"] for t in _batch(w, "m2")["tasks"]]
    problems = _batch(w, "teacher", queue="problem")["tasks"]
    assert [(t["token"], t["problem"]) for t in problems] == [(token, "字迹无法辨认 unreadable")]
    assert w.call("POST", f"/api/marking/tasks/{token}/release", "m1").status_code == 403
    assert w.ok("POST", f"/api/marking/tasks/{token}/release", "teacher")["state"] == "waiting_first"
    r = w.call("POST", f"/api/marking/tasks/{token}/release", "teacher")
    assert r.status_code == 409 and r.json()["error"] == "MarkingRefused"
    token = _batch(w, "m3", n=1)["tasks"][0]["token"]
    w.ok("POST", f"/api/marking/tasks/{token}/problem", "m3", json={"reason": "抄袭 copying"})
    assert _mark(w, "teacher", token, 0).status_code == 200  # the lead scores it directly
    with session_scope(w.runtime.session_factory) as session:
        task = session.scalars(select(MarkingTask).where(MarkingTask.token == token)).one()
        assert (task.state, task.outcome, task.final_score) == ("done", "arbitrated", 0)
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("marking.%"))
                                  .order_by(AuditEvent.id)).all()
        assert actions == ["marking.unit_created", "marking.problem", "marking.problem_released",
                           "marking.problem", "marking.arbitrated"]


def test_quotas_and_assignments(marked: World) -> None:
    w = marked
    with session_scope(w.runtime.session_factory) as session:
        session.add(MarkingAssignment(unit_id=w.ids["unit"], user_id=w.ids["markers"]["m1"], quota=1))
    batch = _batch(w, "m1")
    assert len(batch["tasks"]) == 1 and batch["quota_left"] == 0
    _mark(w, "m1", batch["tasks"][0]["token"], 3)
    assert _batch(w, "m1")["tasks"] == []
    assert w.call("POST", f"/api/marking/units/{w.ids['unit']}/batch", "m2", json={}).status_code == 404, (
        "a unit with assignments is for its assigned markers only")


def test_creating_units_again_adds_only_new_tasks(marked: World) -> None:
    w = marked
    again = w.ok("POST", f"/api/exams/{w.ids['exam']}/marking/units", "teacher", json={"mode": "single"})
    assert [(u["id"], u["mode"], u["tasks"]) for u in again] == [(w.ids["unit"], "double", 2)]


def test_parallel_markers_never_get_the_same_task(world: World) -> None:
    """Forty answers, four markers fetching batches of three and marking them at once, each in its own
    session (single marking, so a task is handed out once in all)."""
    factory, now = world.runtime.session_factory, world.clock()
    exam_id, essay_slot = world.ids["exam"], world.ids["slots"][ESSAY]
    with session_scope(factory) as session:
        users = [User(username=f"c{i}", password_hash="x", role=Role.STUDENT, display_name=f"c{i}", created_at=now)
                 for i in range(40)]
        markers = [User(username=f"pm{i}", password_hash="x", role=Role.MARKER, display_name=f"pm{i}",
                        created_at=now) for i in range(4)]
        session.add_all(users + markers)
        session.flush()
        for user in users:
            attempt = Attempt(exam_id=exam_id, user_id=user.id, state=AttemptState.SUBMITTED, started_at=now,
                              deadline=now + timedelta(minutes=30), max_score=25)
            session.add(attempt)
            session.flush()
            session.add(AttemptAnswer(attempt_id=attempt.id, slot_id=essay_slot, response="x", client_seq=1,
                                      saved_at=now, grading_state="needs_manual"))
        session.add_all(ExamStaff(exam_id=exam_id, user_id=m.id, duty=ExamDuty.MARKER) for m in markers)
        teacher = session.scalars(select(User).where(User.username == "teacher")).one()
        exam = session.get(marking.Exam, exam_id)
        assert exam is not None
        settings = marking.UnitSettings(mode=marking.MarkingMode.SINGLE)
        unit_id = marking.create_units(session, teacher, exam, settings, now)[0].id
    got: dict[int, list[str]] = {m.id: [] for m in markers}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(markers))

    def work(marker: User) -> None:
        try:
            barrier.wait()
            for _ in range(40):
                with session_scope(factory) as session:
                    tokens = [t["token"] for t in marking.fetch_batch(session, marker, unit_id, 3, now)["tasks"]]
                if not tokens:
                    return
                got[marker.id].extend(tokens)
                for token in tokens:
                    with session_scope(factory) as session:
                        marking.submit_mark(session, marker, token, 1, None, 5, now)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in markers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    handed = [token for tokens in got.values() for token in tokens]
    assert len(handed) == 40 and len(set(handed)) == 40, "every task handed out exactly once"
    with session_scope(factory) as session:
        states = session.scalars(select(MarkingTask.state).where(MarkingTask.unit_id == unit_id)).all()
        assert states == ["done"] * 40
        assert len(session.scalars(select(MarkingMark.id)).all()) == 40
        graded = session.scalars(select(Attempt.state).where(Attempt.user_id.in_([u.id for u in users]))).all()
        assert graded == [AttemptState.GRADED] * 40
