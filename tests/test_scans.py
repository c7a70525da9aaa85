"""Scanned answer sheets end to end: uploaded over HTTP, read by the worker page by page, applied
to attempts and graded; the exception queue and a person's decisions; the CLI import.

Sheets are drawn from a small layout stored as the exam's AnswerSheet and filled with known
answers (scan_fixture.py) and read by omr.reader (EXAM_TEST_TRUTH_READER=1: a stand-in that
looks the drawn truth up, to tell reader regressions from service ones)."""

import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from scan_fixture import (
    Truth,
    png_bytes,
    sheet_image,
    sheet_layout,
    store_sheet,
    truth_loader,
    truth_reader,
    use_truth_reader,
)
from sqlalchemy import delete, func, select, update
from support import World, build_world, make_client, make_runtime
from typer.testing import CliRunner

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.jobs.queue import Periodic
from exam_server.services import answer_sheets, scan_read
from exam_server.services import scans as scans_service
from item_bank.papers import load_paper, paper_student_view
from item_bank.variants import label_map, variant_view
from models import (
    AnswerCrop,
    AnswerSheet,
    Attempt,
    AttemptAnswer,
    AttemptStep,
    AuditEvent,
    CropReading,
    Exam,
    ExamCandidate,
    ScanPage,
    StepKind,
    User,
)
from omr.layout import SheetLayout
from omr.sheet_code import SheetCode

NUMBERS = {"s1": "1001", "s2": "1002", "s3": "1003"}
# s1 answers everything right (2 + 4 + 1 of the bubble items), s2 partly (multiple: A of A,C -> 2 of 4).
RIGHT = {"1": "B", "2": "AC", "3": "T"}
PARTLY = {"1": "A", "2": "A", "3": "F"}


@pytest.fixture
def scans(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    if use_truth_reader():
        monkeypatch.setattr(scan_read.OMR, "load_pages", truth_loader)
        monkeypatch.setattr(scan_read.OMR, "read_page", truth_reader)
    from support import START

    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock)
    world = build_world(make_client(runtime), runtime, clock, students=3)
    with session_scope(runtime.session_factory) as session:
        for name, number in NUMBERS.items():
            user_id = session.scalar(select(User.id).where(User.username == name))
            candidate = session.scalars(select(ExamCandidate).where(
                ExamCandidate.exam_id == world.ids["exam"], ExamCandidate.user_id == user_id)).one()
            candidate.admission_no = number
        store_sheet(session, world.ids["exam"], world.ids["paper"], world.ids["slots"], clock())
    runtime.queue.start_worker(1, Periodic(sweep_seconds=3600, relay_seconds=3600))
    yield world
    runtime.queue.stop()
    runtime.engine.dispose()


def _code(world: World, exam_id: int | None = None, page: int = 1, pages: int = 1,
          candidate: int | None = None) -> SheetCode:
    return SheetCode(exam_id or world.ids["exam"], None, page, pages, candidate)


def _sheet(world: World, number: str | None, answers: dict[str, str], **kw: Any) -> bytes:
    absent = kw.pop("absent", False)
    return png_bytes(sheet_image(sheet_layout(), Truth(_code(world, **kw), number, answers, absent)))


def _upload(world: World, files: list[tuple[str, bytes]], who: str = "teacher",
            layout: bytes | None = None) -> dict[str, Any]:
    parts: list[tuple[str, Any]] = [("files", (name, data)) for name, data in files]
    if layout is not None:
        parts.append(("layout", ("layout.json", layout)))
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/scan-batches", who, files=parts)
    assert r.status_code == 202, r.text
    batch = _wait(world, r.json()["id"], who)
    wait_for_ocr(world)
    return batch


def wait_for_ocr(world: World) -> None:
    """Until the OCR job has read every blank crop of its current image (it runs after each page)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with world.runtime.session_factory() as session:
            crops: set[Any] = set(session.execute(select(AnswerCrop.id, AnswerCrop.image_sha256).where(
                AnswerCrop.kind.in_(("blank", "score_box")))).all())
            read: set[Any] = set(session.execute(select(CropReading.crop_id, CropReading.image_sha256)).all())
        if crops <= read:
            time.sleep(0.2)  # the job's transaction after the readings (steps, tasks) is the same one
            return
        time.sleep(0.05)
    raise AssertionError("OCR did not read every blank crop in time")


def _wait(world: World, batch_id: int, who: str = "teacher") -> dict[str, Any]:
    """Poll the batch until the worker finished it (a queue join would also wait for delayed jobs)."""
    deadline = time.monotonic() + 120
    while True:
        batch: dict[str, Any] = world.ok("GET", f"/api/scan-batches/{batch_id}", who)
        if batch["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert batch["status"] == "done", batch
    return batch


def _attempt(world: World, name: str) -> Attempt:
    with world.runtime.session_factory() as session:
        user_id = session.scalar(select(ExamCandidate.user_id).where(
            ExamCandidate.exam_id == world.ids["exam"], ExamCandidate.admission_no == NUMBERS[name]))
        attempt = session.scalars(select(Attempt).where(Attempt.exam_id == world.ids["exam"],
                                                        Attempt.user_id == user_id)).one()
        session.expunge(attempt)
        return attempt


def _count(world: World, model: Any) -> int:
    with world.runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _exceptions(world: World, code: str | None = None) -> dict[str, Any]:
    url = f"/api/exams/{world.ids['exam']}/scan-exceptions" + (f"?code={code}" if code else "")
    return world.ok("GET", url, "teacher")  # type: ignore[no-any-return]


def test_a_batch_reads_every_page_and_a_corrupt_file_waits_as_an_exception(scans: World) -> None:
    world = scans
    files = [("s1.png", _sheet(world, "1001", RIGHT)), ("broken.png", b"\x89PNG\r\n\x1a\n truncated"),
             ("s2.png", _sheet(world, "1002", PARTLY))]
    batch = _upload(world, files)
    assert (batch["files"], batch["pages"], batch["done"]) == (3, 3, 3)
    assert (batch["read_ok"], batch["exceptions"], batch["duplicates"]) == (2, 1, 0)
    assert [p["status"] for p in batch["page_list"]] == ["read", "exception", "read"]
    queue = _exceptions(world)
    assert queue["counts"] == {"unreadable_file": 1} and queue["pages"][0]["image_url"] is None
    # The scores equal the truth: s1 2 + 4 + 1; s2 0 + 2 (gaokao: A of A,C) + 0; the rest waits for marking.
    s1, s2 = _attempt(world, "s1"), _attempt(world, "s2")
    assert (s1.score, s2.score) == (7.0, 2.0)
    assert s1.state == "submitted" and s1.needs_manual_grading, "crops of 4, 5 and 6 wait for a marker"
    with world.runtime.session_factory() as session:
        crops = session.scalars(select(AnswerCrop).where(AnswerCrop.user_id == s1.user_id)).all()
        slots = world.ids["slots"]
        assert {(c.region_id, c.kind, c.slot_id) for c in crops} == {
            ("r4", "blank", slots[3]), ("r5", "blank", slots[4]), ("r6", "subjective", slots[5])}
        # The crops are PNG cut-outs of the rectified page, in the file store.
        data = world.runtime.settings.data_dir / "media" / crops[0].image_sha256[:2] / crops[0].image_sha256
        assert data.read_bytes().startswith(b"\x89PNG")
        steps = session.scalars(select(AttemptStep.kind).where(AttemptStep.attempt_id == s1.id)).all()
        assert steps.count(StepKind.SCANNED) == 3 and StepKind.AUTO_GRADED in steps
        answers = {a.slot_id: a.response for a in session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == s1.id))}
        # The crops' slots have rows with no response: they wait for OCR or a marker (4 and 5 are empty
        # boxes: OCR scores them 0 and lists them for audit; tests/test_ocr_marking.py).
        assert answers == {slots[0]: "B", slots[1]: ["A", "C"], slots[2]: True, slots[3]: None, slots[4]: None,
                           slots[5]: None}
    page = world.ok("GET", f"/api/scan-pages/{batch['page_list'][0]['id']}", "teacher")
    image = world.call("GET", page["image_url"], "teacher")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    plain = world.call("GET", page["image_url"] + "?plain=true", "teacher")
    area = world.call("GET", page["image_url"] + "?area=id", "teacher")
    assert area.status_code == 200 and len(area.content) < len(plain.content)
    if _has_overlay():  # the reading drawn over the page in colour
        assert _decode(image.content).ndim == 3 and _decode(plain.content).ndim == 2

    # Re-importing the same scans changes nothing: every page is a duplicate.
    pages_before, steps_before = _count(world, ScanPage), _count(world, AttemptStep)
    again = _upload(world, files)
    assert (again["read_ok"], again["exceptions"], again["duplicates"]) == (0, 0, 3)
    assert (_count(world, ScanPage), _count(world, AttemptStep)) == (pages_before, steps_before)


def test_wrong_exam_wrong_page_not_on_roster_and_duplicated_numbers(scans: World) -> None:
    world = scans
    batch = _upload(world, [
        ("other.png", _sheet(world, "1001", RIGHT, exam_id=world.ids["exam"] + 100)),
        ("page2.png", _sheet(world, "1001", RIGHT, page=2, pages=2)),
        ("stranger.png", _sheet(world, "1999", RIGHT)),
        ("s1.png", _sheet(world, "1001", RIGHT)),
        ("s1-again.png", _sheet(world, "1001", PARTLY)),  # another scan carrying the same number
    ])
    assert [p["issue_code"] for p in batch["page_list"]] == [
        "wrong_exam", "wrong_page", "id_not_on_roster", None, "id_duplicated"]
    assert _attempt(world, "s1").score == 7.0, "the duplicate never overwrote the first sheet"
    # The person reads the stranger's sheet as s3's: roster checked again, applied, audited.
    stranger = batch["page_list"][2]["id"]
    done = world.ok("POST", f"/api/scan-pages/{stranger}/resolve", "teacher",
                    json={"action": "set_admission_no", "admission_no": "1003"})
    assert done["status"] == "resolved" and _attempt(world, "s3").score == 7.0
    # A number that is not on the roster either keeps the page waiting, with the new reason.
    wrong = batch["page_list"][4]["id"]
    still = world.ok("POST", f"/api/scan-pages/{wrong}/resolve", "teacher",
                     json={"action": "set_admission_no", "admission_no": "1999"})
    assert (still["status"], still["issue_code"]) == ("exception", "id_not_on_roster")
    gone = world.ok("POST", f"/api/scan-pages/{wrong}/resolve", "teacher", json={"action": "discard"})
    assert gone["status"] == "discarded"
    assert _exceptions(world, "id_duplicated")["pages"] == []
    with world.runtime.session_factory() as session:
        actions = session.scalars(select(AuditEvent.data).where(AuditEvent.action == "scan.resolved")).all()
        assert [a["action"] for a in actions] == ["set_admission_no", "set_admission_no", "discard"]


def test_named_sheet_must_match_the_bubbled_number(scans: World) -> None:
    world = scans
    s2 = _attempt_user(world, "s2")
    batch = _upload(world, [("named.png", _sheet(world, "1001", RIGHT, candidate=s2)),
                            ("named-only.png", _sheet(world, None, PARTLY, candidate=s2))])
    assert [p["issue_code"] for p in batch["page_list"]] == ["id_mismatch", None]
    assert _attempt(world, "s2").score == 2.0


def _attempt_user(world: World, name: str) -> int:
    with world.runtime.session_factory() as session:
        return int(session.scalar(select(ExamCandidate.user_id).where(
            ExamCandidate.exam_id == world.ids["exam"], ExamCandidate.admission_no == NUMBERS[name])) or 0)


def test_absent_marks(scans: World) -> None:
    world = scans
    batch = _upload(world, [("absent.png", _sheet(world, "1001", {}, absent=True)),
                            ("absent-answers.png", _sheet(world, "1002", RIGHT, absent=True))])
    assert [p["issue_code"] for p in batch["page_list"]] == [None, "absent_with_answers"]
    with world.runtime.session_factory() as session:
        absent = dict(session.execute(select(ExamCandidate.admission_no, ExamCandidate.absent).where(
            ExamCandidate.exam_id == world.ids["exam"])).all())
    assert absent == {"1001": True, "1002": False, "1003": False}
    page = batch["page_list"][1]["id"]
    done = world.ok("POST", f"/api/scan-pages/{page}/resolve", "teacher", json={"action": "accept"})
    assert done["status"] == "resolved" and _attempt(world, "s2").score == 7.0
    # The roster says s3 was absent (the proctor's attendance), yet a sheet with answers comes in.
    with session_scope(world.runtime.session_factory) as session:
        session.execute(update(ExamCandidate).where(ExamCandidate.admission_no == "1003").values(absent=True))
    batch = _upload(world, [("s3.png", _sheet(world, "1003", RIGHT))])
    assert batch["page_list"][0]["issue_code"] == "absent_with_answers"


def test_multiple_marks_resolved_by_a_person_are_applied_and_scored(scans: World) -> None:
    world = scans
    batch = _upload(world, [("s1.png", _sheet(world, "1001", {"1": "AB", "2": "AC", "3": "T"}))])
    page = batch["page_list"][0]
    assert (page["status"], page["issue_code"]) == ("exception", "multiple_marks")
    shown = world.ok("GET", f"/api/scan-pages/{page['id']}", "teacher")
    assert shown["issue_field"] == "1" and shown["reading"]["fields"]["1"]["value"] == "AB"
    assert world.call("GET", shown["image_url"] + "?area=1", "teacher").status_code == 200
    decision = {"action": "set_field", "field": "1", "value": "B"}
    done = world.ok("POST", f"/api/scan-pages/{page['id']}/resolve", "teacher", json=decision)
    assert done["status"] == "resolved" and _attempt(world, "s1").score == 7.0
    # The same decision again is a no-op; another one is refused; a re-import leaves it alone.
    assert world.ok("POST", f"/api/scan-pages/{page['id']}/resolve", "teacher", json=decision)["status"] == "resolved"
    r = world.call("POST", f"/api/scan-pages/{page['id']}/resolve", "teacher", json={"action": "discard"})
    assert r.status_code == 409
    again = _upload(world, [("s1.png", _sheet(world, "1001", {"1": "AB", "2": "AC", "3": "T"}))])
    assert again["duplicates"] == 1 and _attempt(world, "s1").score == 7.0


def test_a_shuffled_exam_maps_printed_letters_back_through_the_variant(scans: World) -> None:
    """s1's own variant was printed (their attempt existed: its seed); s2 had no attempt, so the
    form's paper in its own order was printed (what api/paper_print.py allows)."""
    world = scans
    with session_scope(world.runtime.session_factory) as session:
        exam = session.get(Exam, world.ids["exam"])
        assert exam is not None
        exam.shuffle_options = True
    attempt_id = world.ok("POST", f"/api/exams/{world.ids['exam']}/attempt", "s1")["attempt_id"]
    slots = world.ids["slots"]
    with session_scope(world.runtime.session_factory) as session:
        paper = load_paper(session, world.ids["paper"])
        assert paper is not None
        view = paper_student_view(session, paper)
        for seed in range(1, 100):  # a seed whose letters differ from the paper's own (most do)
            labels = {slot: {oid: label for label, oid in m.items()}
                      for slot, m in label_map(variant_view(view, seed, False, True)).items()}
            printed = {"1": labels[slots[0]]["B"], "2": "".join(sorted(labels[slots[1]][o] for o in "AC")),
                       "3": "T"}
            if printed["1"] != "B" and printed["2"] != "AC":
                break
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(variant_seed=seed))
    batch = _upload(world, [("s1.png", _sheet(world, "1001", printed)), ("s2.png", _sheet(world, "1002", RIGHT))])
    assert batch["read_ok"] == 2
    assert (_attempt(world, "s1").score, _attempt(world, "s2").score) == (7.0, 7.0)


def test_a_bad_layout_file_is_refused_with_where(scans: World) -> None:
    world = scans
    bad = b'{"name": "x", "alignment": {"method": "markers", "markers": []}}'
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/scan-batches", "teacher",
                   files=[("files", ("a.png", b"x")), ("layout", ("sheet.json", bad))])
    assert r.status_code == 422 and r.json()["error"] == "ScanLayoutInvalid"
    assert "sheet.json" in r.json()["detail"] and "alignment" in r.json()["detail"]
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/scan-batches", "s1", files=[("files", ("a.png", b"x"))])
    assert r.status_code == 403


def test_cli_imports_a_folder(scans: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exam_server.cli import app

    world = scans
    folder = tmp_path / "scans"
    (folder / "room1").mkdir(parents=True)
    (folder / "room1" / "a.png").write_bytes(_sheet(world, "1001", RIGHT))
    (folder / "room1" / "b.png").write_bytes(_sheet(world, "1999", RIGHT))
    (folder / "c.jpg").write_bytes(b"not a jpeg")
    settings = world.runtime.settings
    env = {"EXAM_DATABASE_URL": settings.database_url, "EXAM_DATA_DIR": str(settings.data_dir),
           "EXAM_SECRET_KEY": settings.secret_key or ""}
    result = CliRunner().invoke(app, ["scans", "import", str(folder), "--exam", str(world.ids["exam"])], env=env)
    assert result.exit_code == 0, result.output
    assert "3 pages, 1 read, 2 exceptions, 0 duplicates" in result.output
    assert "id_not_on_roster: 1" in result.output and "unreadable_file: 1" in result.output
    assert _attempt(world, "s1").score == 7.0
    # Two reading processes (spawned: they read with the real omr.reader, never the stand-in).
    workers = "1" if use_truth_reader() else "2"
    again = CliRunner().invoke(app, ["scans", "import", str(folder), "--exam", str(world.ids["exam"]),
                                     "--workers", workers], env=env)
    assert again.exit_code == 0, again.output
    assert "3 pages, 0 read, 0 exceptions, 3 duplicates" in again.output


def test_a_zip_is_unpacked_and_one_that_inflates_too_far_is_refused(scans: World) -> None:
    world = scans
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("room 1/s1.png", _sheet(world, "1001", RIGHT))
        archive.writestr("room 1/s2.png", _sheet(world, "1002", PARTLY))
        archive.writestr("readme.txt", "not a scan")
    batch = _upload(world, [("scans.zip", packed.getvalue())])
    assert (batch["files"], batch["read_ok"]) == (2, 2)
    assert [p["source"].split("#")[0][-9:] for p in batch["page_list"]] == ["00001.png", "00002.png"]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.png", b"\0" * (2 * 1024 * 1024))
    world.runtime.settings.max_scan_unpacked_bytes = 1024 * 1024
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/scan-batches", "teacher",
                   files=[("files", ("bomb.zip", bomb.getvalue()))])
    assert r.status_code == 422 and "big.png" in r.json()["detail"] and "limit" in r.json()["detail"]


def _has_overlay() -> bool:
    try:
        import omr.overlay  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def _decode(data: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_a_page_that_cannot_be_recorded_waits_and_a_crashed_job_fails_the_batch(
        scans: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world = scans
    real_apply = scans_service.apply_page

    def flaky(session: Any, page: ScanPage, *args: Any) -> Any:
        if page.admission_no == "1002":
            raise RuntimeError("disk full")
        return real_apply(session, page, *args)

    monkeypatch.setattr(scans_service, "apply_page", flaky)
    batch = _upload(world, [("s1.png", _sheet(world, "1001", RIGHT)), ("s2.png", _sheet(world, "1002", RIGHT))])
    assert [(p["status"], p["issue_code"]) for p in batch["page_list"]] == [
        ("read", None), ("exception", "unusable_image")]
    waiting = _exceptions(world)["pages"][0]
    assert "disk full" in waiting["issue_reason"] and _attempt(world, "s1").score == 7.0

    def broken(folder: Path) -> list[Path]:
        raise OSError("the scans folder is gone")

    monkeypatch.setattr(scans_service, "scan_files", broken)
    r = world.call("POST", f"/api/exams/{world.ids['exam']}/scan-batches", "teacher",
                   files=[("files", ("s3.png", _sheet(world, "1003", RIGHT)))])
    with pytest.raises(AssertionError, match="failed"):
        _wait(world, r.json()["id"])
    failed = world.ok("GET", f"/api/scan-batches/{r.json()['id']}", "teacher")
    assert failed["status"] == "failed" and "the scans folder is gone" in failed["error"]


def test_a_third_party_sheet_is_read_with_its_layout_file(scans: World) -> None:
    world = scans
    layout = sheet_layout().model_copy(update={"qr": None, "name": "vendor A5"})
    image = sheet_image(layout, Truth(None, "1001", RIGHT))
    batch = _upload(world, [("vendor.png", png_bytes(image))], layout=layout.model_dump_json().encode())
    assert batch["third_party"] and (batch["read_ok"], batch["exceptions"]) == (1, 0), batch
    assert _attempt(world, "s1").score == 7.0, "question n of the sheet is the paper's n-th item"


def test_our_printed_sheet_designed_from_the_paper_reads_back_to_the_truth(scans: World) -> None:
    """The answer sheet printing designs (omr.design via services/answer_sheets.py), filled and read."""
    world = scans
    with session_scope(world.runtime.session_factory) as session:
        session.execute(delete(AnswerSheet))  # the hand-made sheet of the fixture
        exam = session.get(Exam, world.ids["exam"])
        assert exam is not None
        sheets = answer_sheets.ensure_sheets(session, exam, None, world.clock())
        layouts = [(SheetLayout.model_validate(s.layout), s.pages) for s in sheets]
    files = []
    for number, answers in (("1001", RIGHT), ("1002", PARTLY)):
        for layout, pages in layouts:
            code = SheetCode(world.ids["exam"], None, layout.page_no, pages)
            image = sheet_image(layout, Truth(code, number, answers))
            files.append((f"{number}-{layout.page_no}.png", png_bytes(image)))
    batch = _upload(world, files)
    assert (batch["read_ok"], batch["exceptions"]) == (len(files), 0), batch
    assert (_attempt(world, "s1").score, _attempt(world, "s2").score) == (7.0, 2.0)
    with world.runtime.session_factory() as session:
        crops = session.scalars(select(AnswerCrop).where(AnswerCrop.user_id == _attempt(world, "s1").user_id)).all()
    slots = world.ids["slots"]
    assert {c.slot_id for c in crops} == {slots[3], slots[4], slots[5]}, "blanks of 4 and 5, the essay's box"


def test_the_upload_route_gets_the_scan_size_limit() -> None:
    from exam_server.body_limit import MULTIPART_SLACK, BodyLimitMiddleware, upload_routes
    from exam_server.settings import Settings

    settings = Settings(max_body_bytes=1000, max_scan_upload_bytes=5000)
    middleware = BodyLimitMiddleware(None, settings.max_body_bytes, upload_routes(settings))  # type: ignore[arg-type]
    assert middleware.limit_for("/api/exams/12/scan-batches") == 5000 + MULTIPART_SLACK
    assert middleware.limit_for("/api/exams/12/scan-batches/") == 5000 + MULTIPART_SLACK
    assert middleware.limit_for("/api/exams/12/scan-exceptions") == 1000
    assert middleware.limit_for("/api/exams/12/scan-batches/3") == 1000
