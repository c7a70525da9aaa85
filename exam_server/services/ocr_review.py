"""What people see of the machine's work in marking: crop images, the audit list, flags, overrides.

* :func:`task_crop` serves a task's n-th crop to whoever may mark or lead its unit (anyone else:
  404). The URL names the task by its opaque token, never the candidate.
* :func:`machine_list` lists the blanks the machine scored (``scored``) or scored 0 as empty
  (``blank``) for the lead to glance at; :func:`review` sends one to the lead's problem queue so
  the override is a human mark through the normal path (arbitration of a problem task), which
  then wins over the machine's mark.
* :func:`flags` lists human marks the machine disagreed with (``services/ocr_checks.py``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.errors import BadRequest, MarkingRefused, NotFound
from exam_server.permissions import may_lead_marking, may_manage_exam
from exam_server.services import audit, marking, marking_groups
from exam_server.services.scans import store_for
from exam_server.storage import sniff_media_type
from grading.marking import TaskStatus
from models import AnswerCrop, CropReading, Exam, MarkingMark, MarkingTask, MarkingUnit, User

DECISIONS = ("scored", "blank")
REVIEW_REASON = "machine score under review"


def _image(data_dir: Any, crop: AnswerCrop) -> tuple[bytes, str]:
    data = store_for(data_dir).get(crop.image_sha256)
    return data, sniff_media_type(data)


def task_crop(session: Session, user: User, token: str, n: int, data_dir: Any) -> tuple[bytes, str]:
    """The n-th crop of a task (the unit's order) for one who may mark or lead the unit."""
    task = session.scalar(select(MarkingTask).where(MarkingTask.token == token))
    if task is None:
        raise NotFound(f"marking task {token!r} does not exist")
    unit, exam = marking.get_unit(session, task.unit_id)
    if not (marking.may_mark_unit(session, user, unit, exam)
            or may_lead_marking(session, user, exam, unit.lead_marker_id)):
        raise NotFound(f"marking task {token!r} does not exist")
    crops = marking_groups.task_crops(session, unit, task.attempt_id)
    if not 0 <= n < len(crops):
        raise NotFound(f"marking task {token!r} has {len(crops)} crop(s); there is no crop {n}")
    return _image(data_dir, crops[n])


def _led_units(session: Session, user: User, exam: Exam) -> tuple[bool, list[MarkingUnit]]:
    manager = may_manage_exam(session, user, exam)
    units = list(session.scalars(select(MarkingUnit).where(MarkingUnit.exam_id == exam.id).order_by(MarkingUnit.id)))
    led = [u for u in units if manager or may_lead_marking(session, user, exam, u.lead_marker_id)]
    if not manager and not led:
        raise NotFound(f"exam {exam.id} does not exist")
    return manager, led


def machine_list(session: Session, user: User, exam: Exam, decision: str | None) -> list[dict[str, Any]]:
    """Blanks the machine scored (or scored 0 as empty) in the units this user leads (managers: all)."""
    if decision is not None and decision not in DECISIONS:
        raise BadRequest(f"decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    manager, units = _led_units(session, user, exam)
    unit_of = {slot_id: u for u in units for slot_id in u.slot_ids}
    rows = session.scalars(select(CropReading).where(
        CropReading.exam_id == exam.id, CropReading.decision.in_([decision] if decision else DECISIONS))
        .order_by(CropReading.slot_id, CropReading.blank_index, CropReading.id))
    out = []
    for row in rows:
        unit = unit_of.get(row.slot_id or 0)
        if unit is None and not manager:
            continue
        out.append({"id": row.id, "unit_id": unit.id if unit else None, "unit": unit.name if unit else None,
                    "slot_id": row.slot_id, "blank": (row.blank_index or 0) + 1, "decision": row.decision,
                    "reason": row.reason, "read": row.text, "confidence": row.confidence, "model": row.model,
                    "fraction": row.fraction, "detail": row.detail, "image": f"/api/marking/readings/{row.id}/image"})
    return out


def _reading(session: Session, user: User, reading_id: int) -> tuple[CropReading, Exam, MarkingUnit | None]:
    row = session.get(CropReading, reading_id)
    exam = session.get(Exam, row.exam_id) if row is not None else None
    if row is None or exam is None:
        raise NotFound(f"machine reading {reading_id} does not exist")
    unit = session.scalars(select(MarkingUnit).where(MarkingUnit.exam_id == exam.id)).all()
    covering = next((u for u in unit if row.slot_id in u.slot_ids), None)
    lead = may_lead_marking(session, user, exam, covering.lead_marker_id if covering else None)
    if not lead:
        raise NotFound(f"machine reading {reading_id} does not exist")
    return row, exam, covering


def reading_image(session: Session, user: User, reading_id: int, data_dir: Any) -> tuple[bytes, str]:
    row, _exam, _unit = _reading(session, user, reading_id)
    crop = session.get(AnswerCrop, row.crop_id)
    if crop is None:
        raise NotFound(f"machine reading {reading_id}: its crop is gone")
    return _image(data_dir, crop)


def review(session: Session, user: User, reading_id: int, now: datetime) -> dict[str, Any]:
    """Send a machine-scored blank to the unit's problem queue; the lead's mark there overrides it."""
    row, exam, unit = _reading(session, user, reading_id)
    if unit is None:
        raise BadRequest(f"machine reading {reading_id}: no marking unit covers its question; create the "
                         "exam's marking units first")
    task = session.scalar(select(MarkingTask).where(MarkingTask.unit_id == unit.id,
                                                    MarkingTask.attempt_id == row.attempt_id).with_for_update())
    if task is not None and task.state == TaskStatus.DONE:
        raise MarkingRefused(f"machine reading {reading_id}: a person has already marked this answer (regrade to "
                             "change it)")
    if task is None:
        crops = marking_groups.task_crops(session, unit, row.attempt_id)
        task = MarkingTask(token=secrets.token_hex(16), unit_id=unit.id, attempt_id=row.attempt_id,
                           crop_id=crops[0].id if crops else None, state=TaskStatus.PROBLEM,
                           resume_state=TaskStatus.WAITING_FIRST, problem=f"{REVIEW_REASON}: read {row.text!r}"[:300],
                           created_at=now, updated_at=now)
        session.add(task)
        session.flush()
        audit.record(session, user.id, "marking.machine_review", "marking_task", task.id,
                     {"unit_id": unit.id, "reading_id": row.id, "decision": row.decision}, now)
    return {"token": task.token, "state": task.state, "unit_id": unit.id, "exam_id": exam.id}


def flags(session: Session, user: User, exam: Exam) -> list[dict[str, Any]]:
    """Human marks far from the machine's reading, in the units this user leads (managers: all)."""
    _manager, units = _led_units(session, user, exam)
    names = {u.id: u.name for u in units}
    rows = session.execute(select(MarkingMark, MarkingTask.token, MarkingTask.unit_id)
                           .join(MarkingTask, MarkingTask.id == MarkingMark.task_id)
                           .where(MarkingTask.unit_id.in_(list(names)), MarkingMark.data.is_not(None))
                           .order_by(MarkingMark.id))
    out = []
    for mark, token, unit_id in rows:
        check = (mark.data or {}).get("machine_check") or {}
        if check.get("flagged"):
            out.append({"token": token, "unit_id": unit_id, "unit": names[unit_id], "round": mark.round,
                        "marker_id": mark.marker_id, "score": mark.score,
                        "checks": [c for c in check.get("checks", []) if c.get("flagged")]})
    return out
