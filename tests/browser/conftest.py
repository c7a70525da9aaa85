"""Fixtures shared by the browser tests: one real server per test module, one Chromium, and a
page that fails the test on any script error or unexpected console error.

A module may set ``PAGE_VIEWPORT = (width, height)`` and ``EXPECTED_CONSOLE`` (a compiled regex
of console errors it provokes on purpose, such as 422 answers).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Server, running_server


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python 'playwright' package is missing")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'); browser tests need it")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture()
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    width, height = getattr(request.module, "PAGE_VIEWPORT", (1100, 900))
    expected = getattr(request.module, "EXPECTED_CONSOLE", None)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("console", lambda msg: errors.append(f"console: {msg.text}")
          if msg.type == "error" and not (expected and expected.search(msg.text)) else None)
    try:
        yield pg
        assert errors == [], errors
    finally:
        context.close()
