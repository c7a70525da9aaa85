"""Route x role x owner: every API route, called as every role and as owners and outsiders.

Part one reads each route's capability from the app itself (a route without one fails), and checks
that exactly the roles granted it get past the role check. Part two scripts the record-level rules
(school boundaries, sharing scopes, locked papers, exam staff) route by route; a route that takes
a record id and has no row there fails the suite.
"""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import face_photos
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from joint_perm_world import add_joint, joint_rows
from ocr_perm_world import add_ocr, ocr_rows
from permissions_world import ROLE_OF, USERS, PermWorld, build_perm_world
from proctor_perm_world import add_proctoring, proctoring_rows
from support import PASSWORD, START, World, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.deps import required_capability
from exam_server.permissions import GRANTS, Cap
from exam_server.services.roster_xlsx import write_roster
from models import ExamDuty, Role

# Routes anyone may call: signing in, health, the pages' HTML (their data comes from the API),
# and signed media links (the signature is the permission).
PUBLIC = {("POST", "/api/auth/login"), ("POST", "/api/auth/refresh"), ("POST", "/api/auth/logout"),
          ("GET", "/health"), ("GET", "/docs"), ("GET", "/redoc"), ("GET", "/media/{sha256}")}
PAGE_PREFIXES = ("/login", "/student", "/exam/", "/teacher", "/centre", "/admin", "/password")
SIGN_OUT_ROUTES = {"/api/auth/logout-all"}


def _capability(dependant: Dependant) -> Cap | None:
    for sub in dependant.dependencies:
        found = required_capability(sub.call) or _capability(sub)
        if found is not None:
            return found
    return None


def api_routes(app: FastAPI) -> list[tuple[str, str, Cap | None]]:
    """(method, path, capability) for every route the app serves (HEAD aside)."""
    rows = []
    for route in app.router.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            dependant = getattr(context, "dependant", None)
            if dependant is None:
                continue
            for method in sorted(set(getattr(context, "methods", set())) - {"HEAD"}):
                rows.append((method, context.path, _capability(dependant)))
    return rows


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


@pytest.fixture
def perm(database_url: str, tmp_path: Path) -> Iterator[PermWorld]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    perm = build_perm_world(World(make_client(runtime), runtime, clock))
    add_joint(perm)
    add_proctoring(perm)
    add_ocr(perm)
    # The account deactivate/reactivate act on: ending a caller's own sessions would turn its
    # later calls into 401s.
    perm.ids["victim"] = perm.world.ok("POST", "/api/users", "admin", json={
        "username": "victim", "password": PASSWORD, "display_name": "victim", "role": "student",
        "school_id": perm.ids["school_a"]})["id"]
    yield perm
    runtime.engine.dispose()


def _fill(path: str, ids: dict[str, Any]) -> str:
    joint = path.startswith(("/api/centre/", "/api/teacher/joint-exams"))
    values = {"exam_id": ids["joint"] if joint else ids["exam"], "site_id": ids["site"], "room_id": ids["room"],
              "exam_room_id": ids["exam_room"], "item_id": ids["item"]["school"], "paper_id": ids["paper"],
              "class_id": ids["class_a"], "school_id": ids["school_a"], "attempt_id": ids["attempt"],
              "slot_id": ids["slot"], "sha256": ids["sha"], "duty": "marker",
              "job_id": ids["print_job"], "file_no": 1, "batch_id": ids["scan_batch"], "page_id": ids["scan_page"],
              "district_id": ids["district"], "grade_id": ids["grade"], "subject": ids["subject"],
              "unit_id": ids["marking_unit"], "token": ids["marking_token"],
              "session_id": ids["proctor_session"], "flag_id": ids["proctor_flag"], "frame_id": ids["proctor_frame"],
              "n": 0, "reading_id": ids["crop_reading"],
              "user_id": ids["victim"] if path.startswith("/api/users/") else ids["sA"] if joint else ids["pA"]}
    return path.format(**values)


def test_every_route_declares_a_capability_or_is_public(perm: PermWorld) -> None:
    routes = api_routes(perm.world.client.app)  # type: ignore[arg-type]
    assert len(routes) > 40
    missing = [(m, p) for m, p, cap in routes if cap is None and (m, p) not in PUBLIC and not _is_page(p)]
    assert missing == [], f"routes with no capability (add require(...) or list them as public): {missing}"


ROLE_USERS = {Role.ADMIN: "admin", Role.TEACHER: "tA", Role.REVIEWER: "rA", Role.PROCTOR: "pA",
              Role.STUDENT: "sA", Role.SCHOOL_ADMIN: "saA", Role.CENTRE_STAFF: "cA", Role.MARKER: "mA"}


def test_route_x_role_only_granted_roles_pass_the_role_check(perm: PermWorld) -> None:
    assert set(ROLE_USERS) == set(Role), "a new role needs a user in this test"
    failures = []
    for method, path, cap in api_routes(perm.world.client.app):  # type: ignore[arg-type]
        if cap is None:
            continue
        for role, who in ROLE_USERS.items():
            r = perm.call(method, _fill(path, perm.ids), who, json={})
            if path in SIGN_OUT_ROUTES and r.status_code == 204:
                perm.world.login(who)  # the caller just ended its own sessions
            refused = r.status_code == 403 and r.json().get("error") == "RoleNotAllowed"
            if refused == (cap in GRANTS[role]):
                failures.append(f"{method} {path} as {role}: {r.status_code} {r.text[:120]}")
            assert r.status_code < 500, f"{method} {path} as {role}: {r.status_code} {r.text}"
    assert failures == []


# Expected status per user whose role has the route's capability (the others must get 403
# RoleNotAllowed, checked for every row); "*" is everyone not named. Rows run in order and users in USERS order
# (admin first), so later calls see earlier effects: save before submit, release last; a 409 or a
# 404 "already removed" after the admin's call means the caller got past the permission check.
Row = tuple[str, str, dict[str, Any] | None, dict[str, int]]


def owner_rows(ids: dict[str, Any]) -> list[Row]:
    e, it, p, a, s = ids["exam"], ids["item"], ids["paper"], ids["attempt"], ids["slot"]
    edit = {"type": "true_false", "stem": "改 edited", "definition": {"correct": False}, "share_scope": "school"}
    return [
        ("GET", f"/api/exams/{e}", None,
         {"admin": 200, "tA": 200, "pA": 200, "sA": 200, "saA": 200, "*": 404}),
        ("GET", f"/api/exams/{e}/results", None, {"admin": 200, "tA": 200, "saA": 200, "*": 404}),
        ("GET", f"/api/exams/{e}/staff", None, {"admin": 200, "tA": 200, "saA": 403, "*": 404}),
        ("POST", f"/api/exams/{e}/staff", {"user_id": ids["tA2"], "duty": "marker"},
         {"admin": 201, "tA": 201, "tA2": 403, "saA": 403, "*": 404}),
        # tA2 is now a marker (admin added them first): results yes, managing the exam no.
        ("GET", f"/api/exams/{e}/results", None, {"admin": 200, "tA": 200, "tA2": 200, "saA": 200, "*": 404}),
        ("GET", f"/api/exams/{e}/staff", None, {"admin": 200, "tA": 200, "tA2": 403, "saA": 403, "*": 404}),
        ("DELETE", f"/api/exams/{e}/staff/{ids['tA2']}/marker", None,
         {"admin": 204, "tA": 404, "saA": 403, "*": 404}),
        # Items: private to the author; shared with the school; the district; locked by a running exam.
        ("GET", f"/api/items/{it['private']}", None, {"admin": 200, "tA": 200, "*": 404}),
        ("GET", f"/api/items/{it['school']}", None,
         {"admin": 200, "tA": 200, "tA2": 200, "rA": 200, "*": 404}),
        ("GET", f"/api/items/{it['district']}", None, {"*": 200}),
        ("GET", f"/api/items/{it['on_exam']}", None, {"admin": 200, "tA": 200, "*": 404}),
        ("GET", f"/api/items/{it['b_school']}", None, {"admin": 200, "tB": 200, "*": 404}),
        ("GET", f"/api/items/{it['school']}/versions", None,
         {"admin": 200, "tA": 200, "tA2": 200, "rA": 200, "*": 404}),
        ("PUT", f"/api/items/{it['school']}", edit,
         {"admin": 200, "tA": 200, "tA2": 403, "rA": 200, "*": 404}),
        ("POST", f"/api/items/{it['school']}/status", {"status": "reviewed"},
         {"admin": 200, "tA": 200, "tA2": 403, "rA": 200, "*": 404}),
        ("GET", f"/api/items/{it['school']}/audit", None,
         {"admin": 200, "tA": 200, "tA2": 200, "rA": 200, "*": 404}),
        ("GET", f"/api/media/{ids['sha']}", None, {"admin": 200, "tA": 200, "*": 404}),
        ("POST", "/api/interchange/export", {"format": "gift", "item_ids": [it["private"]]},
         {"admin": 200, "tA": 200, "*": 404}),
        ("POST", "/api/papers", {"title": "x", "sections": [{"title": "s", "slots": [
            {"item_id": it["private"], "points": 1}]}]}, {"admin": 201, "tA": 201, "*": 404}),
        ("GET", f"/api/papers/{p}", None, {"admin": 200, "tA": 200, "*": 404}),
        # The organisation: districts and schools for district admins; a school's tree for its admins.
        ("PATCH", f"/api/districts/{ids['district']}", {"name": "D 区 (renamed)"}, {"admin": 200}),
        ("PATCH", f"/api/schools/{ids['school_a']}", {"code": "A"}, {"admin": 200}),
        ("GET", f"/api/schools/{ids['school_a']}/grades", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/schools/{ids['school_a']}/grades", {"name": "G11"}, {"admin": 201, "saA": 409, "saB": 404}),
        ("PATCH", f"/api/grades/{ids['grade']}", {"entry_year": 2026}, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/schools/{ids['school_a']}/classes", {"name": "new"}, {"admin": 201, "saA": 409, "saB": 404}),
        ("PATCH", f"/api/classes/{ids['class_a']}", {"grade_id": ids["grade"]},
         {"admin": 200, "saA": 200, "saB": 404}),
        ("GET", f"/api/schools/{ids['school_a']}/assignments", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/classes/{ids['class_a2']}/teachers", {"teacher_id": ids["tA2"], "subject": "physics"},
         {"admin": 201, "saA": 201, "saB": 404}),
        ("DELETE", f"/api/classes/{ids['class_a2']}/teachers/{ids['tA2']}/physics", None,
         {"admin": 204, "saA": 404, "saB": 404}),
        # Rosters: a school's admins (the file has a header and no rows: nothing changes).
        ("GET", f"/api/schools/{ids['school_a']}/roster/template", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("GET", f"/api/schools/{ids['school_a']}/roster/export", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/schools/{ids['school_a']}/roster/preview", {FILES: _empty_roster()},
         {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/schools/{ids['school_a']}/roster/apply", {FILES: _empty_roster()},
         {"admin": 200, "saA": 200, "saB": 404}),
        # Students and exams of a class: the teachers assigned to it and the school's admins.
        ("POST", f"/api/classes/{ids['class_a']}/students", [],
         {"admin": 200, "tA": 200, "tA2": 404, "rA": 404, "saA": 200, "tB": 404, "saB": 404}),
        ("POST", "/api/exams", _exam_body(ids, ids["class_a"], p),
         {"admin": 201, "tA": 201, "tA2": 404, "rA": 404, "tB": 404, "saA": 404, "saB": 404}),
        # Attempts: the candidate's own; staff who may read the exam's results.
        ("POST", f"/api/exams/{e}/attempt", None,
         {"sA": 200, "sB": 403, "admin": 403, "tA": 403, "tA2": 403, "rA": 403, "pA": 403, "pA2": 403,
          "tB": 403}),
        ("GET", f"/api/attempts/{a}", None, {"sA": 200, "admin": 200, "tA": 200, "saA": 200, "*": 404}),
        ("PUT", f"/api/attempts/{a}/answers/{s}", {"response": True, "client_seq": 1},
         {"sA": 200, "sB": 404, "*": 403}),
        ("GET", f"/api/attempts/{a}/result", None, {"sA": 403, "admin": 200, "tA": 200, "saA": 200, "*": 404}),
        ("POST", f"/api/attempts/{a}/submit", None, {"sA": 200, "sB": 404, "*": 403}),
        ("POST", f"/api/exams/{e}/release", None, {"admin": 200, "tA": 200, "saA": 403, "*": 404}),
        ("POST", f"/api/exams/{e}/regrade?dry_run=true", None, {"admin": 200, "tA": 200, "saA": 403, "*": 404}),
        ("POST", f"/api/exams/{e}/regrade?dry_run=false", None, {"admin": 200, "tA": 200, "saA": 403, "*": 404}),
        ("GET", f"/api/attempts/{a}/result", None, {"sA": 200, "admin": 200, "tA": 200, "saA": 200, "*": 404}),
        # Accounts: only user managers end another account's sessions (the victim is no caller).
        # A school admin manages their school's accounts (the victim is a student of school A).
        ("POST", f"/api/users/{ids['victim']}/deactivate", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/users/{ids['victim']}/reactivate", None, {"admin": 200, "saA": 200, "saB": 404}),
        ("POST", f"/api/users/{ids['victim']}/password", {"password": "another-pass-1"},
         {"admin": 200, "saA": 200, "saB": 404}),
        *print_rows(ids),
        *scan_rows(ids),
        *marking_rows(ids),
        *enrolled_photo_rows(ids),
        *proctor_wall_rows(ids),
        *ocr_rows(ids),
    ]


def proctor_wall_rows(ids: dict[str, Any]) -> list[Row]:
    """The proctor wall's room picker: who may see E and proctor it (tA runs it, pA is its proctor);
    a candidate's own frames: only that candidate."""
    e = ids["exam"]
    return [
        ("GET", f"/api/proctoring/exams/{e}/wall-rooms", None, {"admin": 200, "tA": 200, "pA": 200, "*": 404}),
        ("GET", f"/api/proctoring/my-frames/{ids['proctor_frame']}", None, {"sA": 200, "sB": 404}),
    ]


def print_rows(ids: dict[str, Any]) -> list[Row]:
    """Printing: the district, and exam-centre staff on exams they organise (cA: EP, not E)."""
    ep, job = ids["print_exam"], ids["print_job"]
    both = {"admin": 200, "cA": 200, "cA2": 404}  # cA2: centre staff with no part in EP
    return [
        ("POST", f"/api/exams/{ep}/print-jobs", {"kind": "door_lists"}, {"admin": 202, "cA": 202, "cA2": 404}),
        ("POST", f"/api/exams/{ids['exam']}/print-jobs", {"kind": "door_lists"},
         {"admin": 422, "cA": 404, "cA2": 404}),
        ("GET", f"/api/exams/{ep}/print-jobs", None, both),
        ("GET", f"/api/exams/{ids['exam']}/print-jobs", None, {"admin": 200, "cA": 404, "cA2": 404}),
        ("GET", f"/api/print-jobs/{job}", None, both),
        ("GET", f"/api/print-jobs/{job}/files/1", None, both),
        ("GET", f"/api/print-jobs/{job}/zip", None, both),
        *paper_print_rows(ids),
    ]


def paper_print_rows(ids: dict[str, Any]) -> list[Row]:
    """Papers and answer sheets: who manages the exam (tA: E; the district) and exam-centre staff who
    may print it (cA: EP); the teacher's copy, with keys, only who manages the exam."""
    e, ep = ids["exam"], ids["print_exam"]
    owner = {"admin": 200, "tA": 200, "*": 404}
    centre = {"admin": 200, "cA": 200, "*": 404}
    return [
        ("GET", f"/api/exams/{e}/answer-sheets", None, owner),
        ("GET", f"/api/exams/{e}/paper.pdf", None, owner),
        ("GET", f"/api/exams/{e}/paper.pdf?copy=teacher", None, owner),
        ("GET", f"/api/exams/{e}/answer-sheet.pdf", None, owner),
        ("GET", f"/api/exams/{ep}/paper.pdf", None, centre),
        ("GET", f"/api/exams/{ep}/paper.pdf?copy=teacher", None, {"admin": 200, "cA": 403, "*": 404}),
        ("GET", f"/api/exams/{ep}/answer-sheet.pdf", None, centre),
        ("GET", f"/api/exams/{ep}/answer-sheets", None, centre),
    ]


def scan_rows(ids: dict[str, Any]) -> list[Row]:
    """Scanning: the district, the exam's creator (tA on E) and its organisers (cA on EP)."""
    e, ep, b, p = ids["exam"], ids["print_exam"], ids["scan_batch"], ids["scan_page"]
    mine = {"admin": 200, "tA": 200, "*": 404}
    return [
        ("POST", f"/api/exams/{e}/scan-batches", {SCANS: b"scan"}, {"admin": 202, "tA": 202, "*": 404}),
        ("POST", f"/api/exams/{ep}/scan-batches", {SCANS: b"scan"}, {"admin": 202, "cA": 202, "*": 404}),
        ("GET", f"/api/exams/{e}/scan-batches", None, mine),
        ("GET", f"/api/exams/{ep}/scan-batches", None, {"admin": 200, "cA": 200, "*": 404}),
        ("GET", f"/api/scan-batches/{b}", None, mine),
        ("GET", f"/api/exams/{e}/scan-exceptions", None, mine),
        ("GET", f"/api/scan-pages/{p}", None, mine),
        ("GET", f"/api/scan-pages/{p}/image.png", None, mine),
        # The admin discards the page first; tA's same decision is then a no-op (200), never a 409.
        ("POST", f"/api/scan-pages/{p}/resolve", {"action": "discard"}, mine),
    ]


def marking_rows(ids: dict[str, Any]) -> list[Row]:
    """Online marking on EM (tA's): the exam's managers set units up, watch progress, arbitrate and
    handle problems; its marker (mA) fetches and marks; markers never manage, managers never mark."""
    em, unit, token, token2 = ids["mark_exam"], ids["marking_unit"], ids["marking_token"], ids["marking_token2"]
    none = {"tA2": 404, "rA": 404, "tB": 404}
    return [
        ("POST", f"/api/exams/{em}/marking/units", {"mode": "double"}, {"admin": 201, "tA": 201, "mA": 404, **none}),
        ("GET", f"/api/exams/{em}/marking", None, {"admin": 200, "tA": 200, "mA": 200, **none}),
        ("POST", f"/api/marking/units/{unit}/batch", {"n": 1}, {"admin": 403, "tA": 403, "mA": 200, **none}),
        ("POST", f"/api/marking/tasks/{token}/mark", {"score": 1}, {"admin": 403, "tA": 403, "mA": 200, **none}),
        ("POST", f"/api/marking/tasks/{token2}/problem", {"reason": "字迹 unreadable"},
         {"admin": 403, "tA": 403, "mA": 200, **none}),
        # The admin (who manages EM, so leads its marking) sends it back; tA's same move is then a 409.
        ("POST", f"/api/marking/tasks/{token2}/release", None, {"admin": 200, "tA": 409, "mA": 403, **none}),
        *marking_lead_rows(ids),
    ]


def marking_lead_rows(ids: dict[str, Any]) -> list[Row]:
    """Running a unit (the exam's managers) and reviewing its markers (its lead, else the managers); mA
    marked the unit above. The admin re-sends mA's one script, so tA's same ask is a 409; removing mA,
    the unit's last assigned marker while scripts wait, is refused for both."""
    unit, unit2, m = ids["marking_unit"], ids["marking_unit2"], ids["mA"]
    none = {"tA2": 404, "rA": 404, "tB": 404}
    lead = {"admin": 200, "tA": 200, "mA": 403, **none}
    return [
        ("GET", f"/api/marking/units/{unit}/quality", None, lead),
        ("POST", f"/api/marking/units/{unit}/resend", {"marker_id": m, "k": 1}, {**lead, "tA": 409}),
        ("POST", f"/api/marking/units/{unit}/send-back", {"marker_id": m, "last": 1, "reason": "复查 recheck"}, lead),
        ("POST", f"/api/marking/units/{unit}/markers", {"user_id": m, "quota": 5}, lead),
        ("PUT", f"/api/marking/units/{unit}/markers/{m}", {"quota": 3}, lead),
        ("PUT", f"/api/marking/units/{unit}/lead", {"lead_marker_id": None}, lead),
        ("PUT", f"/api/marking/units/{unit2}/rules", {"tolerance": 1}, lead),
        ("DELETE", f"/api/marking/units/{unit}/markers/{m}", None, {**lead, "admin": 409, "tA": 409}),
    ]


def enrolled_photo_rows(ids: dict[str, Any]) -> list[Row]:
    """Enrolled photos of sA (class A1): the district, school A's admin and A1's teacher manage them; sA
    reads their own, and pA (who proctors sA's session on E) reads it for a manual check; a school's ZIP
    import is open to its staff (each file checked, the report says)."""
    sa, school = ids["sA"], ids["school_a"]
    manage = {"admin": 200, "tA": 200, "saA": 200, "*": 404}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("no-such-number.jpg", face_photos.jpeg(face_photos.astronaut()))
    return [
        ("PUT", f"/api/users/{sa}/enrolled-photo", {FILES: face_photos.jpeg(face_photos.astronaut())}, manage),
        ("GET", f"/api/users/{sa}/enrolled-photo", None,
         {"admin": 200, "tA": 200, "saA": 200, "sA": 200, "pA": 200, "*": 404}),
        ("POST", f"/api/schools/{school}/enrolled-photos/import", {FILES: archive.getvalue()},
         {"admin": 200, "tA": 200, "tA2": 200, "rA": 200, "saA": 200, "*": 404}),
        # The admin deletes it; the others then find nothing (404) whether or not they may.
        ("DELETE", f"/api/users/{sa}/enrolled-photo", None, {"admin": 204, "*": 404}),
    ]


FILES = "__files__"  # an owner row body sent as a multipart upload
SCANS = "__scans__"  # an owner row body sent as a scan upload


def _empty_roster() -> bytes:
    return write_roster("students", [])


def _request(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, dict) and FILES in body:
        return {"files": {"file": ("roster.xlsx", body[FILES])}}
    if isinstance(body, dict) and SCANS in body:
        return {"files": [("files", ("page.png", body[SCANS]))]}
    return {"json": body}


def _exam_body(ids: dict[str, Any], class_id: int, paper_id: int) -> dict[str, Any]:
    return {"title": "E2", "paper_id": paper_id, "class_id": class_id, "opens_at": START.isoformat(),
            "closes_at": START.replace(hour=20).isoformat(), "duration_minutes": 30}


def _template(url: str, ids: dict[str, Any]) -> str:
    """Turn a concrete URL back into its route path, so coverage can be checked against the app."""
    known = {str(v): k for k, v in ids.items() if isinstance(v, int)}
    known.update({str(v): "item" for v in ids["item"].values()})
    known[ids["sha"]] = "sha"
    known.setdefault("1", "file_no")
    known.update({duty.value: "duty" for duty in ExamDuty})
    known.update({"math": "subject", "physics": "subject"})
    known.update({ids[k]: "token" for k in ("marking_token", "marking_token2")})
    known["0"] = "n"  # the crop's number in a task (…/crops/0)
    parts = []
    for part in url.split("?")[0].split("/"):
        parts.append("{}" if part in known else part)
    return "/".join(parts)


def _normalise(path: str) -> str:
    return "/".join("{}" if s.startswith("{") else s for s in path.split("/"))


def test_route_x_role_x_owner(perm: PermWorld) -> None:
    caps = {(m, _normalise(p)): cap for m, p, cap in api_routes(perm.world.client.app)}  # type: ignore[arg-type]
    rows = owner_rows(perm.ids) + joint_rows(perm.ids) + proctoring_rows(perm.ids)
    failures = []
    for method, url, body, expected in rows:
        cap = caps[(method, _template(url, perm.ids))]
        for who in USERS:
            granted = cap is None or cap in GRANTS[ROLE_OF[who]]
            want = expected.get(who, expected.get("*")) if granted else 403
            if want is None:
                failures.append(f"{method} {url}: no expectation for {who}, whose role may call it")
                continue
            r = perm.call(method, url, who, **_request(body))
            if r.status_code != want or (not granted and r.json()["error"] != "RoleNotAllowed"):
                failures.append(f"{method} {url} as {who}: want {want}, got {r.status_code} {r.text[:150]}")
    assert failures == [], "\n".join(failures)
    covered = {(m, _template(u, perm.ids)) for m, u, _, _ in rows}
    with_ids = {key for key, cap in caps.items() if cap is not None and "{" in key[1]}
    assert with_ids <= covered, f"routes on records with no owner row: {sorted(with_ids - covered)}"


def test_lists_show_only_what_each_user_may_see(perm: PermWorld) -> None:
    ids, it = perm.ids, perm.ids["item"]

    def exam_ids(who: str) -> set[int]:
        return {e["id"] for e in perm.world.ok("GET", "/api/exams", who)}

    assert exam_ids("pA") == {ids["exam"]} and exam_ids("pA2") == set() and exam_ids("tB") == set()
    assert exam_ids("tA") == {ids["exam"], ids["mark_exam"]} and exam_ids("sB") == set()

    def found(who: str) -> set[int]:
        return {i["id"] for i in perm.world.ok("GET", "/api/items?limit=500", who)["items"]}

    assert found("tA") == set(it.values()) - {it["b_school"]}
    assert found("tA2") == {it["school"], it["district"]}, "private and locked items stay hidden"
    assert found("tB") == {it["district"], it["b_school"]}
    assert found("admin") == set(it.values())
    classes = {c["id"] for c in perm.world.ok("GET", "/api/classes", "tB")}
    assert classes == {ids["class_b"]}
    papers = {p["id"] for p in perm.world.ok("GET", "/api/papers?mine=false", "tA2")}
    assert ids["paper"] not in papers, "a paper on a running exam is hidden from other teachers"


def test_locks_lift_when_the_exam_closes(perm: PermWorld) -> None:
    it = perm.ids["item"]
    assert perm.call("GET", f"/api/items/{it['on_exam']}", "tB").status_code == 404
    assert perm.call("GET", f"/api/papers/{perm.ids['paper']}", "tA2").status_code == 404
    perm.world.clock.advance(hours=4)
    for who in ("tB", "tA2"):
        perm.world.login(who)  # the access tokens expired meanwhile
    assert perm.call("GET", f"/api/items/{it['on_exam']}", "tB").status_code == 200
    assert perm.call("GET", f"/api/papers/{perm.ids['paper']}", "tA2").status_code == 200
    assert perm.call("GET", f"/api/papers/{perm.ids['paper']}", "tB").status_code == 404, "other school"


def test_a_reviewers_edit_of_anothers_item_is_audited(perm: PermWorld) -> None:
    item = perm.ids["item"]["school"]
    body = {"type": "true_false", "stem": "审 reviewed", "definition": {"correct": False}}
    perm.world.ok("PUT", f"/api/items/{item}", "rA", json=body)
    perm.world.ok("POST", f"/api/items/{item}/status", "rA", json={"status": "retired"})
    perm.world.ok("PUT", f"/api/items/{item}", "tA", json=body)  # the author's own edit: not audited
    trail = perm.world.ok("GET", f"/api/items/{item}/audit", "tA")
    assert [(e["actor_id"], e["action"]) for e in trail] == [(perm.ids["rA"], "item.edited"),
                                                             (perm.ids["rA"], "item.status")]
    assert trail[1]["data"]["to"] == "retired" and trail[0]["data"]["author_id"] == perm.ids["tA"]


def test_staff_from_another_school_cannot_be_assigned(perm: PermWorld) -> None:
    e = perm.ids["exam"]
    r = perm.call("POST", f"/api/exams/{e}/staff", "tA", json={"user_id": perm.ids["tB"], "duty": "proctor"})
    assert r.status_code == 422 and "school" in r.json()["detail"]
    r = perm.call("POST", f"/api/exams/{e}/staff", "tA", json={"user_id": perm.ids["sA"], "duty": "proctor"})
    assert r.status_code == 422 and "student" in r.json()["detail"]
    perm.world.ok("POST", f"/api/exams/{e}/staff", "tA", json={"user_id": perm.ids["pA2"], "duty": "proctor"})
    assert {x["id"] for x in perm.world.ok("GET", "/api/exams", "pA2")} == {e}
