"""A joint exam of two schools built over HTTP: school A's class (s1..s6, from the `world`
fixture plus four more) and school B's class (b1..b6), a centre staff member ``centre`` who
creates the exam, a site with two rooms of 2 x 3 seats, one sitting open now."""

from datetime import timedelta
from typing import Any

from support import PASSWORD, World


def add_students(world: World, class_id: int, names: list[str]) -> None:
    world.ok("POST", f"/api/classes/{class_id}/students", "admin",
             json=[{"username": n, "password": PASSWORD, "display_name": n} for n in names])
    for name in names:
        world.login(name)


def build_joint(world: World, scheme: str | None = "{year}{site}{room:02}{seat:02}") -> dict[str, Any]:
    ids = world.ids
    add_students(world, ids["klass"], ["s3", "s4", "s5", "s6"])
    school_b = world.ok("POST", "/api/schools", "admin", json={"name": "二中 No.2 School"})["id"]
    class_b = world.ok("POST", f"/api/schools/{school_b}/classes", "admin", json={"name": "高一(2)班"})["id"]
    add_students(world, class_b, [f"b{i}" for i in range(1, 7)])
    staff = {}
    for name in ("centre", "centre2"):
        staff[name] = world.ok("POST", "/api/users", "admin", json={
            "username": name, "password": PASSWORD, "display_name": "考务", "role": "centre_staff"})["id"]
        world.login(name)
    now = world.clock()
    exam = world.ok("POST", "/api/centre/exams", "centre", json={
        "title": "联考 Joint", "paper_id": ids["paper"], "opens_at": (now - timedelta(minutes=5)).isoformat(),
        "closes_at": (now + timedelta(hours=2)).isoformat(), "duration_minutes": 60,
        "class_ids": [ids["klass"]], "school_ids": [school_b]})
    site = world.ok("POST", "/api/sites", "centre", json={"name": "一中考点", "code": "01"})
    rooms = [world.ok("POST", f"/api/sites/{site['id']}/rooms", "centre",
                      json={"code": f"R{i}", "name": f"第{i}考场", "rows": 2, "cols": 3})["id"] for i in (1, 2)]
    e = exam["id"]
    sitting = world.ok("POST", f"/api/centre/exams/{e}/sittings", "centre", json={
        "name": "上午 AM", "opens_at": (now - timedelta(minutes=5)).isoformat(),
        "closes_at": (now + timedelta(hours=2)).isoformat()})["sittings"][0]["id"]
    for room in rooms:
        overview = world.ok("POST", f"/api/centre/exams/{e}/rooms", "centre", json={"sitting_id": sitting,
                                                                                   "room_id": room})
    if scheme:
        world.ok("PUT", f"/api/centre/exams/{e}/settings", "centre", json={"admission_scheme": scheme, "seat_seed": 7})
    return {"exam": e, "staff": staff, "site": site["id"], "rooms": rooms, "sitting": sitting, "school_b": school_b,
            "class_b": class_b, "exam_rooms": [r["exam_room_id"] for r in overview["rooms"]]}
