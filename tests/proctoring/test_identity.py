"""The identity check and the frame-analysis job on both databases, with the real face model and
real photos: consent first, passed -> active, failed or impossible -> manual_pending with the reason."""

from __future__ import annotations

from datetime import timedelta

import face_photos as fp
import pytest
from proctor_support import add_frame, make_session, user_id
from sqlalchemy import select
from support import World

from exam_server.db import session_scope
from exam_server.proctoring.identity import (
    ConsentRequired,
    IdentityOutcome,
    apply_identity,
    check_identity,
    embedding_context,
)
from models import EnrolledPhoto, ProctorConsent, ProctorFlag, ProctorFrame, ProctorSession
from proctoring.dlib_faces import default_engine
from proctoring.face_engine import embedding_bytes, enrol_photo
from proctoring.session import IllegalTransition


def _enrol(world: World, student: str, photo: bytes) -> None:
    store, uid = world.runtime.evidence, user_id(world, student)
    embedding = enrol_photo(photo, default_engine())
    with session_scope(world.runtime.session_factory) as session:
        session.add(EnrolledPhoto(user_id=uid, storage_key=store.put(photo),
                                  embedding=store.seal(embedding_bytes(embedding), embedding_context(uid)),
                                  face_count=1, uploaded_by=uid, uploaded_at=world.clock()))


def _consent(world: World, session_id: int, student: str, accepted: bool = True) -> None:
    uid = user_id(world, student)
    with session_scope(world.runtime.session_factory) as session:
        session.add(ProctorConsent(session_id=session_id, user_id=uid, notice_version="2026-12",
                                   language="zh", accepted=accepted, created_at=world.clock()))


def _check(world: World, session_id: int, jpeg: bytes, frame_id: int | None = None) -> IdentityOutcome:
    """As the live connection does it: the check in a read session (the engine and the store found by
    default), then the move in a write transaction."""
    with world.runtime.read_session() as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        outcome = check_identity(session, ps, jpeg, world.clock())
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        apply_identity(session, ps, outcome, world.clock(), frame_id=frame_id)
    return outcome


def _session(world: World, session_id: int) -> ProctorSession:
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        session.expunge(ps)
        return ps


def test_consent_comes_first_and_nothing_changes_without_it(world: World) -> None:
    sid = make_session(world, "s1", state="identity_pending")
    _enrol(world, "s1", fp.jpeg(fp.astronaut()))
    with pytest.raises(ConsentRequired):
        _check(world, sid, fp.jpeg(fp.astronaut()))
    _consent(world, sid, "s1", accepted=False)
    with pytest.raises(ConsentRequired):
        _check(world, sid, fp.jpeg(fp.astronaut()))
    ps = _session(world, sid)
    assert ps.state == "identity_pending" and ps.identity_distance is None


def test_the_enrolled_person_passes_and_the_session_becomes_active(world: World) -> None:
    sid = make_session(world, "s1", state="identity_pending")
    _enrol(world, "s1", fp.jpeg(fp.astronaut()))
    _consent(world, sid, "s1")
    frame = fp.jpeg(fp.variants("astronaut")["dark"], 70)
    fid = add_frame(world, sid, world.clock(), world.runtime.evidence.put(frame))
    outcome = _check(world, sid, frame, frame_id=fid)
    assert (outcome.status, outcome.reason, outcome.state) == ("passed", None, "active")
    assert outcome.distance is not None and 0.0 < outcome.distance < 0.5
    ps = _session(world, sid)
    assert (ps.state, ps.identity, ps.identity_distance) == ("active", "passed", outcome.distance)
    with session_scope(world.runtime.session_factory) as session:
        stored = session.get(ProctorFrame, fid)
        assert stored is not None and stored.analysis is not None and stored.analysis["matches"] is True


@pytest.mark.parametrize("case,status,reason", [
    ("other_person", "failed", "face_mismatch"),
    ("two_faces", "impossible", "several_faces"),
    ("no_face", "impossible", "no_face"),
    ("not_an_image", "impossible", "not_an_image"),
    ("no_enrolled_photo", "impossible", "no_enrolled_photo"),
])
def test_a_failed_or_impossible_check_goes_to_a_proctor(world: World, case: str, status: str, reason: str) -> None:
    sid = make_session(world, "s1", state="identity_pending")
    if case != "no_enrolled_photo":
        _enrol(world, "s1", fp.jpeg(fp.astronaut()))
    _consent(world, sid, "s1")
    frames = {"other_person": fp.jpeg(fp.hopper()), "two_faces": fp.jpeg(fp.side_by_side(fp.astronaut(), fp.hopper())),
              "no_face": fp.jpeg(fp.empty_scenes()["coffee"]), "not_an_image": b"GIF89a....",
              "no_enrolled_photo": fp.jpeg(fp.astronaut())}
    outcome = _check(world, sid, frames[case])
    assert (outcome.status, outcome.reason, outcome.state) == (status, reason, "manual_pending")
    ps = _session(world, sid)
    assert (ps.state, ps.identity) == ("manual_pending", status)
    assert (ps.identity_distance is not None) == (case == "other_person")


def test_a_session_not_waiting_for_the_check_refuses_it(world: World) -> None:
    sid = make_session(world, "s1", state="active")
    _consent(world, sid, "s1")
    with pytest.raises(IllegalTransition):
        _check(world, sid, fp.jpeg(fp.astronaut()))
    assert _session(world, sid).state == "active"


def test_the_check_itself_reads_only(world: World) -> None:
    sid = make_session(world, "s1", state="identity_pending")
    _enrol(world, "s1", fp.jpeg(fp.astronaut()))
    _consent(world, sid, "s1")
    with world.runtime.read_session() as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None
        outcome = check_identity(session, ps, fp.jpeg(fp.astronaut()), world.clock(), engine=default_engine(),
                                 evidence=world.runtime.evidence)
        assert (outcome.status, outcome.state) == ("passed", "active") and not session.dirty and not session.new
    ps_after = _session(world, sid)
    assert (ps_after.state, ps_after.identity, ps_after.identity_distance) == ("identity_pending", "passed", None)


def test_an_embedding_sealed_for_another_user_is_not_used(world: World) -> None:
    sid = make_session(world, "s1", state="identity_pending")
    _enrol(world, "s2", fp.jpeg(fp.astronaut()))
    s1, s2 = user_id(world, "s1"), user_id(world, "s2")
    with session_scope(world.runtime.session_factory) as session:  # s2's sealed embedding copied onto s1
        other = session.get(EnrolledPhoto, s2)
        assert other is not None
        session.add(EnrolledPhoto(user_id=s1, storage_key=other.storage_key,
                                  embedding=other.embedding, face_count=1, uploaded_by=other.uploaded_by,
                                  uploaded_at=world.clock()))
    _consent(world, sid, "s1")
    outcome = _check(world, sid, fp.jpeg(fp.astronaut()))
    assert (outcome.status, outcome.reason) == ("impossible", "no_enrolled_photo")


def _run_job(world: World, frame_id: int) -> None:
    world.runtime.queue.actors["analyse_proctor_frame"].fn(frame_id)


def test_the_frame_job_stores_the_analysis_and_feeds_the_rules(world: World) -> None:
    sid = make_session(world, "s1")
    _enrol(world, "s1", fp.jpeg(fp.astronaut()))
    store, start = world.runtime.evidence, world.clock()
    covered = fp.jpeg(fp.occlude(fp.astronaut(), fp.FACE_BOX["astronaut"]))
    frames = [fp.jpeg(fp.astronaut())] + [covered] * 4
    ids = [add_frame(world, sid, start + timedelta(seconds=10 * i), store.put(data)) for i, data in enumerate(frames)]
    for fid in ids:
        _run_job(world, fid)
    _run_job(world, ids[-1])  # redelivered: skipped, the rules see each frame once
    with session_scope(world.runtime.session_factory) as session:
        rows = {f.id: f for f in session.scalars(select(ProctorFrame).where(ProctorFrame.session_id == sid))}
        assert rows[ids[0]].analysis is not None and rows[ids[0]].analysis["matches"] is True
        assert all(rows[i].analysis is not None and rows[i].analysis["faces"] == 0 for i in ids[1:])
        assert all(row.analysed_at is not None for row in rows.values())
        flags = list(session.scalars(select(ProctorFlag).where(ProctorFlag.session_id == sid)))
    assert [f.rule for f in flags] == ["face_absent"]
    assert set(flags[0].evidence["frames"]) <= set(ids[1:]) and flags[0].evidence["frames"]


def test_the_frame_job_marks_a_missing_blob_unusable(world: World) -> None:
    sid = make_session(world, "s1")
    fid = add_frame(world, sid, world.clock(), "0" * 32)  # a key the store never made
    _run_job(world, fid)
    purged = add_frame(world, sid, world.clock(), None)
    _run_job(world, purged)
    with session_scope(world.runtime.session_factory) as session:
        missing, gone = session.get(ProctorFrame, fid), session.get(ProctorFrame, purged)
        assert missing is not None and missing.analysis is not None
        assert (missing.analysis["usable"], missing.analysis["reason"]) == (False, "evidence_unreadable")
        assert gone is not None and gone.analysis is None
