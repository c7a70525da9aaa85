"""End to end in headless Chromium: the teacher uploads two scanned sheets of the demo exam, the
progress bar runs to done, the batch lists both pages as waiting, and the exception queue is
cleared with the keyboard alone (N + number + Enter, F + letters + Enter). Needs the OMR reader
(omr.reader): the server reads real pixels."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from item_bank.papers import load_paper
from models import Exam, ExamCandidate, ScanPage, User
from omr.sheet_code import SheetCode
from tests.browser_support import Server, require_browser, shot
from tests.scan_fixture import Truth, png_bytes, sheet_image, sheet_layout, store_sheet

pytestmark = pytest.mark.browser

expect = require_browser()
pytest.importorskip("omr.reader", reason="the OMR reader (branch omr-reader) is not installed")

PAGE_VIEWPORT = (1280, 1000)


@pytest.fixture(scope="module")
def scan_exam(server: Server) -> int:
    engine = create_engine(f"sqlite:///{server.log_path.parent}/e2e.db")
    with Session(engine) as session, session.begin():
        exam = session.scalars(select(Exam).order_by(Exam.id)).first()
        assert exam is not None
        for name, number in (("student1", "1001"), ("student2", "1002")):
            user_id = session.scalar(select(User.id).where(User.username == name))
            candidate = session.get(ExamCandidate, (exam.id, user_id))
            assert candidate is not None
            candidate.admission_no = number
        paper = load_paper(session, exam.paper_id)
        assert paper is not None
        slots = [slot.id for section in paper.sections for slot in section.slots]
        store_sheet(session, exam.id, exam.paper_id, slots, datetime.now(UTC))
        exam_id = exam.id
    engine.dispose()
    return exam_id


@pytest.mark.parametrize("lang", ["zh"])
def test_upload_scans_and_clear_the_queue_by_keyboard(server: Server, page: Any, lang: str, scan_exam: int,
                                                      tmp_path: Path) -> None:
    base = server.base_url
    files = []
    for name, number, answers in (("stranger.png", "1999", {"1": "B", "2": "AC", "3": "T"}),
                                  ("double.png", "1001", {"1": "AB", "2": "AC", "3": "T"})):
        truth = Truth(SheetCode(scan_exam, None, 1, 1), number, answers)
        path = tmp_path / name
        path.write_bytes(png_bytes(sheet_image(sheet_layout(), truth)))
        files.append(str(path))
    page.goto(f"{base}/login?lang={lang}")
    page.locator("#username").fill("teacher")
    page.locator("#password").fill("teacher-pass-1")
    page.locator("#login-button").click()
    page.wait_for_url(f"{base}/teacher**")
    page.goto(f"{base}/teacher/scans?exam={scan_exam}")
    expect(page.locator(f'#scan-exam option[value="{scan_exam}"]')).to_have_count(1)
    page.locator("#scan-files").set_input_files(files)
    page.locator("#scan-start").click()
    expect(page.locator("#scan-batch")).to_have_attribute("data-status", "done", timeout=60000)
    expect(page.locator("#scan-progress")).to_have_attribute("value", "2")
    expect(page.locator('#scan-pages tr[data-page-status="exception"]')).to_have_count(2)
    expect(page.locator("#queue-item")).to_be_visible()
    expect(page.locator("#queue-title")).to_contain_text("名单中无此考号")
    expect(page.locator("#queue-page")).to_have_attribute("src", re.compile("^data:image/png;base64,"))
    shot(page, "scans-queue-zh.png")
    page.keyboard.press("n")
    page.keyboard.type("1002")
    page.keyboard.press("Enter")
    expect(page.locator("#queue-title")).to_contain_text("单选题多涂")
    page.keyboard.press("f")
    page.keyboard.type("b")
    page.keyboard.press("Enter")
    expect(page.locator("#queue-status")).to_have_text("没有待处理的页面。")
    engine = create_engine(f"sqlite:///{server.log_path.parent}/e2e.db")
    with Session(engine) as session:
        statuses = session.scalars(select(ScanPage.status).where(ScanPage.exam_id == scan_exam)).all()
    engine.dispose()
    assert sorted(statuses) == ["resolved", "resolved"]
