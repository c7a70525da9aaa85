"""Who marks a unit: markers with quotas, the lead marker, and the unit's mode and tolerance.

Whoever manages the exam (:func:`permissions.may_manage_exam`) sets these. A marker must be on the
exam's staff with the ``marker`` duty: :func:`assign_marker` adds them there when needed, through
:func:`exams.assign_staff` (same role and school rules as ``POST /api/exams/{id}/staff``).

* A unit with no assignments is open to every marker of the exam; assigning narrows it.
* Removing a marker keeps every mark they gave (marks are append-only) and frees the scripts they
  held in their batch. Removing the last assigned marker is refused while other tasks wait: the
  unit would silently open to every marker of the exam; assign someone else first.
* Mode and tolerance change only before the unit's first mark, since the marks already given were
  combined under the old rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server.errors import Forbidden, InvalidScore, MarkingRefused, NotFound, Unprocessable
from exam_server.permissions import Cap, may_manage_exam, may_see_marking, role_may
from exam_server.services import audit
from exam_server.services.exams import assign_staff
from exam_server.services.marking import get_unit, unit_rules
from grading.errors import GradingError
from grading.marking import MarkingMode, TaskStatus
from models import Exam, ExamDuty, MarkingAssignment, MarkingMark, MarkingTask, MarkingUnit, User


def managed_unit(session: Session, user: User, unit_id: int) -> tuple[MarkingUnit, Exam]:
    unit, exam = get_unit(session, unit_id)
    if not may_manage_exam(session, user, exam):
        if may_see_marking(session, user, exam):
            raise Forbidden(f"marking unit {unit_id}: only whoever manages the exam assigns its markers")
        raise NotFound(f"marking unit {unit_id} does not exist")
    return unit, exam


def _as_marker(session: Session, exam: Exam, user_id: int) -> User:
    """The user, on the exam's staff as a marker (added when missing)."""
    assign_staff(session, exam, user_id, ExamDuty.MARKER)
    member = session.get(User, user_id)
    assert member is not None  # assign_staff refuses unknown users
    if not role_may(member.role, Cap.MARK_ANSWERS):
        raise Unprocessable(f"user_id: a {member.role} cannot mark")
    return member


def _check_quota(quota: int | None) -> None:
    if quota is not None and quota < 0:
        raise Unprocessable(f"quota: at least 0 scripts (or none for no limit), got {quota}")


def assign_marker(session: Session, user: User, unit_id: int, marker_id: int, quota: int | None,
                  now: datetime) -> dict[str, Any]:
    unit, exam = managed_unit(session, user, unit_id)
    _check_quota(quota)
    _as_marker(session, exam, marker_id)
    row = session.get(MarkingAssignment, (unit.id, marker_id))
    if row is None:
        row = MarkingAssignment(unit_id=unit.id, user_id=marker_id, quota=quota)
        session.add(row)
    row.quota = quota
    audit.record(session, user.id, "marking.marker_assigned", "marking_unit", unit.id,
                 {"user_id": marker_id, "quota": quota}, now)
    session.flush()
    return {"unit_id": unit.id, "user_id": marker_id, "quota": quota}


def set_quota(session: Session, user: User, unit_id: int, marker_id: int, quota: int | None,
              now: datetime) -> dict[str, Any]:
    unit, _ = managed_unit(session, user, unit_id)
    _check_quota(quota)
    row = session.get(MarkingAssignment, (unit.id, marker_id))
    if row is None:
        raise NotFound(f"user {marker_id} is not a marker of unit {unit.id}")
    old, row.quota = row.quota, quota
    audit.record(session, user.id, "marking.quota_changed", "marking_unit", unit.id,
                 {"user_id": marker_id, "old": old, "new": quota}, now)
    session.flush()
    return {"unit_id": unit.id, "user_id": marker_id, "quota": quota}


def remove_marker(session: Session, user: User, unit_id: int, marker_id: int, now: datetime) -> dict[str, Any]:
    unit, _ = managed_unit(session, user, unit_id)
    row = session.get(MarkingAssignment, (unit.id, marker_id))
    if row is None:
        raise NotFound(f"user {marker_id} is not a marker of unit {unit.id}")
    others = session.scalar(select(func.count()).select_from(MarkingAssignment).where(
        MarkingAssignment.unit_id == unit.id, MarkingAssignment.user_id != marker_id)) or 0
    waiting = session.scalar(select(func.count()).select_from(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingTask.state != TaskStatus.DONE)) or 0
    if not others and waiting:
        raise MarkingRefused(f"marking unit {unit.id}: user {marker_id} is its last assigned marker and {waiting} "
                             "scripts still wait; without assignments the unit opens to every marker of the exam. "
                             "Assign another marker first")
    session.delete(row)
    freed = session.execute(select(MarkingTask).where(MarkingTask.unit_id == unit.id,
                                                      MarkingTask.leased_by == marker_id)).scalars().all()
    for task in freed:  # their batch goes back to the queue; what they marked stays
        task.leased_by, task.lease_expires_at = None, None
    kept = session.scalar(select(func.count()).select_from(MarkingMark).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingMark.marker_id == marker_id)) or 0
    audit.record(session, user.id, "marking.marker_removed", "marking_unit", unit.id,
                 {"user_id": marker_id, "marks_kept": int(kept), "freed": len(freed)}, now)
    session.flush()
    return {"unit_id": unit.id, "user_id": marker_id, "marks_kept": int(kept), "freed": len(freed)}


def set_lead(session: Session, user: User, unit_id: int, lead_id: int | None, now: datetime) -> dict[str, Any]:
    """The unit's lead marker (arbitration, problems, quality); None: whoever manages the exam."""
    unit, exam = managed_unit(session, user, unit_id)
    if lead_id is not None:
        _as_marker(session, exam, lead_id)
    old, unit.lead_marker_id = unit.lead_marker_id, lead_id
    audit.record(session, user.id, "marking.lead_set", "marking_unit", unit.id, {"old": old, "new": lead_id}, now)
    session.flush()
    return {"unit_id": unit.id, "lead_marker_id": lead_id}


def set_rules(session: Session, user: User, unit_id: int, mode: MarkingMode | None, tolerance: float | None,
              now: datetime) -> dict[str, Any]:
    """Mode and tolerance, only before the unit's first mark."""
    unit, _ = managed_unit(session, user, unit_id)
    marks = session.scalar(select(func.count()).select_from(MarkingMark).join(MarkingTask)
                           .where(MarkingTask.unit_id == unit.id)) or 0
    if marks:
        raise MarkingRefused(f"marking unit {unit.id}: marking has started ({marks} marks); its mode and tolerance "
                             "no longer change")
    old = {"mode": unit.mode, "tolerance": unit.tolerance}
    if mode is not None:
        unit.mode = mode.value
    if tolerance is not None:
        unit.tolerance = tolerance
    try:
        unit_rules(session, unit)
    except GradingError as exc:
        raise InvalidScore(f"marking unit {unit.id}: {exc}") from exc
    new = {"mode": unit.mode, "tolerance": unit.tolerance}
    audit.record(session, user.id, "marking.rules_set", "marking_unit", unit.id, {"old": old, "new": new}, now)
    session.flush()
    return {"unit_id": unit.id, **new}
