"""Settings, the review list, timelines, flag reviews, decisions, frames and the export over HTTP."""

import csv
import io
from datetime import timedelta
from typing import Any

from proctor_support import add_frame, add_proctor, make_rooms, make_session
from support import World

from exam_server.db import session_scope
from exam_server.services import proctor_flags, proctor_timeline
from models import ProctorSession
from proctoring.rules import Observation


def _observe(world: World, sid: int, *observations: Observation) -> None:
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None
        proctor_flags.observe(session, ps, list(observations), world.clock())


def _tab_away(world: World, sid: int, minutes: float) -> None:
    t = world.clock()
    _observe(world, sid, Observation("tab_hidden", t), Observation("tab_visible", t + timedelta(minutes=minutes)))


def _copies(world: World, sid: int, n: int) -> None:
    t = world.clock()
    _observe(world, sid, *[Observation("copy", t + timedelta(seconds=30 * i)) for i in range(n)])


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _setup(world: World) -> dict[str, int]:
    room1, room2 = make_rooms(world)
    ids = {"room1": room1, "room2": room2, "s1": make_session(world, "s1", room=room1),
           "s2": make_session(world, "s2", room=room2)}
    add_proctor(world, "p1", room1)
    add_proctor(world, "pall", None)
    return ids


def test_settings_defaults_validation_and_audited_reweight(world: World) -> None:
    ids = _setup(world)
    e = world.ids["exam"]
    got = world.ok("GET", f"/api/proctoring/exams/{e}/settings", "teacher")
    assert got["weights"]["tab_hidden"] == 3.0 and got["retention_days"] == 30
    _tab_away(world, ids["s1"], 2)  # 2 min x 3 = 6 points
    r = world.call("PUT", f"/api/proctoring/exams/{e}/settings", "teacher", json={"weights": {"tab_hiden": 1}})
    assert r.status_code == 422 and "weights.tab_hiden" in r.json()["detail"]
    r = world.call("PUT", f"/api/proctoring/exams/{e}/settings", "teacher", json={"weights": {"tab_hidden": -1}})
    assert r.status_code == 422 and "weights.tab_hidden" in r.json()["detail"]
    assert world.call("PUT", f"/api/proctoring/exams/{e}/settings", "teacher",
                      json={"retention_days": 0}).status_code == 422
    assert world.call("PUT", f"/api/proctoring/exams/{e}/settings", "p1", json={}).status_code == 403
    assert world.call("GET", f"/api/proctoring/exams/{e}/settings", "s1").json()["error"] == "RoleNotAllowed"
    saved = world.ok("PUT", f"/api/proctoring/exams/{e}/settings", "teacher",
                     json={"weights": {"tab_hidden": 10}, "retention_days": 7, "enabled": True})
    assert saved["weights"]["tab_hidden"] == 10 and saved["weights"]["copy_paste"] == 2.0
    assert saved["retention_days"] == 7 and saved["enabled"] is True
    tl = world.ok("GET", f"/api/proctoring/sessions/{ids['s1']}/timeline", "teacher")
    assert tl["session"]["risk_score"] == 20.0  # re-scored: 2 min x 10
    [line] = tl["score"]["lines"]
    assert (line["rule"], line["minutes"], line["weight"], line["points"]) == ("tab_hidden", 2.0, 10.0, 20.0)
    reweight = [a for a in tl["actions"] if a["action"] == "reweight"]
    assert len(reweight) == 1 and reweight[0]["data"]["old"]["tab_hidden"] == 3.0
    assert reweight[0]["data"]["new"]["tab_hidden"] == 10.0 and reweight[0]["data"]["sessions_rescored"] == 2
    world.ok("PUT", f"/api/proctoring/exams/{e}/settings", "teacher", json={"weights": {"tab_hidden": 10}})
    tl = world.ok("GET", f"/api/proctoring/sessions/{ids['s1']}/timeline", "teacher")
    assert len([a for a in tl["actions"] if a["action"] == "reweight"]) == 1, "unchanged weights: no new record"


def test_list_sorted_by_evidence_scoped_to_rooms_and_never_ranked(world: World) -> None:
    ids = _setup(world)
    e = world.ids["exam"]
    _tab_away(world, ids["s1"], 2)  # 6 points, 1 flag
    _copies(world, ids["s2"], 3)  # 3 x 2 = 6 points, 3 flags: same score, more to review
    rows = world.ok("GET", f"/api/proctoring/exams/{e}/review", "teacher")
    assert [(r["session_id"], r["risk_score"], r["unreviewed_flags"]) for r in rows] == [
        (ids["s2"], 6.0, 3), (ids["s1"], 6.0, 1)]
    flag = world.ok("GET", f"/api/proctoring/sessions/{ids['s2']}/timeline", "teacher")["flags"][0]
    world.ok("POST", f"/api/proctoring/flags/{flag['id']}/review", "teacher",
             json={"status": "dismissed", "note": "复制题号 copying the question number"})
    rows = world.ok("GET", f"/api/proctoring/exams/{e}/review", "teacher")
    assert [(r["session_id"], r["risk_score"]) for r in rows] == [(ids["s1"], 6.0), (ids["s2"], 4.0)]
    assert [r["session_id"] for r in world.ok("GET", f"/api/proctoring/exams/{e}/review", "p1")] == [ids["s1"]]
    assert len(world.ok("GET", f"/api/proctoring/exams/{e}/review", "pall")) == 2
    only2 = world.ok("GET", f"/api/proctoring/exams/{e}/review?exam_room_id={ids['room2']}", "teacher")
    assert [r["session_id"] for r in only2] == [ids["s2"]]
    assert world.call("GET", f"/api/proctoring/sessions/{ids['s2']}/timeline", "p1").status_code == 404
    documents = [rows, world.ok("GET", f"/api/proctoring/sessions/{ids['s1']}/timeline", "teacher"),
                 world.ok("GET", f"/api/proctoring/exams/{e}/review.json", "teacher")]
    keys = {k.lower() for doc in documents for k in _keys(doc)}
    assert not [k for k in keys if "rank" in k or "percentile" in k or "compar" in k]


def test_timeline_frames_flag_review_decision_and_export(world: World) -> None:
    ids = _setup(world)
    e, s1 = world.ids["exam"], ids["s1"]
    store = proctor_timeline.evidence_store(world.runtime.settings.data_dir, None)
    jpeg = b"\xff\xd8\xff\xe0 a webcam frame \xff\xd9"
    t = world.clock()
    frames = [add_frame(world, s1, t + timedelta(seconds=10 * i), store.put(jpeg), {"faces": 0}) for i in range(2)]
    purged = add_frame(world, s1, t + timedelta(seconds=30), None, {"faces": 1})
    _observe(world, s1, *[Observation("frame_analysed", t + timedelta(seconds=10 * i), {"faces": 0}, frame_id=f)
                          for i, f in enumerate(frames)],
             Observation("frame_analysed", t + timedelta(seconds=30), {"faces": 1}, frame_id=purged))
    tl = world.ok("GET", f"/api/proctoring/sessions/{s1}/timeline", "p1")
    [flag] = tl["flags"]
    assert flag["rule"] == "face_absent" and flag["evidence"]["frames"] == frames
    assert [f["image"] is not None for f in tl["frames"]] == [True, True, False]
    assert {x["type"] for x in tl["timeline"]} == {"flag", "frame"}
    image = world.call("GET", tl["frames"][0]["image"], "p1")
    assert image.status_code == 200 and image.content == jpeg and "no-store" in image.headers["cache-control"]
    assert world.call("GET", f"/api/proctoring/frames/{purged}/image.jpg", "teacher").status_code == 404
    assert world.call("GET", tl["frames"][0]["image"], "s1").json()["error"] == "RoleNotAllowed"
    reviewed = world.ok("POST", f"/api/proctoring/flags/{flag['id']}/review", "p1",
                        json={"status": "confirmed", "note": "=离开座位 left the seat"})
    assert reviewed["status"] == "confirmed" and reviewed["reviewed_by"] is not None
    assert world.call("POST", f"/api/proctoring/flags/{flag['id']}/review", "p1",
                      json={"status": "maybe"}).status_code == 422
    assert world.call("POST", f"/api/proctoring/sessions/{s1}/decision", "p1",
                      json={"decision": "warning"}).status_code == 403
    assert world.call("POST", f"/api/proctoring/sessions/{ids['s2']}/decision", "p1",
                      json={"decision": "warning"}).status_code == 404
    world.ok("POST", f"/api/proctoring/sessions/{s1}/decision", "teacher",
             json={"decision": "warning", "note": "提醒 reminded"})
    tl = world.ok("GET", f"/api/proctoring/sessions/{s1}/timeline", "teacher")
    assert [a["action"] for a in tl["actions"]] == ["confirm", "decide"]
    assert tl["session"]["decision"] == "warning" and tl["actions"][1]["data"]["note"] == "提醒 reminded"
    assert world.call("GET", f"/api/proctoring/exams/{e}/review.csv", "p1").status_code == 403
    text = world.call("GET", f"/api/proctoring/exams/{e}/review.csv", "teacher").text.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    mine = [r for r in rows if r["session_id"] == str(s1)]
    assert len(rows) == 2 and mine[0]["rule"] == "face_absent" and mine[0]["decision"] == "warning"
    assert mine[0]["review_note"] == "'=离开座位 left the seat", "a note is never a spreadsheet formula"
    data = world.ok("GET", f"/api/proctoring/exams/{e}/review.json", "teacher")
    assert "frames" not in _keys(data) and "image" not in _keys(data) and "evidence" not in _keys(data)
    assert [a["action"] for a in data["actions"]] == ["confirm", "decide"]
