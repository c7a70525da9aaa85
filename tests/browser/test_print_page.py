"""End to end in headless Chromium: exam-centre staff print admission tickets for a joint exam of
two schools (rooms and candidates written straight into the demo database, as the allocation
would), follow the progress bar and download a PDF with one page per candidate; no CSP violation."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from exam_server.services import accounts
from models import Exam, ExamDuty, ExamStaff, Role
from tests.browser_support import Server, require_browser, shot
from tests.print_fixture import seed_print_layout

pytestmark = pytest.mark.browser

expect = require_browser()

PAGE_VIEWPORT = (1280, 900)
CENTRE, CENTRE_PASSWORD = "centre1", "centre-pass-1"
RECORD_VIOLATIONS_JS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => { window.__cspViolations.push(e.violatedDirective); });
"""


@pytest.fixture(scope="module")
def joint_exam(server: Server) -> tuple[int, dict[int, list[tuple[int, str, str]]]]:
    engine = create_engine(f"sqlite:///{server.log_path.parent}/e2e.db")
    with Session(engine) as session, session.begin():
        exam = session.scalars(select(Exam).order_by(Exam.id)).first()
        assert exam is not None
        now = datetime.now(UTC)
        layout = seed_print_layout(session, exam.id, now, prefix="e2e", rooms=2, per_room=3, sites=1)
        user = accounts.create_user(session, CENTRE, CENTRE_PASSWORD, Role.CENTRE_STAFF, "考务 Centre", None, now)
        session.flush()
        session.add(ExamStaff(exam_id=exam.id, user_id=user.id, duty=ExamDuty.ORGANISER))
        exam_id = exam.id
    engine.dispose()
    return exam_id, layout.candidates


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_centre_staff_print_tickets_and_download_a_pdf(server: Server, page: Any, lang: str,
                                                      joint_exam: tuple[int, dict[int, Any]]) -> None:
    exam_id, candidates = joint_exam
    base = server.base_url
    page.context.add_init_script(RECORD_VIOLATIONS_JS)
    page.goto(f"{base}/login?lang={lang}")
    page.locator("#username").fill(CENTRE)
    page.locator("#password").fill(CENTRE_PASSWORD)
    page.locator("#login-button").click()
    page.wait_for_url(f"{base}/centre")
    page.get_by_role("link", name={"zh": "考务打印", "en": "Printing"}[lang]).click()
    page.wait_for_url(f"{base}/centre/print")
    expect(page.locator(f'#print-exam option[value="{exam_id}"]')).to_have_count(1)
    page.locator("#print-exam").select_option(str(exam_id))
    page.locator("#print-kind").select_option("tickets")
    page.locator("#print-group").select_option("room")
    page.locator("#print-start").click()
    expect(page.locator("#print-job")).to_have_attribute("data-status", "done", timeout=60000)
    expect(page.locator("#print-progress")).to_have_attribute("value", "2")
    buttons = page.locator("#print-files button")
    expect(buttons).to_have_count(3)  # two rooms and the zip
    shot(page, f"centre-print-{lang}.png")
    with page.expect_download() as info:
        buttons.first.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    first_room = next(iter(candidates.values()))
    assert len(reader.pages) == len(first_room) == 3
    text = "".join(p.extract_text() for p in reader.pages)
    assert all(name in text and admission in text for _, name, admission in first_room)
    assert page.evaluate("window.__cspViolations") == []
