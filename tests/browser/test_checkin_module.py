"""checkin.js in headless Chromium with a fake camera: the notice, consent, the camera preview, an
identity frame sent as a real JPEG, the manual-check wait with its reason, and the exam starting.

The proctoring connection (proctor_client.js) is replaced by a recording stand-in with the same API,
so this test covers the check-in module alone; the page is served by Playwright's router."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, require_browser

expect = require_browser()
STATIC = Path(__file__).resolve().parents[2] / "exam_server" / "web" / "static"
LOCALES = Path(__file__).resolve().parents[2] / "exam_server" / "web" / "locales"
ORIGIN = "http://localhost:8765"  # never contacted: every request is answered by the router

HARNESS = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="exam-root"></div>
<script>
window.T = %s;
window.sent = [];
const listeners = {};
window.examProctor = {
  state: null,
  on(name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
  emit(name, value) { (listeners[name] || []).forEach((fn) => fn(value)); },
  consent(accepted) { window.sent.push({type: "consent", accepted}); return true; },
  identityFrame(b64) { window.sent.push({type: "identity_frame", jpeg_b64: b64}); return true; },
  setCamera(video) { window.sent.push({type: "camera", on: !!video}); },
  captureJpeg(video) {
    const c = document.createElement("canvas");
    c.width = 320; c.height = Math.round(320 * (video.videoHeight || 240) / (video.videoWidth || 320));
    c.getContext("2d").drawImage(video, 0, 0, c.width, c.height);
    return c.toDataURL("image/jpeg", 0.8).split(",")[1];
  }
};
</script>
<script type="module" src="/static/checkin.js"></script>
</body></html>"""


@pytest.fixture()
def fake_camera_page() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        context = browser.new_context(locale="zh-CN")
        context.grant_permissions(["camera"], origin=ORIGIN)
        context.set_default_timeout(TIMEOUT_MS)
        strings = json.loads((LOCALES / "zh.json").read_text(encoding="utf-8"))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route(f"{ORIGIN}/checkin", lambda route: route.fulfill(
            body=HARNESS % json.dumps(strings, ensure_ascii=False), content_type="text/html; charset=utf-8"))
        page.route(f"{ORIGIN}/static/checkin.js", lambda route: route.fulfill(
            body=(STATIC / "checkin.js").read_text(encoding="utf-8"), content_type="text/javascript"))
        page.goto(f"{ORIGIN}/checkin")
        yield page, strings
        assert errors == []
        browser.close()


def test_checkin_walks_consent_camera_identity_and_the_manual_wait(fake_camera_page: Any) -> None:
    page, zh = fake_camera_page
    page.wait_for_function("document.getElementById('checkin') !== null")
    page.evaluate("examProctor.emit('hello', {type: 'hello', state: 'consent_pending', notice_version: '2026-12'})")
    consent = page.locator("#checkin-consent")
    expect(consent).to_be_visible()
    expect(consent).to_contain_text(zh["checkin_notice_keep"][:10])
    expect(consent).to_contain_text("2026-12")
    expect(page.locator("#checkin-identity")).to_be_hidden()
    page.click("#checkin-accept")
    assert page.evaluate("window.sent") == [{"type": "consent", "accepted": True}]

    page.evaluate("examProctor.emit('state', 'identity_pending')")
    expect(page.locator("#checkin-identity")).to_be_visible()
    expect(page.locator("#checkin-check")).to_be_disabled()
    page.click("#checkin-camera")
    expect(page.locator("#checkin-check")).to_be_enabled()
    page.wait_for_function("document.getElementById('checkin-video').videoWidth > 0")
    page.click("#checkin-check")
    sent = page.evaluate("window.sent")
    assert {"type": "camera", "on": True} in sent
    frame = next(m for m in sent if m["type"] == "identity_frame")
    assert base64.b64decode(frame["jpeg_b64"])[:3] == b"\xff\xd8\xff"  # a real JPEG of the camera picture
    expect(page.locator("#checkin-camera-status")).to_have_text(zh["checkin_checking"])

    page.evaluate("examProctor.emit('identity_result', {type: 'identity_result', status: 'impossible', "
                  "reason: 'no_face'})")
    wait = page.locator("#checkin-wait")
    expect(wait).to_be_visible()
    expect(wait).to_contain_text(zh["checkin_wait_title"])
    expect(page.locator("#checkin-wait-reason")).to_have_text(zh["checkin_reason_no_face"])
    expect(page.locator("#checkin-identity")).to_be_hidden()

    page.evaluate("examProctor.emit('state', 'active')")  # a proctor admitted the candidate
    expect(page.locator("#checkin")).to_be_hidden()


def test_refusing_the_notice_is_sent_and_never_blocks_silently(fake_camera_page: Any) -> None:
    page, zh = fake_camera_page
    page.wait_for_function("document.getElementById('checkin') !== null")
    page.evaluate("examProctor.emit('hello', {type: 'hello', state: 'consent_pending', notice_version: '2026-12'})")
    page.click("#checkin-refuse")
    assert page.evaluate("window.sent") == [{"type": "consent", "accepted": False}]
    page.evaluate("examProctor.emit('state', 'manual_pending')")
    expect(page.locator("#checkin-wait")).to_contain_text(zh["checkin_wait_body"][:8])
