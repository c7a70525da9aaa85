"""End to end in headless Chromium: the exam centre sets up a joint exam of two schools (two
classes, a site with two rooms), allocates seats, publishes admission numbers and shows the seat
plan; marks a candidate absent; the demo teacher then sees their class's seats read-only. No CSP
violation on the way. Screenshots go to ``var/screenshots/``."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.browser_support import Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()
PAGE_VIEWPORT = (1280, 1000)
CENTRE, PASSWORD = "kaowu", "centre-pass-1"
RECORD_VIOLATIONS_JS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => { window.__cspViolations.push(e.violatedDirective); });
"""


def _setup(base: str) -> dict[str, Any]:
    """Admin (over the API): a centre staff account, a second school with a class of five."""
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_token(base, 'admin', 'admin-pass-1')}"},
                         timeout=30)
    demo_exam = admin.get("/api/exams").json()[0]
    admin.post("/api/users", json={"username": CENTRE, "password": PASSWORD, "display_name": "赵考务",
                                   "role": "centre_staff"}).raise_for_status()
    school = admin.post("/api/schools", json={"name": "第二中学 No.2"}).json()["id"]
    klass = admin.post(f"/api/schools/{school}/classes", json={"name": "高一(9)班"}).json()["id"]
    admin.post(f"/api/classes/{klass}/students", json=[
        {"username": f"n2s{i}", "password": "student-pass-1", "display_name": f"二中学生{i}"}
        for i in range(1, 6)]).raise_for_status()
    return {"paper": demo_exam["paper_id"], "classes": f"{demo_exam['class_id']}, {klass}"}


def _local(delta: timedelta) -> str:
    return (datetime.now() + delta).strftime("%Y-%m-%dT%H:%M")


def test_centre_sets_up_allocates_publishes_and_shows_the_seat_plan(server: Server, page: Any) -> None:
    base = server.base_url
    ids = _setup(base)
    page.context.add_init_script(RECORD_VIOLATIONS_JS)
    page.goto(f"{base}/login?lang=zh")
    page.get_by_label("用户名").fill(CENTRE)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/centre")  # centre staff land on the exam centre, which links to printing

    page.get_by_label("考点名称").fill("一中考点")
    page.get_by_label("考点代码").fill("01")
    page.get_by_role("button", name="添加考点").click()
    expect(page.locator("#room-site option")).to_have_count(1)
    for code in ("R1", "R2"):
        page.get_by_label("考场代码").fill(code)
        page.get_by_label("行数").fill("2")
        page.get_by_label("列数").fill("3")
        page.get_by_role("button", name="添加考场").click()
        expect(page.locator(f'#site-list tr[data-room="{code}"]')).to_be_visible()

    form = page.locator("#joint-form")
    form.get_by_label("考试", exact=True).fill("期末联考 Joint final")
    form.get_by_label("试卷编号").fill(str(ids["paper"]))
    form.get_by_label("开始时间").fill(_local(timedelta(minutes=-10)))
    form.get_by_label("结束时间").fill(_local(timedelta(hours=3)))
    form.get_by_label("班级编号").fill(ids["classes"])
    page.get_by_role("button", name="创建联考").click()
    panel = page.locator("#exam-panel")
    expect(panel.locator('[data-fact="candidates"]')).to_contain_text("10")

    sitting = page.locator("#sitting-form")
    sitting.get_by_label("场次名称").fill("上午场")
    sitting.get_by_label("开始时间").fill(_local(timedelta(minutes=-10)))
    sitting.get_by_label("结束时间").fill(_local(timedelta(hours=3)))
    page.get_by_role("button", name="添加场次").click()
    expect(page.locator("#exam-room-sitting option")).to_have_count(1)
    for index in (0, 1):
        page.locator("#exam-room-room").select_option(index=index)
        page.get_by_role("button", name="使用考场").click()
        expect(page.locator("#plan-room option")).to_have_count(index + 1)
    page.get_by_label("准考证号规则").fill("{year}{site}{room:02}{seat:02}")
    page.get_by_label("排座种子").fill("5")
    page.get_by_role("button", name="保存设置").click()
    expect(panel.locator("dd").nth(1)).to_have_text("{year}{site}{room:02}{seat:02}")

    page.get_by_role("button", name="自动排座").click()
    expect(page.locator("#allocation-report")).to_contain_text("同班相邻 0 对")
    page.get_by_role("button", name="发布准考证号").click()
    expect(panel.locator('[data-fact="published"]')).not_to_have_text("未发布")
    expect(page.get_by_role("button", name="自动排座")).to_be_disabled()

    grid = page.locator("#seat-plan")
    expect(grid.locator(".seat")).to_have_count(6)
    expect(grid.locator(".admission-no")).to_have_count(5)
    number = grid.locator(".admission-no").first.text_content() or ""
    assert re.fullmatch(r"\d{4}01010\d", number), number
    row = page.locator("#candidate-table tr[data-user]").first
    row.get_by_role("button", name="标记缺考").click()
    expect(page.locator("#candidate-table tr[data-user]").first.get_by_role("button", name="取消缺考")).to_be_visible()
    shot(page, "centre-seat-plan.png")
    assert page.evaluate("window.__cspViolations") == []

    # Print the admission tickets of this joint exam and check the first room's PDF.
    page.get_by_role("link", name="考务打印").click()
    page.wait_for_url(f"{base}/centre/print")
    choice = page.locator("#print-exam option", has_text="期末联考")
    expect(choice).to_have_count(1)
    page.locator("#print-exam").select_option(str(choice.get_attribute("value")))
    page.locator("#print-kind").select_option("tickets")
    page.locator("#print-group").select_option("room")
    page.locator("#print-start").click()
    expect(page.locator("#print-job")).to_have_attribute("data-status", "done", timeout=60000)
    with page.expect_download() as info:
        page.locator("#print-files button").first.click()
    pdf = PdfReader(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert len(pdf.pages) >= 1 and number in "".join(p.extract_text() for p in pdf.pages)
    assert page.evaluate("window.__cspViolations") == []
    page.get_by_role("link", name="考务中心").click()
    page.wait_for_url(f"{base}/centre")

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{base}/login")
    page.get_by_label("用户名").fill("teacher")
    page.get_by_label("密码").fill("teacher-pass-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/teacher")
    page.goto(f"{base}/teacher/exams?lang=zh")
    card = page.locator("#teacher-joint-list li").first
    expect(card).to_contain_text("期末联考")
    card.get_by_role("button", name="查看考生座位").click()
    expect(card.locator("tbody tr")).to_have_count(5)
    expect(card.locator("tbody")).not_to_contain_text("二中学生")
    shot(page, "teacher-joint-seats.png")
    assert page.evaluate("window.__cspViolations") == []
