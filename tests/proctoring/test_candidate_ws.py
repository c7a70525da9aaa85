"""The candidate's proctoring WebSocket, driven by real `websockets` clients against uvicorn, on SQLite
and PostgreSQL: the handshake, every protocol error's close code with nothing stored, resume, supersede,
second login and IP change, and proctors' controls reaching the page."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.proctoring import candidate_ws, live_io
from models import OutboxJob, ProctorEvent, ProctorFrame, ProctorSession, ProctorSettings
from proctoring.bus import attempt_channel, exam_channel
from proctoring.protocol import MAX_FRAME_JPEG, MAX_TEXT_FRAME, CloseCode
from tests.proctoring.live_support import (
    JPEG,
    LiveServer,
    at,
    client_events,
    close_code,
    connect,
    counts,
    event,
    frame,
    heartbeat,
    make_proctored,
    open_raw,
    recv,
    serve,
    server_events,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Live:
    world: World
    server: LiveServer
    attempt_id: int

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, who: str = "s1") -> str:
        return self.world.tokens[who]


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, trusted_proxies=["127.0.0.1/32"])
    world = build_world(make_client(runtime), runtime, clock)
    assert world.start("s2")["proctored"] is False  # the exam page opens no socket
    make_proctored(runtime, world.ids["exam"])
    started = world.start("s1")
    assert started["proctored"] is True
    attempt_id = started["attempt_id"]
    with serve(world.client.app) as server:  # type: ignore[arg-type]
        server.listen(exam_channel(world.ids["exam"]))
        yield Live(world, server, attempt_id)
    runtime.engine.dispose()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _consented(live: Live, **auth: Any) -> Any:
    ws, hello = await connect(live.url, live.attempt_id, live.token(), **auth)
    if hello["consent_required"]:
        await ws.send(json.dumps({"type": "consent", "accepted": True, "notice_version": hello["notice_version"]}))
    return ws, hello


def test_hello_consent_identity_and_frames_are_stored(live: Live) -> None:
    runtime = live.world.runtime

    async def scenario() -> list[dict[str, Any]]:
        ws, hello = await connect(live.url, live.attempt_id, live.token(), device_id="device-aaaa")
        assert hello["state"] == "consent_pending" and hello["resume_from"] == 0 and hello["identity_required"]
        await ws.send(frame(1, at(runtime)))  # before consent: acked, not kept
        got = [await recv(ws), await recv(ws)]
        await ws.send(json.dumps({"type": "consent", "accepted": True, "notice_version": hello["notice_version"],
                                  "language": "en"}))
        await ws.send(json.dumps({"type": "identity_frame", "jpeg_b64": _b64(JPEG)}))
        got.append(await recv(ws))
        await ws.send(frame(2, at(runtime)))
        await ws.send(event(3, at(runtime), "screen_count", {"screens": 2}))
        got += [await recv(ws), await recv(ws)]
        await ws.close()
        return got

    got = run(scenario())
    assert got[0] == {"v": 1, "type": "ack", "seq": 1}
    assert got[1]["type"] == "error" and got[1]["code"] == "frame_dropped"
    assert got[2]["type"] == "identity_result" and got[2]["status"] in {"manual_pending", "passed", "failed",
                                                                            "impossible"}
    assert got[3:] == [{"v": 1, "type": "ack", "seq": 2}, {"v": 1, "type": "ack", "seq": 3}]
    assert client_events(runtime) == [(1, "frame_dropped"), (2, "frame"), (3, "screen_count")]
    assert _wait_for(lambda: "disconnected" in server_events(runtime))
    assert server_events(runtime)[:4] == ["connected", "consent", "identity_frame", "identity_checked"]
    stored = counts(runtime)
    assert stored["proctor_frames"] == 2 and stored["proctor_consents"] == 1
    _assert_frames_encrypted(live)
    with runtime.read_session() as session:
        jobs = [j.args for j in session.query(OutboxJob).filter_by(name="analyse_proctor_frame")]
        monitor = [f.id for f in session.query(ProctorFrame).filter_by(purpose="monitor")]
    assert jobs == [monitor] and len(monitor) == 1
    kinds = [(u["type"], u["payload"].get("connected")) for u in live.server.wall]
    assert kinds[0] == ("session", True) and kinds[-1] == ("session", False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _assert_frames_encrypted(live: Live) -> None:
    store = candidate_ws.evidence_store(live.world.client.app)
    with live.world.runtime.read_session() as session:
        keys = [f.storage_key for f in session.query(ProctorFrame)]
    for key in keys:
        assert key is not None and store.get(key) == JPEG
        on_disk = next((live.world.runtime.settings.data_dir / "evidence").rglob(key)).read_bytes()
        assert b"JFIF" not in on_disk


def _wait_for(check: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)  # polling the database for the handler's last write
    return bool(check())


BAD_MESSAGES: list[tuple[str, Any, int]] = [
    ("not json", "{not json", CloseCode.BAD_JSON),
    ("json array", "[1, 2]", CloseCode.BAD_JSON),
    ("binary frame", b"\x00\x01", CloseCode.BAD_JSON),
    ("unknown type", json.dumps({"v": 1, "type": "teleport", "seq": 2}), CloseCode.UNKNOWN_TYPE),
    ("unknown version", json.dumps({"v": 2, "type": "heartbeat", "seq": 2, "at": "2026-11-24T08:00:00Z"}),
     CloseCode.UNKNOWN_TYPE),
    ("seq zero", json.dumps({"type": "heartbeat", "seq": 0, "at": "2026-11-24T08:00:00Z"}), CloseCode.INVALID_MESSAGE),
    ("naive time", json.dumps({"type": "heartbeat", "seq": 2, "at": "2026-11-24T08:00:00"}), CloseCode.INVALID_MESSAGE),
    ("unknown event kind", event(2, "2026-11-24T08:00:00Z", "teleported"), CloseCode.INVALID_MESSAGE),
    ("extra field", json.dumps({"type": "heartbeat", "seq": 2, "at": "2026-11-24T08:00:00Z", "x": 1}),
     CloseCode.INVALID_MESSAGE),
    ("big event data", event(2, "2026-11-24T08:00:00Z", "copy", {"text": "x" * 5000}), CloseCode.INVALID_MESSAGE),
    ("not base64", json.dumps({"type": "frame", "seq": 2, "at": "2026-11-24T08:00:00Z", "jpeg_b64": "@@@@"}),
     CloseCode.INVALID_MESSAGE),
    ("not a jpeg", frame(2, "2026-11-24T08:00:00Z", b"GIF89a" * 10), CloseCode.INVALID_MESSAGE),
    ("jpeg too large", frame(2, "2026-11-24T08:00:00Z", b"\xff\xd8\xff" + b"\0" * MAX_FRAME_JPEG),
     CloseCode.TOO_LARGE),
    ("text frame too large", heartbeat(2, "2026-11-24T08:00:00Z") + " " * MAX_TEXT_FRAME, CloseCode.TOO_LARGE),
    ("second auth", json.dumps({"type": "auth", "token": "x"}), None),
]


def test_every_protocol_error_closes_with_its_code_and_stores_nothing(live: Live) -> None:
    runtime = live.world.runtime
    run(_first_event(live))
    assert _wait_for(lambda: server_events(runtime)[-1:] == ["disconnected"])
    for name, payload, code in BAD_MESSAGES:
        before = counts(runtime)
        got = run(_send_bad(live, payload))
        if code is None:  # a recoverable mistake: an error message, the connection stays
            assert got["type"] == "error" and got["code"] == "already_authenticated", name
            continue
        assert got == code, f"{name}: closed with {got}, expected {code}"
        expected = before["proctor_events"] + 2
        assert _wait_for(lambda: counts(runtime)["proctor_events"] == expected), name  # noqa: B023
        after = counts(runtime)
        # Only the server's own connected + disconnected events: the bad message left nothing.
        assert {k: after[k] - before[k] for k in after} == {"proctor_sessions": 0, "proctor_events": 2,
                                                            "proctor_frames": 0, "proctor_consents": 0,
                                                            "job_outbox": 0}, name
    assert client_events(runtime) == [(1, "heartbeat")]


async def _first_event(live: Live) -> None:
    ws, _ = await _consented(live)
    await ws.send(heartbeat(1, at(live.world.runtime)))
    assert (await recv(ws))["type"] == "ack"
    await ws.close()


async def _send_bad(live: Live, payload: Any) -> Any:
    ws, _ = await connect(live.url, live.attempt_id, live.token())
    await ws.send(payload)
    try:
        return await recv(ws)
    except Exception:  # noqa: BLE001 - a close is what most cases expect
        return ws.close_code if ws.close_code is not None else await close_code(ws)
    finally:
        await ws.close()


def test_handshake_refusals_have_their_codes(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    world, runtime = live.world, live.world.runtime
    monkeypatch.setattr(candidate_ws, "AUTH_TIMEOUT_S", 0.5)
    other = world.start("s2")["attempt_id"]
    cases = [("garbage token", live.attempt_id, "not-a-token", CloseCode.UNAUTHENTICATED),
             ("refresh token as access", live.attempt_id, world.tokens["s1:refresh"], CloseCode.UNAUTHENTICATED),
             ("another candidate's attempt", other, live.token("s1"), CloseCode.FORBIDDEN),
             ("teacher on a candidate's attempt", live.attempt_id, live.token("teacher"), CloseCode.FORBIDDEN),
             ("no such attempt", 987654, live.token("s1"), CloseCode.NOT_FOUND)]
    before = counts(runtime)
    for name, attempt_id, token, code in cases:
        assert run(_auth_close(live, attempt_id, token)) == code, name
    assert run(_no_auth(live)) == CloseCode.UNAUTHENTICATED
    assert run(_first_not_auth(live)) == CloseCode.UNAUTHENTICATED
    assert counts(runtime) == before


async def _auth_close(live: Live, attempt_id: int, token: str) -> int | None:
    ws = await open_raw(live.url, attempt_id)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return await close_code(ws)


async def _no_auth(live: Live) -> int | None:
    return await close_code(await open_raw(live.url, live.attempt_id))


async def _first_not_auth(live: Live) -> int | None:
    ws = await open_raw(live.url, live.attempt_id)
    await ws.send(heartbeat(1, "2026-11-24T08:00:00Z"))
    return await close_code(ws)


def test_expired_revoked_tokens_and_closed_or_unproctored_attempts(live: Live) -> None:
    world, runtime = live.world, live.world.runtime
    token = live.token()
    world.clock.advance(minutes=16)
    assert run(_auth_close(live, live.attempt_id, token)) == CloseCode.UNAUTHENTICATED
    world.clock.advance(minutes=-16)
    logout = world.call("POST", "/api/auth/logout", "s1", json={"refresh_token": world.tokens["s1:refresh"]})
    assert logout.status_code == 204
    assert run(_auth_close(live, live.attempt_id, token)) == CloseCode.UNAUTHENTICATED
    world.login("s1")
    world.ok("POST", f"/api/attempts/{live.attempt_id}/submit", "s1")
    assert run(_auth_close(live, live.attempt_id, live.token())) == CloseCode.NOT_PROCTORED
    with runtime.session_factory() as session, session.begin():
        session.get(ProctorSettings, world.ids["exam"]).enabled = False  # type: ignore[union-attr]
    other = world.start("s2")
    assert other["proctored"] is False
    assert run(_auth_close(live, other["attempt_id"], live.token("s2"))) == CloseCode.NOT_PROCTORED
    assert counts(runtime)["proctor_events"] == 0


def test_resume_stores_each_event_once_in_order(live: Live) -> None:
    runtime = live.world.runtime

    async def scenario() -> dict[str, Any]:
        ws, _ = await _consented(live, device_id="device-aaaa")
        for seq in range(1, 6):
            await ws.send(event(seq, at(runtime, seq), "window_blur" if seq % 2 else "window_focus"))
        assert [(await recv(ws))["seq"] for _ in range(5)] == [1, 2, 3, 4, 5]
        ws.transport.abort()  # the network drops: no close handshake
        ws2, hello = await connect(live.url, live.attempt_id, live.token(), device_id="device-aaaa", last_seq=9)
        for seq in range(3, 10):  # resends 3..5 it was unsure of, then its offline buffer 6..9
            await ws2.send(heartbeat(seq, at(runtime, seq)))
        acks = [(await recv(ws2))["seq"] for _ in range(7)]
        await ws2.close()
        return {"hello": hello, "acks": acks}

    got = run(scenario())
    assert got["hello"]["resume_from"] == 5 and got["hello"]["state"] == "identity_pending"
    assert got["acks"] == [3, 4, 5, 6, 7, 8, 9]
    stored = client_events(runtime)
    assert [seq for seq, _ in stored] == list(range(1, 10))
    assert [kind for _, kind in stored] == ["window_blur", "window_focus"] * 2 + ["window_blur"] + ["heartbeat"] * 4


def test_a_gap_is_accepted_and_recorded(live: Live) -> None:
    runtime = live.world.runtime

    async def scenario() -> None:
        ws, _ = await _consented(live)
        await ws.send(heartbeat(1, at(runtime)))
        await ws.send(heartbeat(7, at(runtime)))
        assert [(await recv(ws))["seq"] for _ in range(2)] == [1, 7]
        await ws.close()

    run(scenario())
    with runtime.read_session() as session:
        seventh = session.query(ProctorEvent).filter_by(seq=7).one()
        assert seventh.data == {"gap": 5}
        assert session.query(ProctorSession).one().last_seq == 7


def test_supersede_second_login_and_ip_change(live: Live) -> None:
    runtime = live.world.runtime
    lab = {"X-Forwarded-For": "10.0.0.7"}

    async def scenario() -> list[int | None]:
        first, _ = await connect(live.url, live.attempt_id, live.token(), headers=lab, device_id="device-aaaa")
        reload_, _ = await connect(live.url, live.attempt_id, live.token(), headers=lab, device_id="device-aaaa")
        codes = [await close_code(first)]
        phone, _ = await connect(live.url, live.attempt_id, live.token(), headers={"X-Forwarded-For": "10.9.9.9"},
                                 device_id="device-bbbb")
        codes.append(await close_code(reload_))
        await phone.send(heartbeat(1, at(runtime)))  # the superseding connection works
        assert (await recv(phone))["seq"] == 1
        await phone.close()
        back, _ = await connect(live.url, live.attempt_id, live.token(), headers=lab, device_id="device-aaaa")
        await back.close()
        return codes

    assert run(scenario()) == [CloseCode.SUPERSEDED, CloseCode.SUPERSEDED]
    assert _wait_for(lambda: server_events(runtime)[-1:] == ["disconnected"])
    assert server_events(runtime) == ["connected", "connected", "connected", "second_login", "disconnected",
                                      "connected", "ip_changed", "disconnected"]


def test_controls_reach_the_page_and_terminate_closes(live: Live) -> None:
    channel = attempt_channel(live.attempt_id)

    async def scenario() -> tuple[list[dict[str, Any]], int | None]:
        ws, _ = await _consented(live)
        await asyncio.sleep(0.2)  # the subscription is made before hello; give the consent a moment
        for control in ({"type": "control", "action": "warn", "message": "请看屏幕 eyes on the screen"},
                        {"type": "control", "action": "pause"}, {"type": "nonsense"},
                        {"type": "control", "action": "resume"},
                        {"type": "control", "action": "terminate", "message": "ended by proctor"}):
            await asyncio.to_thread(live.server.publish, channel, control)
        got = [await recv(ws) for _ in range(4)]
        return got, await close_code(ws)

    got, code = run(scenario())
    assert [(g["type"], g["action"]) for g in got] == [("control", "warn"), ("control", "pause"),
                                                       ("control", "resume"), ("control", "terminate")]
    assert got[0]["message"] == "请看屏幕 eyes on the screen"
    assert code == CloseCode.TERMINATED


def test_rate_limit_closes_the_connection(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_io, "RATE_BURST", 5)
    monkeypatch.setattr(live_io, "RATE_PER_S", 1)
    runtime = live.world.runtime

    async def scenario() -> int | None:
        ws, _ = await _consented(live)
        for seq in range(1, 12):
            await ws.send(heartbeat(seq, at(runtime)))
        return await close_code(ws)

    assert run(scenario()) == CloseCode.RATE_LIMITED
    stored = [seq for seq, _ in client_events(runtime)]
    assert stored == list(range(1, len(stored) + 1)) and len(stored) < 11
