"""End to end in headless Chromium: a candidate's essay is marked (single marking) by the reviewer
through the API; the teacher, who manages the exam and so leads its marking, opens the marker
quality page, sees the reviewer's figures, and sends the reviewer's last script back (confirming
the dialog): the mark is voided and the script waits for another marker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from exam_server.demo import PASSWORDS
from tests.browser_support import Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    resp = httpx.request(method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
    assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
    return resp.json()


def _marked_essay(base: str) -> tuple[int, int, str]:
    student = api_token(base, "student1", PASSWORDS["student"])
    teacher = api_token(base, "teacher", PASSWORDS["teacher"])
    reviewer = api_token(base, "reviewer", PASSWORDS["reviewer"])
    exam_id = _call(base, teacher, "GET", "/api/exams")[0]["id"]
    attempt = _call(base, student, "POST", f"/api/exams/{exam_id}/attempt")
    slots = [s for section in attempt["paper"]["sections"] for s in section["slots"]]
    essay = next(s for s in slots if s["type"] == "short_answer")
    _call(base, student, "PUT", f"/api/attempts/{attempt['attempt_id']}/answers/{essay['slot_id']}",
          {"response": "光合作用 QUALITY-TEXT", "client_seq": 1})
    _call(base, student, "POST", f"/api/attempts/{attempt['attempt_id']}/submit")
    reviewer_id = _call(base, reviewer, "GET", "/api/auth/me")["id"]
    unit_id = _call(base, teacher, "POST", f"/api/exams/{exam_id}/marking/units", {"mode": "single"})[0]["id"]
    _call(base, teacher, "POST", f"/api/marking/units/{unit_id}/markers", {"user_id": reviewer_id, "quota": 10})
    token = _call(base, reviewer, "POST", f"/api/marking/units/{unit_id}/batch", {"n": 1})["tasks"][0]["token"]
    _call(base, reviewer, "POST", f"/api/marking/tasks/{token}/mark", {"score": 4, "seconds": 30})
    return exam_id, unit_id, teacher


def test_quality_page_shows_figures_and_sends_back(server: Server, page: Any) -> None:
    base = server.base_url
    exam_id, unit_id, teacher = _marked_essay(base)
    assert _call(base, teacher, "GET", f"/api/exams/{exam_id}/marking")[0]["by_state"]["done"] == 1

    page.goto(f"{base}/login")
    page.fill("#username", "teacher")
    page.fill("#password", PASSWORDS["teacher"])
    page.press("#password", "Enter")
    page.wait_for_url(f"{base}/teacher*")
    page.goto(f"{base}/teacher/marking-quality?exam={exam_id}&unit={unit_id}")
    row = page.locator("#mq-rows tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("1")  # marked
    expect(cells.nth(2)).to_have_text("30")  # median seconds
    expect(cells.nth(3)).to_have_text("120")  # scripts an hour
    expect(cells.nth(4)).to_have_text("4 ± 0")
    shot(page, "marking-quality-page.png")

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator(".mq-n").fill("1")
    row.locator(".mq-send-back").click()
    expect(page.locator("#mq-status")).to_have_text("已退回 1 份答卷（作废 1 个评分）")
    expect(page.locator("#mq-rows tr td").nth(1)).to_have_text("0")
    progress = _call(base, teacher, "GET", f"/api/exams/{exam_id}/marking")[0]
    assert progress["by_state"]["waiting_first"] == 1 and progress["by_state"]["done"] == 0
