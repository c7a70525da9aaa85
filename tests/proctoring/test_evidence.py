from pathlib import Path

import pytest

from exam_server.proctoring.evidence import EvidenceError, EvidenceStore, load_or_create_key
from proctoring.session import IllegalTransition, Move, SessionState, next_state


def test_evidence_round_trip_and_nothing_readable_on_disk(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev", load_or_create_key(None, tmp_path))
    name = store.put(b"\xff\xd8 a jpeg frame")
    assert store.get(name) == b"\xff\xd8 a jpeg frame"
    on_disk = next((tmp_path / "ev").rglob(name)).read_bytes()
    assert b"a jpeg frame" not in on_disk
    assert store.delete(name) and not store.delete(name)
    with pytest.raises(EvidenceError, match="purged"):
        store.get(name)


def test_evidence_refuses_other_keys_swaps_and_odd_names(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, load_or_create_key(None, tmp_path / "a"))
    other = EvidenceStore(tmp_path, load_or_create_key(None, tmp_path / "b"))
    first, second = store.put(b"one"), store.put(b"two")
    with pytest.raises(EvidenceError, match="another key"):
        other.get(first)
    (tmp_path / second[:2] / second).write_bytes((tmp_path / first[:2] / first).read_bytes())
    with pytest.raises(EvidenceError, match="altered"):
        store.get(second)
    with pytest.raises(EvidenceError, match="not a key"):
        store.get("../secret_key")


def test_key_is_kept_and_a_bad_configured_key_is_named(tmp_path: Path) -> None:
    assert load_or_create_key(None, tmp_path) == load_or_create_key(None, tmp_path)
    with pytest.raises(ValueError, match="EXAM_EVIDENCE_KEY"):
        load_or_create_key("c2hvcnQ=", tmp_path)


def test_session_state_machine_moves_and_refusals() -> None:
    state = next_state(SessionState.CONSENT_PENDING, Move.CONSENT_ACCEPTED)
    assert state == SessionState.IDENTITY_PENDING
    assert next_state(SessionState.CONSENT_PENDING, Move.CONSENT_ACCEPTED, identity_required=False) \
        == SessionState.ACTIVE
    assert next_state(state, Move.IDENTITY_FAILED) == SessionState.MANUAL_PENDING
    assert next_state(SessionState.MANUAL_PENDING, Move.ADMIT) == SessionState.ACTIVE
    assert next_state(SessionState.ACTIVE, Move.PAUSE) == SessionState.PAUSED
    assert next_state(SessionState.PAUSED, Move.TERMINATE) == SessionState.ENDED
    for bad_state, bad_move in ((SessionState.ACTIVE, Move.RESUME), (SessionState.ENDED, Move.CLOSE),
                                (SessionState.CONSENT_PENDING, Move.PAUSE), (SessionState.PAUSED, Move.ADMIT)):
        with pytest.raises(IllegalTransition):
            next_state(bad_state, bad_move)
