"""The exam page under faults, in headless Chromium against a real server:

- a save the server refuses for good (a real 422: an answer holding a lone UTF-16 surrogate,
  which JavaScript strings allow) is not retried, and the candidate is told, in their language,
  which question was refused and why; changing the answer saves it again;
- a transient failure (a 503 with Retry-After from a proxy, then a dropped connection) is retried,
  not before Retry-After, until the answer is stored;
- a save after the attempt was closed elsewhere (a real 409 AttemptClosed) stops editing.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
import pytest

from tests.browser_support import Server, api_token, require_browser

pytestmark = pytest.mark.browser

expect = require_browser()

PASSWORD = "student-pass-1"
# Chromium logs every non-2xx answer and every dropped request; these are provoked on purpose.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: (the server responded with a status of (409|422|503)"
                              r"|net::ERR_FAILED)")
LONE_SURROGATE_JS = """(node) => {
  node.value = "half of a pair: \\uD83D";
  node.dispatchEvent(new Event("input", { bubbles: true }));
}"""


def open_exam(pg: Any, base: str, student: str, lang: str) -> None:
    pg.goto(f"{base}/login?lang={lang}")
    pg.locator("#username").fill(student)
    pg.locator("#password").fill(PASSWORD)
    pg.locator("form button[type=submit]").click()
    pg.wait_for_url(f"{base}/student")
    pg.locator("a[data-exam-id]").first.click()
    pg.wait_for_url(f"{base}/exam/*")
    expect(pg.locator("#exam-root")).to_have_attribute("data-ready", "true")


def item(pg: Any, item_type: str) -> Any:
    return pg.locator(f"fieldset.item-{item_type}").first


def state(pg: Any, slot: str) -> Any:
    return pg.locator(f'.save-state[data-slot-id="{slot}"]')


def count_saves(pg: Any, slot: str) -> list[float]:
    """Times at which the page sent a save for this slot (the list fills as the page works)."""
    seen: list[float] = []
    pg.on("request", lambda req: seen.append(time.monotonic())
          if req.method == "PUT" and req.url.endswith(f"/answers/{slot}") else None)
    return seen


@pytest.mark.parametrize(("student", "lang", "says"), [
    ("student2", "zh", r"第 \d+ 题未保存：服务器不接受这个答案。修改答案后会重新保存。"),
    ("student3", "en", r"Question \d+ was not saved: the server does not accept this answer as it is\. "
                       r"Change the answer to try again\."),
])
def test_a_refused_save_is_not_retried_and_the_candidate_is_told_why(
    server: Server, page: Any, student: str, lang: str, says: str
) -> None:
    open_exam(page, server.base_url, student, lang)
    box = item(page, "short_answer")
    slot = box.get_attribute("data-slot-id")
    saves = count_saves(page, slot)
    box.locator("textarea").evaluate(LONE_SURROGATE_JS)
    expect(state(page, slot)).to_have_attribute("data-state", "rejected")
    refusal = box.locator(".save-refused")
    expect(refusal).to_be_visible()
    expect(refusal).to_have_text(re.compile(says))
    expect(refusal).to_have_attribute("data-status", "422")
    number = box.locator(".q-number").inner_text()
    assert re.search(r"\d+", number) and re.search(r"\d+", number).group() in refusal.inner_text()  # type: ignore[union-attr]
    summary = page.locator("#save-problems")
    expect(summary).to_be_visible()
    expect(summary.locator(f'a[data-slot-id="{slot}"]')).to_have_attribute("href", f"#item-{slot}")
    page.wait_for_timeout(4000)  # a transient failure would have been retried twice by now
    assert len(saves) == 1, saves

    box.locator("textarea").fill("光合作用把光能转化为化学能。")
    expect(state(page, slot)).to_have_attribute("data-state", "saved")
    expect(refusal).to_be_hidden()
    expect(summary).to_be_hidden()
    assert len(saves) == 2


def test_transient_failures_are_retried_honouring_retry_after(server: Server, page: Any) -> None:
    open_exam(page, server.base_url, "student4", "zh")
    box = item(page, "numeric")
    slot = box.get_attribute("data-slot-id")
    answered: list[tuple[float, str]] = []
    lock = threading.Lock()

    def flaky(route: Any) -> None:
        with lock:
            n = len(answered)
            answered.append((time.monotonic(), ["503", "drop", "pass"][min(n, 2)]))
        if n == 0:  # a proxy in front of an overloaded server
            route.fulfill(status=503, headers={"Retry-After": "2", "Content-Type": "application/json"},
                          body='{"error": "Unavailable", "detail": "try again"}')
        elif n == 1:
            route.abort("failed")  # the connection drops
        else:
            route.continue_()

    page.route(f"**/api/attempts/*/answers/{slot}", flaky)
    box.locator("input").fill("56")
    expect(state(page, slot)).to_have_attribute("data-state", "retrying")
    expect(state(page, slot)).to_have_attribute("data-state", "saved", timeout=20_000)
    assert [kind for _, kind in answered] == ["503", "drop", "pass"]
    assert answered[1][0] - answered[0][0] >= 1.9  # not before the server's Retry-After (2 s)
    expect(box.locator(".save-refused")).to_be_hidden()
    token = api_token(server.base_url, "student4", PASSWORD)
    attempt_id = page.locator("#exam-root").get_attribute("data-attempt-id")
    saved = httpx.get(f"{server.base_url}/api/attempts/{attempt_id}", headers={"Authorization": f"Bearer {token}"})
    assert {a["slot_id"]: a["response"] for a in saved.json()["answers"]}[int(slot)] == 56


def test_a_save_after_the_attempt_closed_elsewhere_stops_editing(server: Server, page: Any) -> None:
    open_exam(page, server.base_url, "student5", "zh")
    box = item(page, "numeric")
    slot = box.get_attribute("data-slot-id")
    saves = count_saves(page, slot)
    attempt_id = page.locator("#exam-root").get_attribute("data-attempt-id")
    token = api_token(server.base_url, "student5", PASSWORD)
    closed = httpx.post(f"{server.base_url}/api/attempts/{attempt_id}/submit",
                        headers={"Authorization": f"Bearer {token}"})  # e.g. from another device
    assert closed.status_code == 200, closed.text
    box.locator("input").fill("56")
    notice = page.locator("#notice")
    expect(notice).to_have_attribute("data-kind", "closed")
    expect(box.locator("input")).to_be_disabled()
    page.wait_for_timeout(3000)
    assert len(saves) == 1, saves
