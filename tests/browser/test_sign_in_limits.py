"""In headless Chromium: the login page shows the wait after too many failures (429), and
"sign out" ends the access token on the server at once, not only in the page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser_support import Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of (401|429)")


def _sign_in(pg: Any, username: str, password: str) -> None:
    pg.get_by_label("Username").fill(username)
    pg.get_by_label("Password").fill(password)
    pg.get_by_role("button", name="Sign in").click()


def test_too_many_failures_show_the_wait(server: Server, page: Any) -> None:
    page.goto(f"{server.base_url}/login?lang=en")
    for _ in range(4):
        _sign_in(page, "student4", "not-the-password")
        expect(page.locator("#login-error")).to_have_text("Wrong username or password")
        page.locator("#login-error").evaluate("node => { node.hidden = true; node.textContent = ''; }")
    _sign_in(page, "student4", "not-the-password")
    expect(page.locator("#login-error")).to_have_text(re.compile(r"Too many failed sign-ins\. Please wait 30 s"))
    shot(page, "login-too-many-en.png")
    page.goto(f"{server.base_url}/login?lang=zh")
    page.get_by_label("用户名").fill("student4")
    page.get_by_label("密码").fill("student-pass-1")  # right password, still locked
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-error")).to_have_text(re.compile(r"登录失败次数过多，请等待 \d+ 秒后再试"))


def test_sign_out_ends_the_access_token_on_the_server(server: Server, page: Any) -> None:
    other_session = api_token(server.base_url, "student3", "student-pass-1")
    page.goto(f"{server.base_url}/login?lang=en")
    _sign_in(page, "student3", "student-pass-1")
    page.wait_for_url(f"{server.base_url}/student")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('exam.auth')).access")
    me = f"{server.base_url}/api/auth/me"
    assert httpx.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    page.locator("#logout").click()
    page.wait_for_url(f"{server.base_url}/login")
    gone = httpx.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert gone.status_code == 401 and gone.json()["error"] == "InvalidToken"
    # Only this sign-in ended: the same student's other session still works.
    assert httpx.get(me, headers={"Authorization": f"Bearer {other_session}"}, timeout=10).status_code == 200
