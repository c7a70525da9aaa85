"""The seams between the live connection and the parts other modules provide.

* :func:`observe`: the rules engine (``exam_server.services.proctor_flags.observe``) turns a
  session's observations into flag changes, inside the caller's transaction.
* :func:`check_identity`: the face check (``exam_server.proctoring.identity.check_identity``)
  compares a live frame with the enrolled photo.

Each is looked up once, by module name: while a module is not installed the seam answers with
the safe default (no flags; identity goes to a proctor's manual check, never a silent block).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from models import ProctorSession
from proctoring.rules import FlagChange, Observation


@cache
def _provided(module: str, name: str) -> Any | None:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def observe(session: Session, ps: ProctorSession, observations: list[Observation],
            now: datetime) -> list[FlagChange]:
    """Flag changes caused by ``observations`` (stored by the rules engine in this transaction)."""
    rules = _provided("exam_server.services.proctor_flags", "observe")
    if rules is None or not observations:
        return []
    changes: list[FlagChange] = rules(session, ps, observations, now)
    return changes


@dataclass(frozen=True)
class IdentityOutcome:
    status: str  # proctoring.session.IdentityStatus: passed, failed, impossible, manual_pending
    distance: float | None = None
    reason: str | None = None


MANUAL = IdentityOutcome("manual_pending", None, "automatic identity check not available: a proctor checks by hand")


def check_identity(session: Session, ps: ProctorSession, jpeg: bytes, now: datetime) -> IdentityOutcome:
    """Compare ``jpeg`` with the candidate's enrolled photo (a read; no state change here)."""
    check = _provided("exam_server.proctoring.identity", "check_identity")
    if check is None:
        return MANUAL
    outcome = check(session, ps, jpeg, now)
    if isinstance(outcome, IdentityOutcome):
        return outcome
    return IdentityOutcome(str(getattr(outcome, "status", "manual_pending")), getattr(outcome, "distance", None),
                           getattr(outcome, "reason", None))
