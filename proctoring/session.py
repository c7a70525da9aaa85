"""The state machine of one proctoring session (one attempt), without a database.

States::

    consent_pending --consent(accepted)--> identity_pending         (exam requires an identity check)
    consent_pending --consent(accepted)--> active                   (no identity check required)
    consent_pending --consent(refused)--> manual_pending            (a proctor checks by hand; never a silent block)
    identity_pending --identity passed--> active
    identity_pending --identity failed / impossible--> manual_pending
    manual_pending --admit (proctor)--> active
    active --pause (proctor)--> paused --resume (proctor)--> active
    any state but ended --terminate (proctor)--> ended
    any state but ended --attempt closed (submitted, deadline)--> ended

``warn`` changes no state. An illegal move raises :class:`IllegalTransition` and changes nothing.
The candidate may answer only while ``active`` (the exam page shows a cover otherwise).
"""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    CONSENT_PENDING = "consent_pending"
    IDENTITY_PENDING = "identity_pending"
    MANUAL_PENDING = "manual_pending"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class IdentityStatus(StrEnum):
    UNCHECKED = "unchecked"
    PASSED = "passed"
    FAILED = "failed"  # a face, but not the enrolled one
    IMPOSSIBLE = "impossible"  # no enrolled photo, no face, several faces, no camera
    MANUAL_PENDING = "manual_pending"
    ADMITTED_MANUALLY = "admitted_manually"


class Move(StrEnum):
    CONSENT_ACCEPTED = "consent_accepted"
    CONSENT_REFUSED = "consent_refused"
    IDENTITY_PASSED = "identity_passed"
    IDENTITY_FAILED = "identity_failed"
    ADMIT = "admit"
    PAUSE = "pause"
    RESUME = "resume"
    TERMINATE = "terminate"
    CLOSE = "close"


class IllegalTransition(ValueError):
    def __init__(self, state: SessionState, move: Move) -> None:
        super().__init__(f"a proctoring session that is {state} cannot take '{move}'")
        self.state, self.move = state, move


_TABLE: dict[tuple[SessionState, Move], SessionState] = {
    (SessionState.CONSENT_PENDING, Move.CONSENT_REFUSED): SessionState.MANUAL_PENDING,
    (SessionState.IDENTITY_PENDING, Move.IDENTITY_PASSED): SessionState.ACTIVE,
    (SessionState.IDENTITY_PENDING, Move.IDENTITY_FAILED): SessionState.MANUAL_PENDING,
    (SessionState.MANUAL_PENDING, Move.ADMIT): SessionState.ACTIVE,
    (SessionState.IDENTITY_PENDING, Move.ADMIT): SessionState.ACTIVE,
    (SessionState.ACTIVE, Move.PAUSE): SessionState.PAUSED,
    (SessionState.PAUSED, Move.RESUME): SessionState.ACTIVE,
}


def start_state() -> SessionState:
    return SessionState.CONSENT_PENDING


def next_state(state: SessionState, move: Move, *, identity_required: bool = True) -> SessionState:
    """The state after ``move``; raises :class:`IllegalTransition` when the move is not allowed."""
    if move in (Move.TERMINATE, Move.CLOSE):
        if state == SessionState.ENDED:
            raise IllegalTransition(state, move)
        return SessionState.ENDED
    if state == SessionState.CONSENT_PENDING and move == Move.CONSENT_ACCEPTED:
        return SessionState.IDENTITY_PENDING if identity_required else SessionState.ACTIVE
    target = _TABLE.get((state, move))
    if target is None:
        raise IllegalTransition(state, move)
    return target


def may_answer(state: SessionState) -> bool:
    return state == SessionState.ACTIVE
