"""The proctor wall over a real WebSocket (websockets client -> uvicorn): auth and scope, close codes,
the snapshot, commands with their audit, Control to the candidate's channel, and the server obeying
pause (answer saves refused) and terminate (attempt submitted by the proctor, answers kept)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import select
from support import PASSWORD, World

from exam_server.proctoring import wall_ws
from models import AttemptStep, ProctorAction, ProctorSession, StepKind
from proctoring.bus import attempt_channel
from tests.proctoring.wall_support import (
    WallClient,
    add_flag,
    add_session,
    closed_with,
    enable_proctoring,
    serve_in_thread,
    session_row,
)


@pytest.fixture
def live(world: World) -> Iterator[tuple[World, str, FastAPI]]:
    w = world
    school = w.ids["school"]
    pid = w.ok("POST", "/api/users", "admin", json={"username": "proctor", "password": PASSWORD,
                                                     "display_name": "周监考", "role": "proctor",
                                                     "school_id": school})["id"]
    w.ok("POST", "/api/users", "admin", json={"username": "proctor2", "password": PASSWORD, "display_name": "p2",
                                              "role": "proctor", "school_id": school})
    w.ok("POST", f"/api/exams/{w.ids['exam']}/staff", "teacher", json={"user_id": pid, "duty": "proctor"})
    for who in ("proctor", "proctor2"):
        w.login(who)
    enable_proctoring(w.runtime, w.ids["exam"], w.clock())
    for student in ("s1", "s2"):
        w.ids[f"attempt_{student}"] = w.start(student)["attempt_id"]
    w.ids["ps1"] = add_session(w.runtime, w.ids["attempt_s1"], "active", w.clock())
    with serve_in_thread(w.runtime) as (host, app):
        yield w, host, app


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_snapshot_lists_every_candidate_with_state_flags_and_presence(live: tuple[World, str, FastAPI]) -> None:
    w, host, _ = live
    add_flag(w.runtime, w.ids["ps1"], "tab_hidden", w.clock())

    async def go() -> dict[str, Any]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["proctor"])
        snap = await wall.next()
        await wall.close()
        return snap

    snap = run(go())
    assert snap["type"] == "snapshot" and snap["exam_id"] == w.ids["exam"] and snap["room"] == "none"
    tiles = {t["name"]: t for t in snap["candidates"]}
    assert set(tiles) == {"s1", "s2"}, "a tile per candidate, also before they connect"
    assert tiles["s1"]["state"] == "active" and tiles["s1"]["connected"] is True
    assert [f["rule"] for f in tiles["s1"]["flags"]] == ["tab_hidden"]
    assert tiles["s1"]["risk_score"] == 1.5 and tiles["s1"]["last_seen_at"].endswith("+00:00")
    assert tiles["s2"]["session_id"] is None and tiles["s2"]["state"] is None and tiles["s2"]["flags"] == []


@pytest.mark.parametrize(("first", "code"), [
    ("not json", 4400), ("[1, 2]", 4400), ('{"v": 1, "type": "frame"}', 4401), ('{"v": 2, "type": "auth"}', 4401),
    ('{"v": 1, "type": "auth"}', 4402), ('{"v": 1, "type": "auth", "token": "x.y.z"}', 4001),
    ('{"v": 1, "type": "command", "session_id": 1, "command": "pause"}', 4001),
])
def test_protocol_errors_close_with_documented_codes(live: tuple[World, str, FastAPI], first: str, code: int) -> None:
    w, host, _ = live

    async def go() -> tuple[int | None, str]:
        ws = await websockets.connect(f"ws://{host}/ws/proctoring/exams/{w.ids['exam']}/wall?room=none")
        await ws.send(first)
        return await closed_with(ws)

    got, reason = run(go())
    assert got == code, reason
    assert reason


@pytest.mark.parametrize(("who", "exam", "room", "code"), [
    ("s1", None, "none", 4003),  # a student: no proctor_exams capability
    ("proctor2", None, "none", 4004),  # a proctor not assigned to this exam: it does not exist for them
    ("proctor", 999999, "none", 4004),
    ("proctor", None, "all", 1000),  # assigned to the whole exam (no room): the exam-wide wall opens
    ("proctor", None, "bogus", 4402),
    ("proctor", None, "424242", 4004),
])
def test_scope_is_checked(live: tuple[World, str, FastAPI], who: str, exam: int | None, room: str, code: int) -> None:
    w, host, _ = live
    exam_id = exam or w.ids["exam"]

    async def go() -> tuple[int | None, str]:
        wall = await WallClient.open(host, exam_id, room, w.tokens[who])
        if code == 1000:
            snap = await wall.next()
            assert snap["type"] == "snapshot" and snap["room"] == "all"
            await wall.close()
            return 1000, "opened"
        return await closed_with(wall.ws)

    got, reason = run(go())
    assert got == code, reason


def test_unproctored_exam_closes_4009(live: tuple[World, str, FastAPI]) -> None:
    w, host, _ = live
    with w.runtime.session_factory() as session, session.begin():
        from models import ProctorSettings

        settings = session.get(ProctorSettings, w.ids["exam"])
        assert settings is not None
        settings.enabled = False

    async def go() -> tuple[int | None, str]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["teacher"])
        return await closed_with(wall.ws)

    assert run(go())[0] == 4009


def test_no_auth_in_time_closes_4001(live: tuple[World, str, FastAPI], monkeypatch: pytest.MonkeyPatch) -> None:
    w, host, _ = live
    monkeypatch.setattr(wall_ws, "AUTH_TIMEOUT_S", 0.3)

    async def go() -> tuple[int | None, str]:
        ws = await websockets.connect(f"ws://{host}/ws/proctoring/exams/{w.ids['exam']}/wall?room=none")
        return await closed_with(ws)

    got, reason = run(go())
    assert got == 4001 and "auth" in reason


def _controls(app: FastAPI, attempt_id: int) -> list[dict[str, Any]]:
    """Subscribe the test to the candidate's channel, as the candidate connection does."""
    seen: list[dict[str, Any]] = []

    async def handler(_: str, payload: dict[str, Any]) -> None:
        seen.append(payload)

    asyncio.run(app.state.proctor_bus.subscribe(attempt_channel(attempt_id), handler))
    return seen


def test_pause_is_obeyed_by_saves_then_resume_lets_them_in(live: tuple[World, str, FastAPI]) -> None:
    w, host, app = live
    attempt, ps, slot = w.ids["attempt_s1"], w.ids["ps1"], w.ids["slots"][0]
    controls = _controls(app, attempt)
    assert w.save("s1", attempt, slot, "B", 1).status_code == 200

    async def command(name: str, message: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["proctor"])
        await wall.next_of("snapshot")
        result = await wall.command(ps, name, message)
        update = await wall.next_of("session")
        await wall.close()
        return result, update

    result, update = run(command("pause"))
    assert result["payload"]["ok"] is True and result["payload"]["state"] == "paused"
    assert update["payload"]["state"] == "paused" and update["session_id"] == ps
    refused = w.save("s1", attempt, slot, "A", 2)
    assert refused.status_code == 409 and refused.json()["error"] == "ProctoringPaused"
    assert refused.json()["proctoring_state"] == "paused"
    result, _ = run(command("resume"))
    assert result["payload"]["state"] == "active"
    assert w.save("s1", attempt, slot, "A", 2).status_code == 200
    assert [c["action"] for c in controls] == ["pause", "resume"]
    with w.runtime.read_session() as session:
        acts = session.scalars(select(ProctorAction).where(ProctorAction.session_id == ps)
                               .order_by(ProctorAction.id)).all()
        assert [(a.action, a.actor_id) for a in acts] == [("pause", _uid(w, "proctor")), ("resume", _uid(w, "proctor"))]


def _uid(w: World, username: str) -> int:
    return int(w.ok("GET", "/api/auth/me", username)["id"])


def test_illegal_command_changes_nothing_and_says_why(live: tuple[World, str, FastAPI]) -> None:
    w, host, _ = live

    async def go() -> dict[str, Any]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["proctor"])
        await wall.next_of("snapshot")
        result = await wall.command(w.ids["ps1"], "resume", request_id="x-7")
        other = await wall.command(987654, "pause", request_id="x-8")
        await wall.close()
        return {"resume": result, "other": other}

    got = run(go())
    assert got["resume"]["payload"] == {"request_id": "x-7", "command": "resume", "ok": False,
                                        "code": "illegal_transition", "detail": got["resume"]["payload"]["detail"]}
    assert "active" in got["resume"]["payload"]["detail"]
    assert got["other"]["payload"]["code"] == "not_found"
    assert session_row(w.runtime, w.ids["ps1"]).state == "active"
    with w.runtime.read_session() as session:
        assert session.scalars(select(ProctorAction)).all() == []


def test_warn_admit_and_terminate(live: tuple[World, str, FastAPI]) -> None:
    w, host, app = live
    attempt2 = w.ids["attempt_s2"]
    ps2 = add_session(w.runtime, attempt2, "manual_pending", w.clock())
    controls = _controls(app, attempt2)
    assert w.save("s2", attempt2, w.ids["slots"][0], "B", 1).status_code == 409  # waiting for the manual check

    async def go() -> list[dict[str, Any]]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["proctor"])
        await wall.next_of("snapshot")
        out = [await wall.command(ps2, "admit", request_id="a")]
        out.append(await wall.command(ps2, "warn", "请注视屏幕", request_id="w"))
        await asyncio.sleep(0)  # let the save below land before the end
        out.append(await wall.command(ps2, "terminate", "冒名顶替 impersonation", request_id="t"))
        await wall.close()
        return out

    admit = run(go())[0]
    assert admit["payload"]["state"] == "active"
    row = session_row(w.runtime, ps2)
    assert row.identity == "admitted_manually" and row.state == "ended"
    assert [(c["action"], c.get("message")) for c in controls] == [
        ("admit", None), ("warn", "请注视屏幕"), ("terminate", "冒名顶替 impersonation")]
    attempt = w.ok("GET", f"/api/attempts/{attempt2}", "s2")
    assert attempt["state"] in ("submitted", "graded")
    with w.runtime.read_session() as session:
        step = session.scalars(select(AttemptStep).where(AttemptStep.attempt_id == attempt2,
                                                         AttemptStep.kind == StepKind.SUBMITTED)).one()
        assert step.actor_id == _uid(w, "proctor")
        assert step.data == {"ended_by_proctor": True, "session_id": ps2, "reason": "冒名顶替 impersonation"}
        actions = [a.action for a in session.scalars(select(ProctorAction).where(ProctorAction.session_id == ps2)
                                                     .order_by(ProctorAction.id))]
        assert actions == ["admit", "warn", "terminate"]
        assert session.get(ProctorSession, ps2).state == "ended"  # type: ignore[union-attr]


def test_a_later_auth_renews_the_token_but_cannot_change_the_user(live: tuple[World, str, FastAPI]) -> None:
    w, host, _ = live

    async def go() -> tuple[dict[str, Any], tuple[int | None, str]]:
        wall = await WallClient.open(host, w.ids["exam"], "none", w.tokens["proctor"])
        await wall.next_of("snapshot")
        await wall.ws.send(json.dumps({"v": 1, "type": "auth", "token": w.login("proctor")}))
        ok = await wall.command(w.ids["ps1"], "warn", "hi")
        await wall.ws.send(json.dumps({"v": 1, "type": "auth", "token": w.tokens["teacher"]}))
        return ok, await closed_with(wall.ws)

    ok, (code, _) = run(go())
    assert ok["payload"]["ok"] is True and code == 4003
