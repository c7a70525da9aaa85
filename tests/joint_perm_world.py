"""The joint-exam part of the permission world: ``cA`` (centre staff) creates a joint exam of
class A1 on tA's paper, a site with two rooms, a sitting using the first room; ``cA2`` is centre
staff with no part in it."""

from datetime import timedelta
from typing import Any

from permissions_world import PermWorld


def add_joint(perm: PermWorld) -> None:
    world, ids = perm.world, perm.ids
    now = world.clock()
    window = {"opens_at": (now - timedelta(minutes=5)).isoformat(), "closes_at": (now + timedelta(hours=3)).isoformat()}
    joint = world.ok("POST", "/api/centre/exams", "cA", json={
        "title": "联考", "paper_id": ids["paper"], "duration_minutes": 60, "class_ids": [ids["class_a"]], **window})
    site = world.ok("POST", "/api/sites", "cA", json={"name": "考点", "code": "S1"})["id"]
    rooms = [world.ok("POST", f"/api/sites/{site}/rooms", "cA", json={"code": f"R{i}", "name": f"R{i}", "rows": 2,
                                                                      "cols": 2})["id"] for i in (1, 2)]
    overview = world.ok("POST", f"/api/centre/exams/{joint['id']}/sittings", "cA", json={"name": "AM", **window})
    sitting = overview["sittings"][0]["id"]
    overview = world.ok("POST", f"/api/centre/exams/{joint['id']}/rooms", "cA",
                        json={"sitting_id": sitting, "room_id": rooms[0]})
    world.ok("POST", f"/api/centre/exams/{joint['id']}/forms", "cA", json={"label": "A", "paper_id": ids["paper"]})
    ids.update(joint=joint["id"], site=site, room=rooms[0], room2=rooms[1], sitting=sitting,
               exam_room=overview["rooms"][0]["exam_room_id"])


def joint_rows(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None, dict[str, int]]]:
    j, sa, er = ids["joint"], ids["sA"], ids["exam_room"]
    runs = {"admin": 200, "cA": 200, "cA2": 404}
    base = f"/api/centre/exams/{j}"
    window = {"opens_at": "2026-11-24T08:00:00+00:00", "closes_at": "2026-11-24T10:00:00+00:00"}
    room = {"code": "R1", "name": "R1", "rows": 2, "cols": 2}
    return [
        ("GET", base, None, runs),
        ("GET", f"{base}/candidates", None, runs),
        ("POST", f"{base}/candidates", {"class_ids": [ids["class_a"]]}, runs),
        ("POST", f"{base}/forms", {"label": "B", "paper_id": ids["paper"]}, {"admin": 201, "cA": 409, "cA2": 404}),
        ("POST", f"{base}/sittings", {"name": "PM", **window}, {"admin": 201, "cA": 409, "cA2": 404}),
        ("POST", f"{base}/rooms", {"sitting_id": ids["sitting"], "room_id": ids["room2"]},
         {"admin": 201, "cA": 409, "cA2": 404}),
        ("PUT", f"{base}/settings", {"admission_scheme": "{exam}{seq:04}", "seat_seed": 3}, runs),
        ("PUT", f"{base}/candidates/{sa}/accommodations", {"extra_minutes": 5}, runs),
        ("POST", f"{base}/allocate", None, runs),
        ("GET", f"{base}/rooms/{er}/plan", None, runs),
        ("POST", f"{base}/candidates/{sa}/absent", {"absent": False}, runs),
        ("POST", f"{base}/candidates/{sa}/move", {"exam_room_id": er}, runs),
        ("POST", f"{base}/publish", None, {"admin": 200, "cA": 409, "cA2": 404}),
        ("GET", f"{base}/audit", None, {"admin": 200, "cA": 200, "*": 404}),
        # Teachers see the part for the classes they teach (tA teaches A1); a school admin their school's.
        ("GET", f"/api/teacher/joint-exams/{j}/candidates", None,
         {"admin": 200, "tA": 200, "saA": 200, "*": 404}),
        # Sites and rooms are district-wide places: every centre staff member manages them.
        ("GET", f"/api/sites/{ids['site']}/rooms", None, {"*": 200}),
        ("PUT", f"/api/sites/{ids['site']}", {"name": "考点", "code": "S1"}, {"*": 200}),
        ("POST", f"/api/sites/{ids['site']}/rooms", room, {"*": 409}),
        ("PUT", f"/api/rooms/{ids['room']}", room, {"*": 200}),
        ("DELETE", f"/api/rooms/{ids['room']}", None, {"*": 409}),
        ("DELETE", f"/api/sites/{ids['site']}", None, {"*": 409}),
    ]
