"""The proctor wall page in Chromium against a real server: the snapshot's tiles, a candidate (a real
websockets client on the candidate WebSocket) who consents and hides the tab -> the flag appears live
on the wall; pause and end from the wall (end confirmed in a dialog) reach the candidate; then the
candidate's own page lists what was recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import PASSWORD, World
from websockets.sync.client import connect

from tests.browser_support import require_browser, shot
from tests.proctoring.wall_support import add_session, enable_proctoring, serve_in_thread

expect = require_browser()


def _sign_in(page: Any, base: str, world: World, username: str) -> None:
    r = world.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    tokens = r.json()
    page.goto(f"{base}/login", wait_until="commit")  # the origin: the tokens live in its sessionStorage
    page.evaluate("""(t) => sessionStorage.setItem("exam.auth", JSON.stringify({access: t.access_token,
        refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000, user: t.user}))""", tokens)


def _event(seq: int, kind: str, world: World) -> str:
    return json.dumps({"v": 1, "type": "event", "seq": seq, "at": world.clock().isoformat(), "kind": kind})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_wall_shows_a_live_flag_and_commands_reach_the_candidate(world: World, page: Any) -> None:
    w = world
    pid = w.ok("POST", "/api/users", "admin", json={"username": "proctor", "password": PASSWORD,
                                                     "display_name": "周监考", "role": "proctor",
                                                     "school_id": w.ids["school"]})["id"]
    w.ok("POST", f"/api/exams/{w.ids['exam']}/staff", "teacher", json={"user_id": pid, "duty": "proctor"})
    enable_proctoring(w.runtime, w.ids["exam"], w.clock(), require_identity=False)
    s1 = w.start("s1")["attempt_id"]
    add_session(w.runtime, s1, "active", w.clock())
    s2 = w.start("s2")["attempt_id"]
    with serve_in_thread(w.runtime) as (host, _):
        base = f"http://{host}"
        _sign_in(page, base, w, "proctor")
        page.goto(f"{base}/centre/proctoring/{w.ids['exam']}/wall?room=none")
        expect(page.locator("#wall-conn")).to_have_attribute("data-state", "live")
        tiles = page.locator(".wall-tile")
        expect(tiles).to_have_count(2)
        tile1, tile2 = page.locator('.wall-tile:has-text("s1")'), page.locator('.wall-tile:has-text("s2")')
        expect(tile1.locator('[data-field="state"]')).to_have_text("作答中")
        expect(tile2.locator('[data-field="state"]')).to_have_text("未开始")
        with connect(f"ws://{host}/ws/proctoring/attempts/{s2}") as candidate:
            candidate.send(json.dumps({"v": 1, "type": "auth", "token": w.tokens["s2"]}))
            hello = json.loads(candidate.recv(10))
            candidate.send(json.dumps({"v": 1, "type": "consent", "accepted": True,
                                       "notice_version": hello["notice_version"], "language": "zh"}))
            expect(tile2.locator('[data-field="state"]')).to_have_text("作答中")
            candidate.send(_event(1, "tab_hidden", w))
            assert json.loads(candidate.recv(10))["type"] == "ack"
            w.clock.advance(seconds=3)  # hidden for 3 s on the server's clock
            candidate.send(_event(2, "tab_visible", w))
            expect(tile2.locator('.wall-flag[data-rule="tab_hidden"]')).to_have_count(1)
            expect(tile2.locator(".wall-flag")).to_contain_text("切出考试页")
            expect(page.locator("#wall-count")).to_contain_text("1 人有标记")
            shot(page, "proctor-wall.png")
            tile1.locator('[data-action="pause"]').click()
            expect(tile1.locator('[data-field="state"]')).to_have_text("已暂停")
            expect(tile1.locator('[data-action="resume"]')).to_be_enabled()
            tile2.locator('[data-action="terminate"]').click()
            expect(page.locator("#wall-dialog")).to_be_visible()
            page.fill("#wall-dialog-text", "切屏 switched away")
            page.click("#wall-dialog-ok")
            expect(tile2.locator('[data-field="state"]')).to_have_text("已结束")
            controls = []
            try:
                while True:
                    message = json.loads(candidate.recv(10))
                    if message["type"] == "control":
                        controls.append(message)
            except Exception:  # noqa: BLE001 - the server closed the candidate's connection
                pass
            assert [c["action"] for c in controls] == ["terminate"]
            assert controls[0]["message"] == "切屏 switched away"
        # The candidate sees what was recorded about them.
        page.evaluate("sessionStorage.clear()")
        _sign_in(page, base, w, "s2")
        page.goto(f"{base}/student")
        records = page.locator("#proctor-records")
        expect(records).to_be_visible()
        expect(records.locator('.rec-flag[data-rule="tab_hidden"]')).to_have_count(1)
        expect(records).to_contain_text("监考员终止")
        shot(page, "student-proctoring-record.png")
