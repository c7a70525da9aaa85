"""Joint exams over HTTP on both databases: roster targets, allocation, publishing, sign-in with an
admission number, the day (absence, moves, make-up sittings, extra time) and the audit trail."""

from datetime import timedelta
from typing import Any

from joint_world import build_joint
from support import PASSWORD, World


def _candidates(world: World, exam: int, who: str = "centre") -> list[dict[str, Any]]:
    return world.ok("GET", f"/api/centre/exams/{exam}/candidates", who)  # type: ignore[no-any-return]


def test_allocate_publish_and_sign_in_with_the_admission_number(world: World) -> None:
    j = build_joint(world)
    e = j["exam"]
    assert world.ok("GET", f"/api/centre/exams/{e}", "centre")["candidates"] == 12
    report = world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    assert report[0]["candidates"] == 12 and report[0]["seats"] == 12
    assert report[0]["same_class_adjacent_pairs"] == 0, "two classes of six fit a checkerboard"
    rows = _candidates(world, e)
    assert sorted((r["exam_room_id"], r["seat_no"]) for r in rows) == sorted(
        (room, seat) for room in j["exam_rooms"] for seat in range(1, 7)), "every seat once, every candidate once"
    again = world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    assert again == report and _candidates(world, e) == rows, "seeded: the same plan again"
    numbers = {r["username"]: r["admission_no"] for r in rows}
    room_no = {r["username"]: r["room_number"] for r in rows}
    seat = {r["username"]: r["seat_no"] for r in rows}
    assert numbers["s1"] == f"202601{room_no['s1']:02}{seat['s1']:02}"
    plan = world.ok("GET", f"/api/centre/exams/{e}/rooms/{j['exam_rooms'][0]}/plan", "centre")
    assert (plan["rows"], plan["cols"], len(plan["seats"])) == (2, 3, 6)

    world.ok("POST", f"/api/centre/exams/{e}/publish", "centre")
    r = world.call("POST", f"/api/centre/exams/{e}/allocate", "centre")
    assert r.status_code == 409 and "published" in r.json()["detail"]
    r = world.client.post("/api/auth/login", json={"username": numbers["b3"], "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["username"] == "b3"
    r = world.client.post("/api/auth/login", json={"username": numbers["b3"], "password": "wrong-password"})
    assert r.status_code == 401
    r = world.call("POST", "/api/users", "admin", json={"username": numbers["s1"], "password": PASSWORD,
                                                        "display_name": "x", "role": "teacher"})
    assert r.status_code == 409 and "admission number" in r.json()["detail"]


def test_scheme_errors_and_collisions_are_named(world: World) -> None:
    j = build_joint(world, scheme=None)
    e = j["exam"]
    r = world.call("PUT", f"/api/centre/exams/{e}/settings", "centre", json={"admission_scheme": "{year}{desk}"})
    assert r.status_code == 422 and "unknown field {desk}" in r.json()["detail"]
    world.ok("PUT", f"/api/centre/exams/{e}/settings", "centre", json={"admission_scheme": "{year}{site}"})
    r = world.call("POST", f"/api/centre/exams/{e}/allocate", "centre")
    assert r.status_code == 422 and "would both get 202601" in r.json()["detail"]
    world.ok("PUT", f"/api/centre/exams/{e}/settings", "centre", json={"admission_scheme": "{seq:03}"})
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    world.ok("POST", "/api/users", "admin", json={"username": "001", "password": PASSWORD, "display_name": "x",
                                                  "role": "teacher"})
    r = world.call("POST", f"/api/centre/exams/{e}/publish", "centre")
    assert r.status_code == 409 and "equals the username" in r.json()["detail"]


def test_the_day_absence_moves_make_up_extra_time_and_audit(world: World) -> None:
    j = build_joint(world)
    e, now = j["exam"], world.clock()
    world.ok("PUT", f"/api/centre/exams/{e}/candidates/{_id(world, e, 's3')}/accommodations", "centre",
             json={"extra_minutes": 10, "accommodations": {"large_print": "A3"}})
    world.ok("PUT", f"/api/centre/exams/{e}/candidates/{_id(world, e, 's4')}/accommodations", "centre",
             json={"extra_minutes": 100})
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    world.ok("POST", f"/api/centre/exams/{e}/publish", "centre")
    makeup = world.ok("POST", f"/api/centre/exams/{e}/sittings", "centre", json={
        "name": "补考 make-up", "opens_at": (now + timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=1, hours=2)).isoformat(), "is_makeup": True})
    makeup_id = next(s["id"] for s in makeup["sittings"] if s["is_makeup"])
    overview = world.ok("POST", f"/api/centre/exams/{e}/rooms", "centre",
                        json={"sitting_id": makeup_id, "room_id": j["rooms"][0]})
    makeup_room = next(r["exam_room_id"] for r in overview["rooms"] if r["sitting_id"] == makeup_id)

    s2 = _id(world, e, "s2")
    world.ok("POST", f"/api/centre/exams/{e}/candidates/{s2}/absent", "centre", json={"absent": True})
    r = world.call("POST", f"/api/exams/{e}/attempt", "s2")
    assert r.status_code == 403 and "absent" in r.json()["detail"]
    before = _row(world, e, "s2")
    moved = world.ok("POST", f"/api/centre/exams/{e}/candidates/{s2}/move", "centre",
                     json={"exam_room_id": makeup_room})
    assert moved["absent"] is False and moved["seat_no"] == 1 and moved["admission_no"] == before["admission_no"]
    r = world.call("POST", f"/api/exams/{e}/attempt", "s2")
    assert r.status_code == 409 and "补考 make-up" in r.json()["detail"], "only in their own sitting's window"

    s3 = world.ok("POST", f"/api/exams/{e}/attempt", "s3")["deadline"]
    assert s3.startswith((now + timedelta(minutes=70)).isoformat()[:16]), "start + 60 + 10 extra"
    s4 = world.ok("POST", f"/api/exams/{e}/attempt", "s4")["deadline"]
    assert s4.startswith((now + timedelta(hours=2)).isoformat()[:16]), "capped by the sitting's end"
    r = world.call("POST", f"/api/centre/exams/{e}/candidates/{_id(world, e, 's3')}/move", "centre",
                   json={"exam_room_id": makeup_room})
    assert r.status_code == 409 and "already started" in r.json()["detail"]
    taken = world.call("POST", f"/api/centre/exams/{e}/candidates/{_id(world, e, 's5')}/move", "centre",
                       json={"exam_room_id": makeup_room, "seat_no": 1})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]

    trail = world.ok("GET", f"/api/centre/exams/{e}/audit", "centre")
    actions = [(t["actor"], t["action"]) for t in trail]
    for action in ("joint.created", "joint.accommodations", "joint.allocated", "joint.published", "joint.absent",
                   "joint.moved"):
        assert ("centre", action) in actions
    move = next(t for t in trail if t["action"] == "joint.moved")
    assert move["data"]["from"]["exam_room_id"] == before["exam_room_id"] and move["created_at"]


def test_who_sees_what(world: World) -> None:
    j = build_joint(world)
    e = j["exam"]
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    assert world.call("GET", f"/api/centre/exams/{e}", "centre2").status_code == 404, "not theirs"
    assert world.call("POST", f"/api/centre/exams/{e}/allocate", "centre2").status_code == 404
    assert world.ok("GET", f"/api/centre/exams/{e}", "admin")["candidates"] == 12
    world.ok("POST", f"/api/exams/{e}/staff", "admin", json={"user_id": j["staff"]["centre2"], "duty": "organiser"})
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre2")
    assert [x["id"] for x in world.ok("GET", "/api/centre/exams", "centre2")] == [e]
    mine = world.ok("GET", "/api/teacher/joint-exams", "teacher")
    assert [x["id"] for x in mine] == [e]
    part = world.ok("GET", f"/api/teacher/joint-exams/{e}/candidates", "teacher")
    assert sorted(r["username"] for r in part) == [f"s{i}" for i in range(1, 7)], "only the teacher's school"
    assert all(r["seat_no"] for r in part)
    assert world.call("GET", f"/api/centre/exams/{e}", "teacher").status_code == 403
    assert world.call("GET", f"/api/centre/exams/{e}/audit", "teacher").status_code == 404
    teacher_id = world.ok("GET", "/api/auth/me", "teacher")["id"]
    world.ok("POST", f"/api/exams/{e}/staff", "admin", json={"user_id": teacher_id, "duty": "proctor"})
    assert world.ok("GET", f"/api/centre/exams/{e}/audit", "teacher"), "the exam's staff read its audit trail"
    assert world.call("GET", f"/api/centre/exams/{e}/audit", "s1").status_code == 404


def test_roster_by_student_number_names_the_unknown_ones(world: World) -> None:
    j = build_joint(world)
    r = world.call("POST", f"/api/centre/exams/{j['exam']}/candidates", "centre",
                   json={"roster": [{"school_id": j["school_b"], "student_numbers": ["X-404"]}]})
    assert r.status_code == 404 and "X-404" in r.json()["detail"]
    new = world.ok("POST", f"/api/classes/{j['class_b']}/students", "admin",
                   json=[{"username": "b7", "password": PASSWORD, "display_name": "b7"}])["created"][0]["id"]
    overview = world.ok("POST", f"/api/centre/exams/{j['exam']}/candidates", "centre",
                        json={"roster": [{"user_ids": [new]}]})
    assert overview["candidates"] == 13
    r = world.call("POST", f"/api/centre/exams/{j['exam']}/allocate", "centre")
    assert r.status_code == 422 and "13 candidates but only 12 seats" in r.json()["detail"]


def _row(world: World, exam: int, username: str) -> dict[str, Any]:
    return next(r for r in _candidates(world, exam) if r["username"] == username)


def _id(world: World, exam: int, username: str) -> int:
    return int(_row(world, exam, username)["user_id"])



def test_forms_alternate_per_seat_and_each_candidate_sits_their_form(world: World) -> None:
    j = build_joint(world)
    e, ids = j["exam"], world.ids
    paper_b = world.ok("POST", "/api/papers", "teacher", json={"title": "B卷", "sections": [
        {"title": "一", "slots": [{"item_id": ids["items"][2], "points": 1}]}]})
    world.ok("POST", f"/api/centre/exams/{e}/forms", "centre", json={"label": "A", "paper_id": ids["paper"]})
    overview = world.ok("POST", f"/api/centre/exams/{e}/forms", "centre",
                        json={"label": "B", "paper_id": paper_b["id"]})
    assert overview["form_mode"] == "seat"
    world.ok("POST", f"/api/centre/exams/{e}/allocate", "centre")
    plan = world.ok("GET", f"/api/centre/exams/{e}/rooms/{j['exam_rooms'][0]}/plan", "centre")
    form = {s["seat_no"]: s["form_label"] for s in plan["seats"]}
    assert [form[n] for n in range(1, 7)] == ["A", "B", "A", "B", "A", "B"], "2 x 3 checkerboard"
    rows = _candidates(world, e)
    on_b = next(r["username"] for r in rows if r["form_label"] == "B")
    on_a = next(r["username"] for r in rows if r["form_label"] == "A")
    b_slots = [s["slot_id"] for sec in paper_b["sections"] for s in sec["slots"]]
    attempt = world.ok("POST", f"/api/exams/{e}/attempt", on_b)
    assert [s["slot_id"] for sec in attempt["paper"]["sections"] for s in sec["slots"]] == b_slots
    r = world.save(on_b, attempt["attempt_id"], ids["slots"][0], 2, 1)
    assert r.status_code == 404, "a slot of form A is not part of a form-B attempt"
    assert world.save(on_b, attempt["attempt_id"], b_slots[0], True, 1).status_code == 200
    a_attempt = world.ok("POST", f"/api/exams/{e}/attempt", on_a)
    assert len([s for sec in a_attempt["paper"]["sections"] for s in sec["slots"]]) == len(ids["slots"])
