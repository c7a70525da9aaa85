"""End to end in headless Chromium: the teacher who runs the demo exam opens its proctoring review,
sees the candidate with evidence first with the score explained, views a frame, confirms a flag with
a note and records a decision; the API then holds both and the audit trail shows them. No CSP
violation on the way. Screenshot: ``var/screenshots/proctor-review.png``."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from exam_server.db import session_scope
from exam_server.services import proctor_flags, proctor_timeline
from models import ProctorFrame, ProctorSession, User
from proctoring.rules import Observation
from tests.browser_support import Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()
PAGE_VIEWPORT = (1280, 1000)
RECORD_VIOLATIONS_JS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => { window.__cspViolations.push(e.violatedDirective); });
"""


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, "JPEG")
    return out.getvalue()


def _seed(server: Server) -> dict[str, Any]:
    """Two students start the demo exam; student1 left the tab for 2 minutes and copied once, with
    two frames on record; student2 has nothing. Written straight into the server's database."""
    base = server.base_url
    teacher = httpx.Client(base_url=base, timeout=30,
                           headers={"Authorization": f"Bearer {api_token(base, 'teacher', 'teacher-pass-1')}"})
    exam = teacher.get("/api/exams").json()[0]["id"]
    attempts = {}
    for who in ("student1", "student2"):
        token = api_token(base, who, "student-pass-1")
        r = httpx.post(f"{base}/api/exams/{exam}/attempt", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        attempts[who] = r.json()["attempt_id"]
    tmp = server.log_path.parent
    engine = create_engine(f"sqlite:///{tmp}/e2e.db")
    store = proctor_timeline.evidence_store(tmp / "data", None)
    now = datetime.now(UTC) - timedelta(minutes=10)
    sessions = {}
    with session_scope(sessionmaker(engine)) as session:
        for who, attempt in attempts.items():
            user = session.query(User).filter(User.username == who).one()
            ps = ProctorSession(attempt_id=attempt, exam_id=exam, user_id=user.id, state="active", identity="passed",
                                last_seen_at=now, created_at=now, updated_at=now)
            session.add(ps)
            session.flush()
            sessions[who] = ps.id
        ps = session.get(ProctorSession, sessions["student1"])
        assert ps is not None
        for i in range(2):
            session.add(ProctorFrame(session_id=ps.id, purpose="monitor", taken_at=now + timedelta(seconds=10 * i),
                                     storage_key=store.put(_jpeg()), size_bytes=600, analysis={"faces": 1},
                                     analysed_at=now))
        proctor_flags.observe(session, ps, [
            Observation("tab_hidden", now), Observation("tab_visible", now + timedelta(minutes=2)),
            Observation("copy", now + timedelta(minutes=3))], now + timedelta(minutes=3))
    engine.dispose()
    return {"exam": exam, "teacher": teacher, **sessions}


def test_teacher_confirms_a_flag_and_records_a_decision(server: Server, page: Any) -> None:
    base = server.base_url
    ids = _seed(server)
    page.context.add_init_script(RECORD_VIOLATIONS_JS)
    page.goto(f"{base}/login?lang=zh")
    page.get_by_label("用户名").fill("teacher")
    page.get_by_label("密码").fill("teacher-pass-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/teacher")
    page.goto(f"{base}/centre/proctoring/{ids['exam']}/review")

    rows = page.locator(".prv-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-session", str(ids["student1"]))  # the evidence comes first
    expect(rows.first.get_by_test_id("risk")).to_have_text("8.00")  # 2 min x 3 + 1 copy x 2
    expect(page.locator("#prv-settings")).to_be_visible()  # the teacher runs the exam

    rows.first.get_by_role("button").click()
    timeline = page.locator("#prv-timeline")
    expect(timeline).to_be_visible()
    explanation = page.get_by_test_id("score-explanation")
    expect(explanation.locator('tr[data-rule="tab_hidden"]')).to_contain_text("2.0 分钟")
    expect(explanation.locator('tr[data-rule="copy_paste"]')).to_contain_text("1 次")
    first_frame = timeline.locator("img[data-frame]").first
    expect(first_frame).to_have_attribute("src", re.compile("^data:image/jpeg;base64,"))

    flag = timeline.locator('.prv-flag:has-text("离开考试页面")')
    flag.get_by_label("备注").fill("切到计算器 switched to the calculator")
    flag.get_by_role("button", name="确认").click()
    expect(timeline.locator('.prv-flag[data-status="confirmed"]')).to_have_count(1)

    page.locator("#prv-decision").select_option("warning")
    page.locator("#prv-decision-note").fill("已提醒 reminded")
    page.get_by_role("button", name="记录结论").click()
    expect(page.locator("#prv-current-decision")).to_contain_text("警告")
    expect(timeline.locator('li[data-action="confirm"]')).to_contain_text("切到计算器")
    expect(timeline.locator('li[data-action="decide"]')).to_contain_text("已提醒")
    expect(rows.first).to_contain_text("警告")
    shot(page, "proctor-review.png")
    assert page.evaluate("window.__cspViolations") == []

    data = ids["teacher"].get(f"/api/proctoring/sessions/{ids['student1']}/timeline").json()
    assert data["session"]["decision"] == "warning" and data["session"]["decision_note"] == "已提醒 reminded"
    confirmed = [f for f in data["flags"] if f["status"] == "confirmed"]
    assert [f["rule"] for f in confirmed] == ["tab_hidden"]
    assert confirmed[0]["review_note"] == "切到计算器 switched to the calculator"
