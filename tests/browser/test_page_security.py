"""Every page under the Content-Security-Policy, in headless Chromium against a real server:
student, exam, login, each teacher page and /docs load and work with zero policy violations
(collected from ``securitypolicyviolation`` events and from console errors, which the ``page``
fixture turns into failures), and no page can be framed."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser_support import Server, require_browser

pytestmark = pytest.mark.browser

expect = require_browser()

PAGE_VIEWPORT = (1280, 900)
# Provoked on purpose by the last two tests; any other violation still fails through the
# securitypolicyviolation listener.
EXPECTED_CONSOLE = re.compile(r"^Framing '[^']*' violates the following Content Security Policy directive: "
                              r"\"frame-ancestors 'none'\"|inline script")
RECORD_VIOLATIONS_JS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile);
});
"""
TEACHER_PAGES = ("/teacher", "/teacher/bank", "/teacher/import", "/teacher/assemble", "/teacher/exams",
                 "/teacher/marking-quality")
ADMIN_PAGES = ("/admin", "/admin/org", "/admin/users", "/password")


def violations(pg: Any) -> list[str]:
    return list(pg.evaluate("window.__cspViolations"))


def visit(pg: Any, url: str, ready: str) -> None:
    response = pg.goto(url)
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    expect(pg.locator(ready).first).to_be_visible()
    pg.wait_for_load_state("networkidle")
    assert violations(pg) == [], url


def log_in(pg: Any, base: str, username: str, password: str, lands_on: str) -> None:
    visit(pg, f"{base}/login?lang=zh", "#login-button")
    pg.locator("#username").fill(username)
    pg.locator("#password").fill(password)
    pg.locator("#login-button").click()
    pg.wait_for_url(f"{base}{lands_on}")


@pytest.fixture()
def watched(page: Any) -> Any:
    page.context.add_init_script(RECORD_VIOLATIONS_JS)
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_student_login_and_exam_pages_run_without_violations(server: Server, watched: Any, lang: str) -> None:
    base = server.base_url
    log_in(watched, base, "student1", "student-pass-1", "/student")
    visit(watched, f"{base}/student?lang={lang}", "a[data-exam-id]")
    watched.locator("a[data-exam-id]").first.click()
    watched.wait_for_url(f"{base}/exam/*")
    expect(watched.locator("#exam-root")).to_have_attribute("data-ready", "true")
    watched.locator("fieldset.item-numeric input").first.fill("56")
    slot = watched.locator("fieldset.item-numeric").first.get_attribute("data-slot-id")
    expect(watched.locator(f'.save-state[data-slot-id="{slot}"]')).to_have_attribute("data-state", "saved")
    watched.wait_for_load_state("networkidle")
    assert violations(watched) == []


def test_teacher_pages_run_without_violations(server: Server, watched: Any) -> None:
    base = server.base_url
    log_in(watched, base, "teacher", "teacher-pass-1", "/teacher")
    for path in TEACHER_PAGES:
        visit(watched, f"{base}{path}", "main h1")
    visit(watched, f"{base}/teacher/bank", "#search-form")
    watched.locator("#search-form button[type=submit]").click()  # a search renders the item table
    watched.locator("#new-item").click()  # and the editor opens
    watched.wait_for_load_state("networkidle")
    assert violations(watched) == []


def test_admin_pages_run_without_violations(server: Server, watched: Any) -> None:
    base = server.base_url
    log_in(watched, base, "admin", "admin-pass-1", "/admin")
    for path in ADMIN_PAGES:
        visit(watched, f"{base}{path}", "main h1")
    visit(watched, f"{base}/admin/users", "#user-rows tr")  # the account search has rendered
    visit(watched, f"{base}/admin/org", "#class-rows tr")
    assert violations(watched) == []


def _operation_count(base_url: str) -> int:
    spec = httpx.get(f"{base_url}/openapi.json").json()
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    return sum(1 for path in spec["paths"].values() for method in path if method in methods)


def test_api_docs_render_offline_without_violations(server: Server, watched: Any) -> None:
    operations = _operation_count(server.base_url)
    visit(watched, f"{server.base_url}/docs", "#swagger-ui .information-container .title")
    expect(watched.locator("#swagger-ui .opblock").first).to_be_visible()
    # Swagger UI 5 reads the OpenAPI 3.1 document as it is: every operation is listed.
    expect(watched.locator("#swagger-ui .opblock")).to_have_count(operations)
    expect(watched.locator("#swagger-ui .version-stamp")).to_contain_text("OAS 3.1")
    watched.locator("#swagger-ui .opblock-summary").first.click()  # expand one operation
    expect(watched.locator("#swagger-ui .opblock-body").first).to_be_visible()
    assert violations(watched) == []


def test_redoc_lists_every_operation_offline(server: Server, watched: Any) -> None:
    operations = _operation_count(server.base_url)
    watched.goto(f"{server.base_url}/redoc")
    # ReDoc renders a section "tag/<tag>/operation/<id>" per operation and tag (an operation with two
    # tags appears twice): count the distinct operation ids.
    sections = watched.locator("#redoc [data-section-id*='operation/']")
    expect(sections.first).to_be_visible(timeout=60_000)
    listed = watched.evaluate(
        "() => new Set([...document.querySelectorAll(\"#redoc [data-section-id*='operation/']\")]"
        ".map((e) => e.getAttribute('data-section-id').split('operation/').pop())).size")
    assert listed == operations
    assert violations(watched) == []


def test_a_page_cannot_be_framed(server: Server, watched: Any) -> None:
    watched.set_content(f'<iframe id="f" src="{server.base_url}/login"></iframe>')
    frame = watched.frame_locator("#f")
    expect(frame.locator("#login-button")).to_have_count(0)  # refused by frame-ancestors 'none'


def test_the_policy_blocks_an_injected_inline_script(server: Server, watched: Any) -> None:
    visit(watched, f"{server.base_url}/login", "#login-button")
    ran = watched.evaluate("""() => {
      window.__ran = false;
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.body.appendChild(s);
      return window.__ran;
    }""")
    assert ran is False
    assert any(v.startswith("script-src") for v in violations(watched)), violations(watched)
