"""Print runs end to end: started over HTTP, rendered by the worker room by room to files on disk,
progress in the database, files and a zip streamed back; who may print which exam."""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pdf_checks import photo_png, reader, text
from print_fixture import PrintLayout, seed_print_layout
from support import PASSWORD, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.jobs.queue import Periodic
from exam_server.services import accounts, print_jobs
from exam_server.storage import FileStore
from models import ExamDuty, ExamStaff, PrintJob, Role


@pytest.fixture
def printing(database_url: str, tmp_path: Path) -> Iterator[tuple[World, PrintLayout]]:
    from support import START

    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    world = build_world(make_client(runtime), runtime, clock)
    photo = FileStore(runtime.settings.data_dir / "media").put(photo_png(), "p.png", "image/png")["sha256"]
    with session_scope(runtime.session_factory) as session:
        layout = seed_print_layout(session, world.ids["exam"], clock(), rooms=3, per_room=4, sites=2,
                                   photo_sha=photo, absent_first=True)
        for name, role in (("centre", Role.CENTRE_STAFF), ("centre2", Role.CENTRE_STAFF)):
            user = accounts.create_user(session, name, PASSWORD, role, name, world.ids["school"], clock())
            session.flush()
            if name == "centre":
                session.add(ExamStaff(exam_id=world.ids["exam"], user_id=user.id, duty=ExamDuty.ORGANISER))
    for name in ("centre", "centre2"):
        world.login(name)
    runtime.queue.start_worker(1, Periodic(sweep_seconds=3600, relay_seconds=3600))
    yield world, layout
    runtime.queue.stop()
    runtime.engine.dispose()


def _run(world: World, who: str, **body: Any) -> dict[str, Any]:
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/print-jobs", who, json=body)
    assert r.status_code == 202, r.text
    world.runtime.queue.join(timeout_ms=60000)
    job: dict[str, Any] = world.ok("GET", f"/api/print-jobs/{r.json()['id']}", who)
    assert job["status"] == "done", job
    return job


def _download(world: World, url: str, who: str = "admin") -> bytes:
    r = world.call("GET", url, who)
    assert r.status_code == 200, r.text
    return bytes(r.content)


def test_tickets_one_pdf_per_room_with_progress_and_a_zip(printing: tuple[World, PrintLayout]) -> None:
    world, layout = printing
    job = _run(world, "admin", kind="tickets", group_by="room")
    assert (job["done"], job["total"], job["pages"]) == (3, 3, 12)
    assert [f["pages"] for f in job["files"]] == [4, 4, 4]
    by_room = {}
    for f in job["files"]:
        pdf = _download(world, f["url"])
        assert pdf.startswith(b"%PDF") and len(reader(pdf).pages) == 4 and len(pdf) == f["size"]
        by_room[f["name"]] = text(pdf)
    names = [name for cands in layout.candidates.values() for _, name, _ in cands]
    assert all(any(name in t for t in by_room.values()) for name in names)
    assert "贴照片处" in "".join(by_room.values())
    archive = zipfile.ZipFile(io.BytesIO(_download(world, job["zip_url"])))
    assert sorted(archive.namelist()) == sorted(by_room)


def test_grouping_by_site_and_filters(printing: tuple[World, PrintLayout]) -> None:
    world, layout = printing
    by_site = _run(world, "admin", kind="sign_in", group_by="site")
    assert [(f["name"].split("-site-")[1], f["pages"]) for f in by_site["files"]] == [
        (f"{layout.site_codes[0]}.pdf", 2), (f"{layout.site_codes[1]}.pdf", 1)]
    sheet = text(_download(world, by_site["files"][0]["url"]))
    assert "签到表" in sheet and sheet.count("缺考") >= 2  # the absent candidate is marked
    one_room = _run(world, "admin", kind="seat_charts", exam_room_id=layout.exam_room_ids[1])
    assert one_room["total"] == 1 and len(one_room["files"]) == 1
    sitting = _run(world, "admin", kind="door_lists", sitting_id=layout.sitting_id)
    assert sitting["total"] == 3
    listed = world.ok("GET", f"/api/exams/{world.ids['exam']}/print-jobs", "admin")
    assert [j["id"] for j in listed] == [sitting["id"], one_room["id"], by_site["id"]]


def test_bad_requests_name_the_field(printing: tuple[World, PrintLayout]) -> None:
    world, layout = printing
    url = f"/api/exams/{world.ids['exam']}/print-jobs"
    r = world.call("POST", url, "admin", json={"kind": "tickets", "sitting_id": 999999})
    assert r.status_code == 422 and "sitting_id" in r.json()["detail"]
    r = world.call("POST", url, "admin", json={"kind": "tickets", "exam_room_id": 999999})
    assert r.status_code == 422 and "exam_room_id" in r.json()["detail"]
    assert world.call("POST", url, "admin", json={"kind": "posters"}).status_code == 422
    assert world.call("POST", url, "admin", json={"kind": "tickets", "group_by": "class"}).status_code == 422
    job = _run(world, "admin", kind="tickets", exam_room_id=layout.exam_room_ids[0])
    base = f"/api/print-jobs/{job['id']}"
    assert world.call("GET", f"{base}/files/2", "admin").status_code == 404
    assert world.call("GET", f"{base}/files/0", "admin").status_code == 404


def test_who_may_print(printing: tuple[World, PrintLayout]) -> None:
    world, _ = printing
    url = f"/api/exams/{world.ids['exam']}/print-jobs"
    body = {"kind": "door_lists"}
    assert world.call("POST", url, "teacher", json=body).json()["error"] == "RoleNotAllowed"
    assert world.call("POST", url, "s1", json=body).status_code == 403
    assert world.call("POST", url, "centre2", json=body).status_code == 404, "not organiser of this exam"
    job = _run(world, "centre", **body)
    assert world.call("GET", f"/api/print-jobs/{job['id']}", "centre2").status_code == 404
    assert world.call("GET", job["files"][0]["url"], "centre2").status_code == 404
    assert world.call("GET", job["files"][0]["url"], "centre").status_code == 200


def test_a_missing_font_refuses_the_run_with_how_to_install(database_url: str, tmp_path: Path) -> None:
    from support import START

    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, print_font_path=tmp_path / "missing.ttc")
    world = build_world(make_client(runtime), runtime, clock)
    with session_scope(runtime.session_factory) as session:
        seed_print_layout(session, world.ids["exam"], clock(), rooms=1)
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/print-jobs", "admin", json={"kind": "tickets"})
    assert r.status_code == 503 and r.json()["error"] == "PrintingUnavailable"
    assert "missing.ttc" in r.json()["detail"] and "fonts-wqy-zenhei" in r.json()["detail"]
    runtime.engine.dispose()


def test_a_job_whose_font_vanished_fails_with_the_reason_and_a_rerun_is_idempotent(
        printing: tuple[World, PrintLayout], tmp_path: Path) -> None:
    world, _ = printing
    world.runtime.queue.stop()  # run the job body by hand instead of on the worker
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/print-jobs", "admin", json={"kind": "tickets"})
    job_id = r.json()["id"]
    factory = world.runtime.session_factory
    print_jobs.run(factory, world.clock, job_id, font_path=tmp_path / "gone.ttf")
    job = world.ok("GET", f"/api/print-jobs/{job_id}", "admin")
    assert job["status"] == "failed" and "gone.ttf" in job["error"] and job["zip_url"] is None
    print_jobs.run(factory, world.clock, job_id)
    print_jobs.run(factory, world.clock, job_id)  # a redelivered message: the finished run stays
    job = world.ok("GET", f"/api/print-jobs/{job_id}", "admin")
    assert job["status"] == "done" and job["error"] is None and job["pages"] == 12
    with session_scope(factory) as session:
        row = session.get(PrintJob, job_id)
        assert row is not None and sorted(p.name for p in Path(row.output_dir).iterdir()) == sorted(
            [f["name"] for f in job["files"]] + ["all.zip"])


def test_sitting_windows_print_in_the_configured_zone(printing: tuple[World, PrintLayout]) -> None:
    world, layout = printing
    job = _run(world, "admin", kind="door_lists", exam_room_id=layout.exam_room_ids[0])
    page = text(_download(world, job["files"][0]["url"]))
    # The sitting opens a day after START (08:00 UTC): 16:00 in Asia/Shanghai, the default zone.
    assert "2026-11-25 16:00 – 18:00" in page and "08:00" not in page


def test_an_unknown_time_zone_refuses_the_run(database_url: str, tmp_path: Path) -> None:
    from support import START

    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, print_timezone="Mars/Olympus")
    world = build_world(make_client(runtime), runtime, clock)
    with session_scope(runtime.session_factory) as session:
        seed_print_layout(session, world.ids["exam"], clock(), rooms=1)
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/print-jobs", "admin", json={"kind": "tickets"})
    assert r.status_code == 503 and "Mars/Olympus" in r.json()["detail"]
    runtime.engine.dispose()
