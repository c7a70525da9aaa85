"""observe(): flags stored in the caller's transaction, state kept across calls, score refreshed, the sweep."""

import asyncio
import threading
from datetime import timedelta
from typing import Any

from proctor_support import make_session
from sqlalchemy import select
from support import World

from exam_server.db import session_scope
from exam_server.jobs import tasks
from exam_server.jobs.queue import JobContext
from exam_server.proctoring import worker_wall
from exam_server.proctoring.bus import InProcessBus
from exam_server.services import proctor_flags
from models import ProctorFlag, ProctorRuleState, ProctorSession
from proctoring.bus import exam_channel
from proctoring.rules import Observation, Rule


def _observe(world: World, session_id: int, *observations: Observation) -> list[str]:
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        changes = proctor_flags.observe(session, ps, list(observations), world.clock())
        return [f"{c.rule.value}:{'open' if c.ended_at is None else 'end'}" for c in changes]


def _session_row(world: World, session_id: int) -> ProctorSession:
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, session_id)
        assert ps is not None
        session.expunge(ps)
        return ps


def _flags(world: World, session_id: int) -> list[ProctorFlag]:
    with session_scope(world.runtime.session_factory) as session:
        flags = list(session.scalars(select(ProctorFlag).where(ProctorFlag.session_id == session_id)
                                     .order_by(ProctorFlag.id)))
        session.expunge_all()
        return flags


def test_observe_keeps_state_across_calls_and_stores_flags(world: World) -> None:
    sid = make_session(world, "s1")
    t = world.clock()
    assert _observe(world, sid, Observation("tab_hidden", t, event_id=None)) == []
    assert _observe(world, sid, Observation("heartbeat", t + timedelta(seconds=5))) == ["tab_hidden:open"]
    [flag] = _flags(world, sid)
    assert flag.rule == "tab_hidden" and flag.ended_at is None and flag.severity == "medium"
    world.clock.advance(minutes=2)
    assert _observe(world, sid, Observation("tab_visible", t + timedelta(minutes=2))) == ["tab_hidden:end"]
    [flag] = _flags(world, sid)
    assert flag.ended_at == t + timedelta(minutes=2) and flag.status == "open"
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None and ps.risk_score == 6.0  # 2 minutes x 3 points per minute (default)
        assert session.get(ProctorRuleState, sid) is not None


def test_burst_extends_one_flag_and_session_end_closes_open_flags(world: World) -> None:
    sid = make_session(world, "s1")
    t = world.clock()
    _observe(world, sid, Observation("copy", t, event_id=None), Observation("paste", t + timedelta(seconds=4)))
    _observe(world, sid, Observation("screen_count", t + timedelta(seconds=5), {"screens": 2}))
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None
        ended = proctor_flags.end_session(session, ps, t + timedelta(minutes=1))
    assert [c.rule for c in ended] == [Rule.SECOND_SCREEN]
    flags = _flags(world, sid)
    assert [(f.rule, f.ended_at) for f in flags] == [
        ("copy_paste", t + timedelta(seconds=4)), ("second_screen", t + timedelta(minutes=1))]
    assert _observe(world, sid, Observation("tab_hidden", t + timedelta(minutes=2)),
                    Observation("heartbeat", t + timedelta(minutes=3))) == []


def test_sweep_opens_one_network_drop_for_silent_live_sessions(world: World) -> None:
    t = world.clock()
    silent = make_session(world, "s1", last_seen=t)
    ended = make_session(world, "s2", state="ended", last_seen=t)
    world.clock.advance(seconds=10)
    context = JobContext(session_factory=world.runtime.session_factory, clock=world.clock)
    tasks.sweep_proctor_heartbeats(context)
    assert _flags(world, silent) == []  # 10 s: fewer than 3 heartbeats missed
    world.clock.advance(seconds=6)
    tasks.sweep_proctor_heartbeats(context)
    tasks.sweep_proctor_heartbeats(context)  # idempotent
    [drop] = _flags(world, silent)
    assert drop.rule == "network_drop" and drop.started_at == t and drop.ended_at is None
    assert _flags(world, ended) == []
    world.clock.advance(seconds=30)
    assert _observe(world, silent, Observation("connected", world.clock())) == ["network_drop:end"]
    assert _flags(world, silent)[0].ended_at == world.clock()


def test_ending_the_session_through_the_state_machine_closes_open_flags(world: World) -> None:
    from exam_server.services.proctor_sessions import transition
    from proctoring.session import Move

    sid = make_session(world, "s1")
    t = world.clock()
    _observe(world, sid, Observation("screen_count", t, {"screens": 3}))
    world.clock.advance(minutes=4)
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None
        transition(session, ps, Move.TERMINATE, world.clock(), actor_id=None)
    [flag] = _flags(world, sid)
    assert flag.rule == "second_screen" and flag.ended_at == t + timedelta(minutes=4)
    with session_scope(world.runtime.session_factory) as session:
        ps = session.get(ProctorSession, sid)
        assert ps is not None and ps.state == "ended" and ps.risk_score == 12.0  # 4 min x 3


def test_a_drop_found_by_the_sweep_reaches_the_walls_of_this_process(world: World) -> None:
    t = world.clock()
    silent = make_session(world, "s1", last_seen=t)
    ps = _session_row(world, silent)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    bus = InProcessBus()
    received: list[dict[str, Any]] = []

    async def on_update(_: str, payload: dict[str, Any]) -> None:
        received.append(payload)

    asyncio.run_coroutine_threadsafe(bus.subscribe(exam_channel(ps.exam_id), on_update), loop).result(5)
    worker_wall.attach_local(loop, bus)
    try:
        world.clock.advance(seconds=20)
        tasks.sweep_proctor_heartbeats(JobContext(session_factory=world.runtime.session_factory, clock=world.clock))
    finally:
        worker_wall.detach_local()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
    assert [(u["type"], u["session_id"], u["payload"]["rule"], u["payload"]["ended_at"]) for u in received] == [
        ("flag", silent, "network_drop", None)]
