"""End to end in headless Chromium: a student signs in, answers, reloads, and submits.

Runs a real server (``exam demo --no-serve`` then ``exam serve``) on a fresh SQLite database.
Screenshots of every stage go to ``var/screenshots/``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser_support import TIMEOUT_MS, Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()

STUDENT, PASSWORD = "student1", "student-pass-1"
SHORT_ANSWER = "把光能转化为化学能，并释放氧气。Light becomes chemical energy."
EXPIRE_ACCESS_TOKEN_JS = """() => {
  const auth = JSON.parse(sessionStorage.getItem('exam.auth'));
  auth.expiresAt = Date.now();
  sessionStorage.setItem('exam.auth', JSON.stringify(auth));
  return auth.refresh;
}"""


def item(pg: Any, item_type: str) -> Any:
    return pg.locator(f"fieldset.item-{item_type}").first


def slot_id(pg: Any, item_type: str) -> int:
    return int(item(pg, item_type).get_attribute("data-slot-id"))


def wait_saved(pg: Any, slot: int) -> None:
    expect(pg.locator(f'.save-state[data-slot-id="{slot}"]')).to_have_attribute("data-state", "saved")


def wait_ready(pg: Any) -> None:
    expect(pg.locator("#exam-root")).to_have_attribute("data-ready", "true")


def log_in(pg: Any, base_url: str) -> None:
    pg.goto(f"{base_url}/login?lang=zh")
    expect(pg.locator("h1")).to_have_text("登录")
    shot(pg, "login.png")
    pg.get_by_label("用户名").fill(STUDENT)
    pg.get_by_label("密码").fill(PASSWORD)
    pg.get_by_role("button", name="登录").click()
    pg.wait_for_url(f"{base_url}/student")


def answer_everything(pg: Any) -> dict[str, int]:
    types = ("single_choice", "multiple_choice", "fill_blank", "numeric", "short_answer")
    slots = {t: slot_id(pg, t) for t in types}
    item(pg, "single_choice").get_by_label("B. 抛物线 a parabola").check()
    item(pg, "multiple_choice").get_by_label("A. 2", exact=True).check()
    item(pg, "multiple_choice").get_by_label("C. 11", exact=True).check()
    item(pg, "fill_blank").locator("input").first.fill("北京")
    item(pg, "numeric").locator("input").fill("56")
    item(pg, "short_answer").locator("textarea").fill(SHORT_ANSWER)
    for slot in slots.values():
        wait_saved(pg, slot)
    return slots


def assert_restored(pg: Any) -> None:
    expect(item(pg, "single_choice").get_by_label("B. 抛物线 a parabola")).to_be_checked()
    expect(item(pg, "multiple_choice").get_by_label("A. 2", exact=True)).to_be_checked()
    expect(item(pg, "multiple_choice").get_by_label("B. 9", exact=True)).not_to_be_checked()
    expect(item(pg, "multiple_choice").get_by_label("C. 11", exact=True)).to_be_checked()
    expect(item(pg, "fill_blank").locator("input").first).to_have_value("北京")
    expect(item(pg, "numeric").locator("input")).to_have_value("56")
    expect(item(pg, "short_answer").locator("textarea")).to_have_value(SHORT_ANSWER)


def saved_responses(base_url: str, token: str, attempt_id: int) -> dict[int, Any]:
    resp = httpx.get(f"{base_url}/api/attempts/{attempt_id}", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    resp.raise_for_status()
    return {a["slot_id"]: a["response"] for a in resp.json()["answers"]}


def attempt_state(base_url: str, token: str, attempt_id: int) -> str:
    resp = httpx.get(f"{base_url}/api/attempts/{attempt_id}", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    resp.raise_for_status()
    return str(resp.json()["state"])


def test_student_answers_reloads_and_submits(server: Server, page: Any) -> None:
    base = server.base_url
    log_in(page, base)
    expect(page.locator("h1")).to_have_text("我的考试")
    expect(page.locator("a[data-exam-id]").first).to_be_visible()
    shot(page, "student.png")
    page.locator("a[data-exam-id]").first.click()
    page.wait_for_url(f"{base}/exam/*")
    wait_ready(page)

    slots = answer_everything(page)
    deadline = page.locator("#deadline")
    deadline_iso, deadline_text = deadline.get_attribute("data-deadline"), deadline.inner_text()
    assert deadline_iso and deadline_text
    shot(page, "exam-answered.png")

    page.reload()
    wait_ready(page)
    assert_restored(page)
    for slot in slots.values():
        wait_saved(page, slot)
    assert deadline.get_attribute("data-deadline") == deadline_iso
    expect(deadline).to_have_text(deadline_text)
    shot(page, "exam-reloaded.png")

    attempt_id = int(page.locator("#exam-root").get_attribute("data-attempt-id"))
    token = api_token(base, STUDENT, PASSWORD)
    saved = saved_responses(base, token, attempt_id)
    assert saved[slots["single_choice"]] == "B"
    assert sorted(saved[slots["multiple_choice"]]) == ["A", "C"]
    assert saved[slots["fill_blank"]] == ["北京"]
    assert saved[slots["numeric"]] == 56
    assert saved[slots["short_answer"]] == SHORT_ANSWER

    page.get_by_role("button", name="交卷").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("已作答 5 / 6 题")
    dialog.get_by_role("button", name="确认交卷").click()
    expect(page.locator("#submitted-view")).to_be_visible()
    expect(page.locator("#submitted-view h2")).to_have_text("已交卷")
    shot(page, "submitted.png")
    assert attempt_state(base, token, attempt_id) in {"submitted", "graded"}

    page.goto(f"{base}/student")
    expect(page.locator("[data-attempt-state]").first).to_have_text("已交卷")
    expect(page.locator("a[data-exam-id]")).to_have_count(0)


def test_login_page_in_english(server: Server, page: Any) -> None:
    page.goto(f"{server.base_url}/login?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("lang-switch")).to_have_text("中文")
    shot(page, "login-en.png")
    page.goto(f"{server.base_url}/login")  # the cookie keeps the choice
    expect(page.locator("h1")).to_have_text("Sign in")


def test_exam_page_in_english_on_a_phone(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        pg = context.new_page()
        pg.goto(f"{server.base_url}/login?lang=en")
        pg.get_by_label("Username").fill("student2")
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(f"{server.base_url}/student")
        expect(pg.locator("h1")).to_have_text("My exams")
        pg.get_by_role("link", name="Start").first.click()
        wait_ready(pg)
        expect(pg.locator("#timer-label")).to_have_text("Time left")
        expect(pg.locator("fieldset.item legend").first).to_contain_text("Question 1")
        # An access token about to expire is refreshed before the save goes out (refresh tokens rotate).
        old_refresh = pg.evaluate(EXPIRE_ACCESS_TOKEN_JS)
        item(pg, "true_false").get_by_label("True").check()
        wait_saved(pg, slot_id(pg, "true_false"))
        expect(pg.locator(f'.save-state[data-slot-id="{slot_id(pg, "true_false")}"]')).to_have_text("Saved")
        new_refresh = pg.evaluate("JSON.parse(sessionStorage.getItem('exam.auth')).refresh")
        assert new_refresh != old_refresh
        shot(pg, "exam-en-mobile.png")
    finally:
        context.close()


@pytest.mark.parametrize(("header", "expected"), [("en-US,en;q=0.9", "Sign in"), ("fr,zh-CN;q=0.5", "登录"),
                                                  ("", "登录"), ("zh;q=0.2, en;q=0.8", "Sign in")])
def test_language_from_accept_language(server: Server, header: str, expected: str) -> None:
    resp = httpx.get(f"{server.base_url}/login", headers={"Accept-Language": header}, timeout=10)
    assert resp.status_code == 200
    assert f"<h1 id=\"login-heading\">{expected}</h1>" in resp.text


def test_root_redirects_to_login(server: Server) -> None:
    resp = httpx.get(f"{server.base_url}/", timeout=10)
    assert resp.status_code in {302, 303, 307}
    assert resp.headers["location"] == "/login"
