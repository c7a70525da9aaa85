"""Retention (frames purged after the exam's retention period, decisions kept, audited, idempotent)
and the candidate's view of their own proctoring record (with their frames while kept)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from support import World

from exam_server.jobs.queue import Periodic
from exam_server.proctoring.evidence import EvidenceError
from exam_server.services import proctor_retention
from models import AuditEvent, ProctorAction, ProctorConsent, ProctorEvent, ProctorFlag, ProctorFrame, ProctorSession
from tests.proctoring.wall_support import add_flag, add_frame, add_session, enable_proctoring

JPEG = b"\xff\xd8\xff\xe0 a small frame \xff\xd9"


def _recorded(world: World, days: int = 7) -> dict[str, Any]:
    """s1 proctored with a consent, events, a flag, a proctor's warning, a decision and two frames."""
    rt, now = world.runtime, world.clock()
    enable_proctoring(rt, world.ids["exam"], now, retention_days=days)
    attempt = world.start("s1")["attempt_id"]
    ps = add_session(rt, attempt, "active", now)
    flag = add_flag(rt, ps, "tab_hidden", now)
    frames = [add_frame(rt, ps, JPEG, now, "identity"), add_frame(rt, ps, JPEG + b"2", now)]
    teacher = world.ok("GET", "/api/auth/me", "teacher")["id"]
    with rt.session_factory() as session, session.begin():
        session.add(ProctorConsent(session_id=ps, user_id=_uid(world, "s1"), notice_version="1", language="zh",
                                   accepted=True, created_at=now))
        session.add_all([ProctorEvent(session_id=ps, seq=1, kind="heartbeat", received_at=now),
                         ProctorEvent(session_id=ps, seq=2, kind="tab_hidden", received_at=now, data={"x": 1})])
        session.add(ProctorAction(exam_id=world.ids["exam"], session_id=ps, actor_id=teacher, action="warn",
                                  data={"message": "看屏幕"}, created_at=now))
        row = session.get(ProctorSession, ps)
        assert row is not None
        row.decision, row.decision_note, row.identity_distance = "no_issue", "家人路过 a relative walked by", 0.31
    return {"ps": ps, "flag": flag, "frames": frames, "attempt": attempt}


def _uid(world: World, who: str) -> int:
    return int(world.ok("GET", "/api/auth/me", who)["id"])


def test_the_candidate_sees_their_record_and_frames(world: World) -> None:
    rec = _recorded(world)
    [record] = world.ok("GET", "/api/proctoring/my-records", "s1")
    assert record["exam_title"] == "期中考试" and record["state"] == "active" and record["purged_at"] is None
    assert [c["accepted"] for c in record["consents"]] == [True]
    assert [e["kind"] for e in record["events"]] == ["tab_hidden"] and record["heartbeats"] == 1
    assert [f["rule"] for f in record["flags"]] == ["tab_hidden"]
    assert record["actions"] == [{"action": "warn", "at": record["actions"][0]["at"], "message": "看屏幕"}]
    assert record["decision"] == "no_issue" and "relative" in record["decision_note"]
    assert [f["kept"] for f in record["frames"]] == [True, True]
    image = world.call("GET", f"/api/proctoring/my-frames/{rec['frames'][0]}", "s1")
    assert image.status_code == 200 and image.content == JPEG and image.headers["content-type"] == "image/jpeg"
    assert world.ok("GET", "/api/proctoring/my-records", "s2") == []
    other = world.call("GET", f"/api/proctoring/my-frames/{rec['frames'][0]}", "s2")
    assert other.status_code == 404, "another candidate's frame does not exist for them"


def test_purge_after_retention_keeps_the_decision_record(world: World) -> None:
    rec = _recorded(world, days=7)
    rt = world.runtime
    with rt.read_session() as session:
        keys = list(session.scalars(select(ProctorFrame.storage_key)))
    closes = world.clock() + timedelta(hours=3)  # the exam's closes_at in the world
    assert proctor_retention.purge_due(rt.session_factory, rt.evidence, closes + timedelta(days=6)) == {}
    done = proctor_retention.purge_due(rt.session_factory, rt.evidence, closes + timedelta(days=7, seconds=1))
    assert done[world.ids["exam"]].frames == 2 and done[world.ids["exam"]].blobs_deleted == 2
    for key in keys:
        assert key is not None
        try:
            rt.evidence.get(key)
            raise AssertionError("a purged blob is still readable")
        except EvidenceError:
            pass
    with rt.read_session() as session:
        ps = session.get(ProctorSession, rec["ps"])
        assert ps is not None and ps.purged_at is not None and ps.identity_distance is None
        assert ps.decision == "no_issue" and ps.risk_score == 1.5
        frames = session.scalars(select(ProctorFrame).order_by(ProctorFrame.id)).all()
        assert [f.storage_key for f in frames] == [None, None]
        assert all(f.analysis is not None and f.analysis["match_distance"] is None and f.analysis["faces"] == 1
                   for f in frames)
        assert session.get(ProctorFlag, rec["flag"]) is not None
        assert len(session.scalars(select(ProctorAction)).all()) == 1
        audits = session.scalars(select(AuditEvent).where(AuditEvent.action == "proctoring.purge")).all()
        assert [(a.target_id, a.actor_id, a.data) for a in audits] == [
            (world.ids["exam"], None, {"sessions": 1, "frames": 2, "blobs_deleted": 2})]
    again = proctor_retention.purge_due(rt.session_factory, rt.evidence, closes + timedelta(days=30))
    assert again == {}, "idempotent: nothing left to purge, no second audit"
    [record] = world.ok("GET", "/api/proctoring/my-records", "s1")
    assert record["purged_at"] is not None and [f["kept"] for f in record["frames"]] == [False, False]
    assert [f["rule"] for f in record["flags"]] == ["tab_hidden"], "flags survive the purge"
    gone = world.call("GET", f"/api/proctoring/my-frames/{rec['frames'][0]}", "s1")
    assert gone.status_code == 404 and "purged" in gone.json()["detail"]


def test_the_worker_timer_runs_the_purge(world: World) -> None:
    rec = _recorded(world, days=1)
    world.clock.advance(days=2)
    world.runtime.queue._purge_evidence()
    with world.runtime.read_session() as session:
        ps = session.get(ProctorSession, rec["ps"])
        assert ps is not None and ps.purged_at is not None
    assert Periodic().proctor_retention_seconds == 3600.0


def test_a_missing_blob_does_not_stop_the_purge(world: World) -> None:
    rec = _recorded(world, days=1)
    rt = world.runtime
    with rt.read_session() as session:
        first_key = session.get(ProctorFrame, rec["frames"][0]).storage_key  # type: ignore[union-attr]
    assert first_key is not None and rt.evidence.delete(first_key)  # already gone from disk
    done = proctor_retention.purge_due(rt.session_factory, rt.evidence, world.clock() + timedelta(days=3))
    count = done[world.ids["exam"]]
    assert (count.frames, count.blobs_deleted) == (2, 1)
