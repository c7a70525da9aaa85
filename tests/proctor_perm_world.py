"""The proctoring part of the permission world: ``sA``'s attempt on ``E`` has a proctoring session
with one flag and one stored frame; ``pA`` proctors ``E`` (every room), ``tA`` runs it."""

from typing import Any

from permissions_world import PermWorld
from sqlalchemy import select

from exam_server.db import session_scope
from exam_server.services import proctor_timeline
from models import ProctorFlag, ProctorFrame, ProctorSession


def add_proctoring(perm: PermWorld) -> None:
    world, ids = perm.world, perm.ids
    now = world.clock()
    store = proctor_timeline.evidence_store(world.runtime.settings.data_dir, world.runtime.settings.evidence_key)
    with session_scope(world.runtime.session_factory) as session:
        # The wall's part of the world (permissions_world.add_proctor_world) may have made the session already.
        ps = session.scalars(select(ProctorSession).where(ProctorSession.attempt_id == ids["attempt"])).first()
        if ps is None:
            ps = ProctorSession(attempt_id=ids["attempt"], exam_id=ids["exam"], user_id=ids["sA"], exam_room_id=None,
                                state="active", identity="passed", last_seen_at=now, created_at=now, updated_at=now)
            session.add(ps)
            session.flush()
        frame = ProctorFrame(session_id=ps.id, purpose="monitor", taken_at=now, storage_key=store.put(b"\xff\xd8jpeg"),
                             size_bytes=7, analysis={"faces": 0}, analysed_at=now)
        flag = ProctorFlag(session_id=ps.id, rule="tab_hidden", severity="medium", started_at=now, ended_at=now,
                           evidence={"events": []}, status="open", created_at=now)
        session.add_all([frame, flag])
        session.flush()
        ids.update(proctor_session=ps.id, proctor_flag=flag.id, proctor_frame=frame.id)


def proctoring_rows(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, int]]]:
    """Settings, decisions and exports: who runs the exam (tA, the district); the review, timelines,
    frames and flag reviews: also its proctor pA; everyone else: 404."""
    e, ps, flag, frame = ids["exam"], ids["proctor_session"], ids["proctor_flag"], ids["proctor_frame"]
    runs = {"admin": 200, "tA": 200, "pA": 403, "*": 404}
    watches = {"admin": 200, "tA": 200, "pA": 200, "*": 404}
    base = f"/api/proctoring/exams/{e}"
    return [
        ("GET", f"{base}/settings", None, runs),
        ("PUT", f"{base}/settings", {"weights": {"tab_hidden": 4}}, runs),
        ("GET", f"/api/proctoring/exams/{ids['joint']}/settings", None, {"admin": 200, "cA": 200, "*": 404}),
        ("GET", f"{base}/review", None, watches),
        ("GET", f"{base}/review.json", None, runs),
        ("GET", f"{base}/review.csv", None, runs),
        ("GET", f"/api/proctoring/sessions/{ps}/timeline", None, watches),
        ("GET", f"/api/proctoring/frames/{frame}/image.jpg", None, watches),
        ("POST", f"/api/proctoring/flags/{flag}/review", {"status": "confirmed", "note": "seen"}, watches),
        ("POST", f"/api/proctoring/sessions/{ps}/decision", {"decision": "no_issue"}, runs),
    ]
