"""The exam page's proctoring client (static/proctor_client.js) in Chromium against the real server:
it connects for a proctored exam, records consent, sends browser events that are stored once each,
and after a reload resumes its seq without storing anything twice."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from models import Exam, ProctorEvent, ProctorSession, ProctorSettings
from tests.browser_support import Server, require_browser, shot

expect = require_browser()
STUDENT, PASSWORD = "student1", "student-pass-1"


def _database(server: Server) -> Any:
    return create_engine(f"sqlite:///{server.log_path.parent / 'e2e.db'}")


def _proctor_every_exam(server: Server) -> None:
    engine = _database(server)
    with Session(engine) as session, session.begin():
        for exam_id in session.scalars(select(Exam.id)):
            session.add(ProctorSettings(exam_id=exam_id, enabled=True, require_identity=False, weights={},
                                        retention_days=30, updated_by=None, updated_at=datetime.now(UTC)))
    engine.dispose()


def _client_events(server: Server) -> list[tuple[int, str]]:
    engine = _database(server)
    with Session(engine) as session:
        rows = session.execute(select(ProctorEvent.seq, ProctorEvent.kind).where(ProctorEvent.seq > 0)
                               .order_by(ProctorEvent.id)).all()
    engine.dispose()
    return [(seq, kind) for seq, kind in rows]


def _wait(check: Any, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)  # polling the database for the server's write
    return check()


def test_the_exam_page_reports_browser_events_and_resumes_after_reload(server: Server, page: Any) -> None:
    base = server.base_url
    _proctor_every_exam(server)
    page.goto(f"{base}/login?lang=zh")
    page.get_by_label("用户名").fill(STUDENT)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/student")
    page.locator("a[data-exam-id]").first.click()
    page.wait_for_url(f"{base}/exam/*")
    root = page.locator("#exam-root")
    expect(root).to_have_attribute("data-ready", "true")
    expect(root).to_have_attribute("data-proctor-state", "consent_pending")
    assert page.evaluate("window.examProctor.consent(true)") is True
    expect(root).to_have_attribute("data-proctor-state", "active")
    page.evaluate("window.dispatchEvent(new Event('blur')); window.dispatchEvent(new Event('focus'));"
                  "document.dispatchEvent(new Event('copy'))")
    # Chromium has window.screen.isExtended: the screen count is reported once, at the first hello.
    expected = [(1, "screen_count"), (2, "window_blur"), (3, "window_focus"), (4, "copy")]
    assert _wait(lambda: [e for e in _client_events(server) if e[1] != "heartbeat"] == expected), _client_events(server)
    shot(page, "exam-proctored.png")

    page.reload()
    expect(root).to_have_attribute("data-proctor-state", "active")  # hello after the reload: consent kept
    page.evaluate("document.dispatchEvent(new Event('paste'))")
    assert _wait(lambda: any(kind == "paste" for _, kind in _client_events(server)))
    stored = _client_events(server)
    seqs = [seq for seq, _ in stored]
    assert seqs == sorted(set(seqs)), stored  # each seq once, in order, across the reload
    kinds = [kind for _, kind in stored if kind != "heartbeat"]
    assert kinds[:4] == ["screen_count", "window_blur", "window_focus", "copy"] and kinds[-1] == "paste"
    # The reload itself hides the page (kept in sessionStorage and sent after it if the socket was
    # closing) and the new page reports its screen count again.
    assert set(kinds[4:-1]) <= {"tab_hidden", "tab_visible", "screen_count"}, kinds
    engine = _database(server)
    with Session(engine) as session:
        assert session.scalars(select(ProctorSession.state)).one() == "active"
    engine.dispose()
