"""End to end in headless Chromium: a candidate types an essay answer in the demo exam and submits;
the teacher sets up single marking with the reviewer as marker and releases the results at once;
the candidate's result page shows the essay as being marked and the score so far as provisional;
the reviewer marks the answer on the marking page by keyboard alone (a letter is refused, digits,
Enter) with the question's progress shown; the candidate's result page then shows the final total."""

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


def _sign_in(page: Any, base: str, username: str, password: str, landing: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url(f"{base}{landing}*")


def test_mark_a_typed_essay_through_to_the_released_result(server: Server, page: Any) -> None:
    base = server.base_url
    student = api_token(base, "student1", PASSWORDS["student"])
    teacher = api_token(base, "teacher", PASSWORDS["teacher"])
    exam_id = _call(base, teacher, "GET", "/api/exams")[0]["id"]
    attempt = _call(base, student, "POST", f"/api/exams/{exam_id}/attempt")
    slots = [s for section in attempt["paper"]["sections"] for s in section["slots"]]
    essay = next(s for s in slots if s["type"] == "short_answer")
    _call(base, student, "PUT", f"/api/attempts/{attempt['attempt_id']}/answers/{essay['slot_id']}",
          {"response": "光合作用把光能转化为化学能 ESSAY-TEXT", "client_seq": 1})
    _call(base, student, "POST", f"/api/attempts/{attempt['attempt_id']}/submit")
    reviewer_id = _call(base, api_token(base, "reviewer", PASSWORDS["reviewer"]), "GET", "/api/auth/me")["id"]
    _call(base, teacher, "POST", f"/api/exams/{exam_id}/staff", {"user_id": reviewer_id, "duty": "marker"})
    _call(base, teacher, "POST", f"/api/exams/{exam_id}/marking/units", {"mode": "single"})
    _call(base, teacher, "POST", f"/api/exams/{exam_id}/release")  # released before the essay is marked

    essay_row = page.locator(f"#result-rows tr[data-slot='{essay['slot_id']}']")
    _sign_in(page, base, "student1", PASSWORDS["student"], "/student")
    expect(page.locator(f"a[href='/student/result/{attempt['attempt_id']}']")).to_be_visible()
    page.goto(f"{base}/student/result/{attempt['attempt_id']}")
    expect(essay_row).to_have_attribute("data-status", "being_marked")
    expect(essay_row).to_contain_text("阅卷中")
    expect(page.locator("#result-total")).to_have_attribute("data-provisional", "true")
    expect(page.locator("#result-total")).to_contain_text("暂定")
    expect(page.locator("#result-pending")).to_be_visible()
    shot(page, "result-being-marked.png")

    _sign_in(page, base, "reviewer", PASSWORDS["reviewer"], "/teacher")
    page.goto(f"{base}/teacher/marking?exam={exam_id}")
    expect(page.locator("#marking-unit option")).to_have_count(1)
    expect(page.locator("#marking-unit-progress")).to_contain_text("0 / 1")
    page.click("#marking-start")
    expect(page.locator("#marking-answer")).to_contain_text("ESSAY-TEXT")
    expect(page.locator("#marking-reference")).to_contain_text("光能")
    expect(page.locator("#marking-score")).to_be_focused()
    expect(page.locator("#marking-crops figure")).to_have_count(0)  # a typed answer: no scanned crops
    shot(page, "marking-page.png")
    page.keyboard.press("p")  # P opens the problem panel, even from the score field; Esc closes it
    expect(page.locator("#marking-problem")).to_be_visible()
    expect(page.locator("#marking-problem-kind")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#marking-problem")).to_be_hidden()
    expect(page.locator("#marking-score")).to_be_focused()
    page.keyboard.type("x7")  # a letter is refused in the score field
    expect(page.locator("#marking-score")).to_have_value("7")
    page.keyboard.press("Enter")
    expect(page.locator("#marking-progress")).to_have_text("暂无待评答卷")
    expect(page.locator("#marking-task")).to_be_hidden()
    expect(page.locator("#marking-audit-table")).to_be_hidden()  # the lead's audit shows only when asked
    expect(page.locator("#marking-unit-progress")).to_contain_text("1 / 1")

    _sign_in(page, base, "student1", PASSWORDS["student"], "/student")
    page.goto(f"{base}/student/result/{attempt['attempt_id']}")
    expect(essay_row).to_have_attribute("data-status", "final")
    expect(essay_row.locator("td").last).to_have_text("7")
    expect(page.locator("#result-total")).to_have_attribute("data-provisional", "false")
    expect(page.locator("#result-total")).to_contain_text("总分")
    expect(page.locator("#result-pending")).to_be_hidden()
    result = _call(base, student, "GET", f"/api/attempts/{attempt['attempt_id']}/result")
    assert result["state"] == "graded" and not result["needs_manual_grading"]
    marked = next(s for s in result["slots"] if s["slot_id"] == essay["slot_id"])
    assert marked["fraction"] == 0.7 and marked["grading_state"] == "graded"
