"""Group commit of client events (services/proctor_events.py) on SQLite and PostgreSQL: each event
stored once and in order, refusals per item, and one bad item never loses the others."""

from datetime import timedelta

from support import World

from exam_server.db import session_scope
from exam_server.proctoring.evidence import build_evidence_store
from exam_server.services import proctor_live as live
from exam_server.services.proctor_events import Pending, store_batch
from exam_server.services.proctor_sessions import transition
from models import OutboxJob, ProctorEvent, ProctorFrame, ProctorSession
from proctoring.protocol import BrowserEvent, BrowserEventKind, CloseCode, Frame, Heartbeat
from proctoring.session import Move
from tests.proctoring.live_support import JPEG, make_proctored


def _open(world: World, student: str, connection: str) -> int:
    make_proctored(world.runtime, world.ids["exam"], require_identity=False) if student == "s1" else None
    attempt = world.start(student)["attempt_id"]
    user = {"s1": 0, "s2": 1}[student]
    with session_scope(world.runtime.session_factory) as session:
        user_id = session.get(live.Attempt, attempt).user_id  # type: ignore[union-attr]
        opened = live.open_connection(session, attempt, user_id, live.Peer(connection, f"10.0.0.{user}", None),
                                      world.clock())
        ps = session.get(ProctorSession, opened.session_id)
        assert ps is not None
        transition(session, ps, Move.CONSENT_ACCEPTED, world.clock())  # no identity check: active
    return opened.session_id


def _hb(seq: int, world: World) -> Heartbeat:
    return Heartbeat(type="heartbeat", seq=seq, at=world.clock() - timedelta(seconds=1))


def test_a_batch_stores_each_event_once_in_order_and_refuses_per_item(world: World) -> None:
    first, second = _open(world, "s1", "conn-a"), _open(world, "s2", "conn-b")
    blur = BrowserEvent(type="event", seq=2, at=world.clock(), kind=BrowserEventKind.WINDOW_BLUR)
    items = [Pending(first, "conn-a", _hb(1, world)), Pending(second, "conn-b", _hb(1, world)),
             Pending(first, "conn-a", blur), Pending(first, "conn-old", _hb(3, world)),
             Pending(first, "conn-a", _hb(2, world)), Pending(second, "conn-b", _hb(5, world))]
    results = store_batch(world.runtime.session_factory, None, items, world.clock())
    assert [type(r).__name__ for r in results] == ["Outcome", "Outcome", "Outcome", "LiveRefused", "Outcome",
                                                   "Outcome"]
    assert isinstance(results[3], live.LiveRefused) and results[3].code == CloseCode.SUPERSEDED
    assert isinstance(results[4], live.Outcome) and results[4].duplicate
    with world.runtime.read_session() as session:
        rows = session.query(ProctorEvent).filter(ProctorEvent.seq > 0).order_by(ProctorEvent.id).all()
        stored = [(r.session_id, r.seq, r.kind, r.data) for r in rows]
    assert stored == [(first, 1, "heartbeat", None), (second, 1, "heartbeat", None),
                      (first, 2, "window_blur", None), (second, 5, "heartbeat", {"gap": 3})]


def test_one_bad_item_fails_alone(world: World) -> None:
    first, second = _open(world, "s1", "conn-a"), _open(world, "s2", "conn-b")
    frame = Frame(type="frame", seq=1, at=world.clock(), jpeg_b64="AAAA")
    items = [Pending(first, "conn-a", _hb(1, world)), Pending(second, "conn-b", frame, JPEG),
             Pending(first, "conn-a", _hb(2, world))]
    # No evidence store: the frame cannot be kept, the batch falls back to one transaction per event.
    results = store_batch(world.runtime.session_factory, None, items, world.clock())
    assert isinstance(results[1], RuntimeError) and "evidence" in str(results[1])
    assert [r.duplicate for r in results if isinstance(r, live.Outcome)] == [False, False]
    store = build_evidence_store(None, world.runtime.settings.data_dir)
    again = store_batch(world.runtime.session_factory, store, [items[1]], world.clock())[0]
    assert isinstance(again, live.Outcome) and again.frame_id is not None
    with world.runtime.read_session() as session:
        assert [(e.session_id, e.seq) for e in session.query(ProctorEvent).filter(ProctorEvent.seq > 0)
                .order_by(ProctorEvent.id)] == [(first, 1), (first, 2), (second, 1)]
        frames = session.query(ProctorFrame).all()
        jobs = [j.args for j in session.query(OutboxJob).filter_by(name="analyse_proctor_frame")]
    assert len(frames) == 1 and store.get(frames[0].storage_key or "") == JPEG and jobs == [[frames[0].id]]
