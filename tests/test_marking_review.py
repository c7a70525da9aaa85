"""Running a marking unit and reviewing its markers, over the API on SQLite and PostgreSQL: markers
with quotas, the lead, rules before the first mark, quality figures, blind re-sent scripts, and
send-back of recent marks (voided, never deleted) through to the attempt's score; and send-back
racing a marker's submit on PostgreSQL."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from support import World
from test_marking import _attempt, _batch, _by_response, _mark, _marker, set_up_marking

from exam_server.db import session_scope
from exam_server.services import marking, marking_review
from grading.marking import UnitRules, replay
from models import (
    Attempt,
    AttemptAnswer,
    AttemptState,
    AuditEvent,
    ExamDuty,
    ExamStaff,
    MarkingMark,
    MarkingRemark,
    MarkingTask,
    MarkingUnit,
    MarkingVoid,
    Role,
    User,
)

ESSAY = 5


@pytest.fixture
def marked(world: World) -> World:
    return set_up_marking(world)


def _unit(w: World, tail: str = "") -> str:
    return f"/api/marking/units/{w.ids['unit']}{tail}"


def _progress(w: World, who: str = "teacher") -> dict[str, Any]:
    row: dict[str, Any] = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking", who)[0]
    return row


def test_markers_quotas_lead_and_rules(marked: World) -> None:
    w = marked
    m = w.ids["markers"]
    assert w.call("POST", _unit(w, "/markers"), "m1", json={"user_id": m["m2"]}).status_code == 403
    assert w.call("POST", _unit(w, "/markers"), "teacher", json={"user_id": 10**6}).status_code == 404
    s1 = w.ok("GET", "/api/auth/me", "s1")["id"]
    r = w.call("POST", _unit(w, "/markers"), "teacher", json={"user_id": s1})
    assert r.status_code == 422 and "student cannot be marker" in r.json()["detail"]
    assert w.ok("POST", _unit(w, "/markers"), "teacher", json={"user_id": m["m1"], "quota": 1})["quota"] == 1
    w.ok("POST", _unit(w, "/markers"), "teacher", json={"user_id": m["m2"]})
    assert w.call("POST", _unit(w, "/batch"), "m3", json={"n": 5}).status_code == 404, "m3 is not assigned"
    assert w.ok("PUT", _unit(w, "/rules"), "teacher", json={"mode": "triple", "tolerance": 3})["mode"] == "triple"
    r = w.call("PUT", _unit(w, "/rules"), "teacher", json={"tolerance": 11})
    assert r.status_code == 422 and "above" in r.json()["detail"]
    w.ok("PUT", _unit(w, "/rules"), "teacher", json={"mode": "double", "tolerance": 2})
    batch = _batch(w, "m1")
    assert len(batch["tasks"]) == 1 and batch["quota_left"] == 0
    assert _mark(w, "m1", batch["tasks"][0]["token"], 4).status_code == 200
    r = w.call("PUT", _unit(w, "/rules"), "teacher", json={"tolerance": 1})
    assert r.status_code == 409 and r.json()["error"] == "MarkingRefused" and "started" in r.json()["detail"]
    w.ok("PUT", _unit(w, f"/markers/{m['m1']}"), "teacher", json={"quota": 2})
    rows = {r["user_id"]: r for r in _progress(w)["markers"]}
    assert (rows[m["m1"]]["done"], rows[m["m1"]]["quota"], rows[m["m2"]]["quota"]) == (1, 2, None)
    assert _progress(w, "m1")["my_quota"] == 2 and "markers" not in _progress(w, "m1")
    held = _batch(w, "m2", n=1)["tasks"][0]["token"]
    assert w.ok("DELETE", _unit(w, f"/markers/{m['m2']}"), "teacher") == {
        "unit_id": w.ids["unit"], "user_id": m["m2"], "marks_kept": 0, "freed": 1}
    with session_scope(w.runtime.session_factory) as session:
        task = session.scalars(select(MarkingTask).where(MarkingTask.token == held)).one()
        assert task.leased_by is None, "m2's batch went back to the queue"
    r = w.call("DELETE", _unit(w, f"/markers/{m['m1']}"), "teacher")
    assert r.status_code == 409 and "last assigned marker" in r.json()["detail"]
    assert w.call("POST", _unit(w, "/batch"), "m3", json={"queue": "arbitration"}).status_code == 404
    w.ok("PUT", _unit(w, "/lead"), "teacher", json={"lead_marker_id": m["m3"]})
    assert w.ok("POST", _unit(w, "/batch"), "m3", json={"queue": "arbitration"})["tasks"] == []
    assert w.ok("GET", _unit(w, "/quality"), "m3")["unit"]["lead_marker_id"] == m["m3"]
    assert w.call("GET", _unit(w, "/quality"), "m1").status_code == 403
    with session_scope(w.runtime.session_factory) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("marking.%"))
                                  .order_by(AuditEvent.id)).all()
    assert actions == ["marking.unit_created", "marking.marker_assigned", "marking.marker_assigned",
                       "marking.rules_set", "marking.rules_set", "marking.quota_changed", "marking.marker_removed",
                       "marking.lead_set"]


def _mark_both(w: World) -> dict[str, str]:
    """m1 gives 7 and 2, m2 8 and 9: the first essay agrees (7.5), the second goes to m3 (5) and to
    arbitration by the teacher (5.5), as in test_marking."""
    tokens = _by_response(_batch(w, "m1"))
    _mark(w, "m1", tokens["答案一"], 7)
    _mark(w, "m1", tokens["答案二"], 2)
    _batch(w, "m2")
    _mark(w, "m2", tokens["答案一"], 8)
    _mark(w, "m2", tokens["答案二"], 9)
    _batch(w, "m3")
    _mark(w, "m3", tokens["答案二"], 5)
    arbitration = _batch(w, "teacher", queue="arbitration")["tasks"]
    assert [(e["marker"], e["score"]) for e in arbitration[0]["earlier_marks"]] == [("m1", 2), ("m2", 9), ("m3", 5)]
    assert _mark(w, "teacher", tokens["答案二"], 5.5).status_code == 200
    return tokens


def test_quality_figures_per_marker(marked: World) -> None:
    w = marked
    _mark_both(w)
    q = {r["name"]: r for r in w.ok("GET", _unit(w, "/quality"), "teacher")["markers"]}
    # m1: 7 and 2 at 30 s each; the group: 7, 2, 8, 9, 5 -> mean 6.2
    assert (q["m1"]["marks"], q["m1"]["median_seconds"], q["m1"]["scripts_per_hour"]) == (2, 30, 120)
    assert (q["m1"]["mean"], q["m1"]["sd"], q["m1"]["group_mean"], q["m1"]["mean_vs_group"]) == (4.5, 2.5, 6.2, -1.7)
    # against the arbitration 5.5: m1's 2 is 3.5 off, m2's 9 is 3.5 off, m3's 5 is 0.5 off (tolerance 2)
    assert (q["m1"]["lead_agreement"], q["m1"]["lead_mean_diff"]) == (0.0, -3.5)
    assert (q["m3"]["lead_agreement"], q["m3"]["lead_mean_diff"]) == (1.0, -0.5)
    assert (q["m1"]["third_rate"], q["m2"]["third_rate"], q["m3"]["arbitration_rate"]) == (0.5, 0.5, 1.0)
    assert (q["m1"]["safe_middle"], q["m3"]["safe_middle"]) == (0.0, 1.0)  # 5 ± 1
    assert "teacher" not in q, "the arbitration marks are the reference, not a marker's own"
    assert w.call("GET", _unit(w, "/quality"), "m1").status_code == 403


def test_re_sent_scripts_are_blind_and_never_change_the_score(marked: World) -> None:
    w = marked
    a1, _ = w.ids["attempts"]
    tokens = _mark_both(w)
    before = _attempt(w, a1)
    assert w.call("POST", _unit(w, "/resend"), "m1", json={"marker_id": w.ids["markers"]["m1"], "k": 1}
                  ).status_code == 403
    sent = w.ok("POST", _unit(w, "/resend"), "teacher", json={"marker_id": w.ids["markers"]["m1"], "k": 5})
    assert (sent["asked"], sent["sent"]) == (5, 2), "only two scripts were marked by m1"
    batch = _batch(w, "m1")["tasks"]
    assert len(batch) == 2 and not {t["token"] for t in batch} & set(tokens.values())
    assert all(set(t) == {"token", "round", "response", "crop_id", "crops"} and t["round"] == "first" for t in batch)
    again = {t["response"].split()[0]: t["token"] for t in batch}
    assert _mark(w, "m1", again["答案一"], 6).json()["score"] == 6
    assert _mark(w, "m1", again["答案一"], 6).status_code == 409
    assert _mark(w, "m2", again["答案二"], 6).status_code == 404, "a re-sent script is for its marker only"
    w.ok("POST", f"/api/marking/tasks/{again['答案二']}/problem", "m1", json={"reason": "unreadable"})
    assert _batch(w, "m1")["tasks"] == []
    assert _attempt(w, a1) == before
    q = {r["name"]: r for r in w.ok("GET", _unit(w, "/quality"), "teacher")["markers"]}
    assert (q["m1"]["remarks"], q["m1"]["self_mean_abs_diff"], q["m1"]["self_within"]) == (1, 1.0, 1.0)
    r = w.call("POST", _unit(w, "/resend"), "teacher", json={"marker_id": w.ids["markers"]["m1"], "k": 1})
    assert r.status_code == 409, "every script of m1 was re-sent once already"
    with session_scope(w.runtime.session_factory) as session:
        assert len(session.scalars(select(MarkingRemark)).all()) == 2
        assert len(session.scalars(select(MarkingMark)).all()) == 6


def test_send_back_voids_marks_and_requeues(marked: World) -> None:
    w = marked
    a1, a2 = w.ids["attempts"]
    tokens = _mark_both(w)
    m1 = w.ids["markers"]["m1"]
    assert _attempt(w, a1) == (AttemptState.GRADED, 9.5, False)
    body = {"marker_id": m1, "last": 2, "reason": "too harsh"}
    assert w.call("POST", _unit(w, "/send-back"), "m2", json=body).status_code == 403
    assert w.call("POST", _unit(w, "/send-back"), "teacher", json={**body, "since": "2026-01-01T00:00:00Z"}
                  ).status_code == 400
    out = w.ok("POST", _unit(w, "/send-back"), "teacher", json=body)
    assert (out["tasks"], out["voided"], out["reopened"]) == (2, 3, 2)  # m1's two marks and the arbitration
    with session_scope(w.runtime.session_factory) as session:
        states = {t.token: (t.state, t.final_score) for t in session.scalars(select(MarkingTask))}
        assert states == {tokens["答案一"]: ("waiting_second", None), tokens["答案二"]: ("waiting_third", None)}
        assert len(session.scalars(select(MarkingMark)).all()) == 6, "voided marks stay"
        assert len(session.scalars(select(MarkingVoid)).all()) == 3
    assert _batch(w, "m1")["tasks"] == [], "the voided marker never gets the script again"
    assert _mark(w, "m1", tokens["答案一"], 1).status_code == 409
    assert _attempt(w, a1) == (AttemptState.GRADED, 9.5, False), "the score stands until marked again"
    again = _batch(w, "m3")["tasks"]
    assert [(t["token"], t["round"]) for t in again] == [(tokens["答案一"], "second")]
    _mark(w, "m3", tokens["答案一"], 9)  # with m2's 8: 8.5
    assert _attempt(w, a1) == (AttemptState.GRADED, 2 + 8.5, False)
    q = {r["name"]: r for r in w.ok("GET", _unit(w, "/quality"), "teacher")["markers"]}
    assert (q["m1"]["marks"], q["m1"]["mean"], q["m3"]["marks"]) == (0, None, 2), "m1's marks no longer count"
    m4 = _marker(w, "m4")
    _batch(w, "m4")
    _mark(w, "m4", tokens["答案二"], 8)  # 9 and 5 earlier: 8 is within 2 of 9 -> 8.5
    assert _attempt(w, a2) == (AttemptState.GRADED, 2 + 8.5, False)
    with session_scope(w.runtime.session_factory) as session:
        changed = session.scalars(select(AuditEvent).where(AuditEvent.action == "marking.final_changed")
                                  .order_by(AuditEvent.id)).all()
        assert [(e.data["old"], e.data["new"]) for e in changed] == [(7.5, 8.5), (5.5, 8.5)]
        assert [e.actor_id for e in changed] == [w.ids["markers"]["m3"], m4]
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "marking.sent_back")).all()


def test_send_back_of_a_finished_task_that_finishes_at_once(marked: World) -> None:
    """m1 7 vs m2 1 (out of tolerance), m3's third 2 resolves with m2 (1.5); sending m1 back leaves
    m2 and m3 within tolerance: done again at once, same final, no score change."""
    w = marked
    a1, _ = w.ids["attempts"]
    tokens = _by_response(_batch(w, "m1"))
    _mark(w, "m1", tokens["答案一"], 7)
    _batch(w, "m2")
    _mark(w, "m2", tokens["答案一"], 1)
    _batch(w, "m3")
    _mark(w, "m3", tokens["答案一"], 2)
    assert _attempt(w, a1) == (AttemptState.GRADED, 3.5, False)
    since = (w.clock() - timedelta(minutes=1)).isoformat()
    out = w.ok("POST", _unit(w, "/send-back"), "teacher",
               json={"marker_id": w.ids["markers"]["m1"], "since": since, "reason": "check"})
    assert (out["tasks"], out["reopened"], out["changed"]) == (1, 0, [])
    assert _attempt(w, a1) == (AttemptState.GRADED, 3.5, False)


def _pg_world(database_url: str, world: World) -> tuple[int, list[str], User, User, User]:
    """Thirty essays, double marking with tolerance 2: m1 gave every first mark; m2 holds them all."""
    factory, now = world.runtime.session_factory, world.clock()
    with session_scope(factory) as session:
        teacher = session.scalars(select(User).where(User.username == "teacher")).one()
        m1, m2 = (User(username=n, password_hash="x", role=Role.MARKER, display_name=n, created_at=now)
                  for n in ("rm1", "rm2"))
        session.add_all([m1, m2])
        session.flush()
        session.add_all(ExamStaff(exam_id=world.ids["exam"], user_id=m.id, duty=ExamDuty.MARKER) for m in (m1, m2))
        for i in range(30):
            user = User(username=f"rc{i}", password_hash="x", role=Role.STUDENT, display_name="c", created_at=now)
            session.add(user)
            session.flush()
            attempt = Attempt(exam_id=world.ids["exam"], user_id=user.id, state=AttemptState.SUBMITTED,
                              started_at=now, deadline=now + timedelta(minutes=30), max_score=25)
            session.add(attempt)
            session.flush()
            session.add(AttemptAnswer(attempt_id=attempt.id, slot_id=world.ids["slots"][ESSAY], response="x",
                                      client_seq=1, saved_at=now, grading_state="needs_manual"))
        exam = session.get(marking.Exam, world.ids["exam"])
        assert exam is not None
        unit_id = marking.create_units(session, teacher, exam, marking.UnitSettings(tolerance=2), now)[0].id
        tokens = [t["token"] for t in marking.fetch_batch(session, m1, unit_id, 30, now)["tasks"]]
        for token in tokens:
            marking.submit_mark(session, m1, token, 5, None, 10, now)
        assert len(marking.fetch_batch(session, m2, unit_id, 30, now)["tasks"]) == 30
        session.expunge_all()
    return unit_id, tokens, teacher, m1, m2


def test_send_back_racing_a_submit_on_postgresql(database_url: str, world: World) -> None:
    """m2 submits second marks while the lead sends m1's marks back, each in its own session. Whatever
    the order, every task ends as the replay of the marks that still count, no mark is lost, and a
    task finished by m2 before the send-back reopens (m2's mark alone waits for a second one)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the race needs row locks: PostgreSQL only")
    unit_id, tokens, teacher, m1, m2 = _pg_world(database_url, world)
    factory, now = world.runtime.session_factory, world.clock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def submit_all() -> None:
        barrier.wait()
        for token in tokens:
            try:
                with session_scope(factory) as session:
                    marking.submit_mark(session, m2, token, 6, None, 10, now)
            except Exception as exc:  # a refused move is fine only as MarkingRefused (reported below)
                errors.append(exc)

    def send_back() -> None:
        barrier.wait()
        try:
            with session_scope(factory) as session:
                marking_review.send_back(session, teacher, unit_id, m1.id, 30, None, "race", now)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit_all), threading.Thread(target=send_back)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e for e in errors if type(e).__name__ != "MarkingRefused"] == []
    with session_scope(factory) as session:
        unit = session.get(MarkingUnit, unit_id)
        assert unit is not None
        rules = marking.unit_rules(session, unit)
        voided = set(session.scalars(select(MarkingVoid.mark_id)))
        for task in session.scalars(select(MarkingTask).where(MarkingTask.unit_id == unit_id)):
            marks = session.scalars(select(MarkingMark).where(MarkingMark.task_id == task.id)
                                    .order_by(MarkingMark.id)).all()
            assert [m.marker_id for m in marks if m.id in voided] == [m1.id], task.token
            counting = [m for m in marks if m.id not in voided]
            assert [m.marker_id for m in counting] == [m2.id], "m2's mark is never lost nor voided"
            state = replay(rules, [marking.Mark(m.marker_id, marking.Round(m.round), m.score) for m in counting])
            assert (task.state, task.final_score) == (state.status, state.final) == ("waiting_second", None)
        assert isinstance(rules, UnitRules)
