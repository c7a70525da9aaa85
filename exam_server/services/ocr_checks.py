"""Machine readings check people: a human mark far from the machine's is flagged for the lead.

Called when a mark is submitted. A blank unit compares every blank's mark with the machine's score
of that blank (:func:`grading.ocr.checks.check_blank_mark`); any other unit compares the total
with the digits read from the handwritten score box of the slot, when the sheet had one
(:func:`grading.ocr.check_human_score`). The outcome is stored on the mark (``data``:
``machine_check``) and listed for the lead; the mark is never refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.services import marking_groups
from exam_server.services.marking_groups import PaperEntry
from grading.marking_groups import blank_criteria
from grading.ocr import OcrReading, ReadingStatus, RouteReason, check_human_score
from grading.ocr.checks import check_blank_mark, machine_blank_score
from models import CropReading, MarkingTask, MarkingUnit

FAILED_REASONS = frozenset({RouteReason.CORRUPT_CROP.value, RouteReason.MODEL_FAILURE.value})


def reading_of(row: CropReading) -> OcrReading:
    """The stored reading back as the reader gave it (for the score-box check)."""
    if row.reason == RouteReason.BLANK.value:
        status = ReadingStatus.BLANK
    elif row.reason in FAILED_REASONS:
        status = ReadingStatus.FAILED
    else:
        status = ReadingStatus.READ
    reason = RouteReason(row.reason) if status is ReadingStatus.FAILED and row.reason else None
    return OcrReading(row.text, float(row.confidence), (), status, reason, row.detail)


def check_mark(session: Session, task: MarkingTask, unit: MarkingUnit, entries: Sequence[PaperEntry],
               score: float, criteria: Sequence[float] | None) -> dict[str, Any] | None:
    """``{"machine_check": {"flagged": ..., "checks": [...]}}`` for the mark's data, or None when
    the machine read nothing it could check this mark with."""
    rows = list(session.scalars(select(CropReading).where(CropReading.attempt_id == task.attempt_id,
                                                          CropReading.slot_id.in_(unit.slot_ids))))
    if not rows:
        return None
    tolerance = float(unit.tolerance)
    if marking_groups.is_blank_unit(entries) and criteria is not None:
        checks = _blank_checks(rows, entries, criteria, tolerance)
    else:
        checks = _score_box_checks(rows, score, tolerance)
    if not checks:
        return None
    return {"machine_check": {"flagged": any(c["flagged"] for c in checks), "checks": checks}}


def _blank_checks(rows: list[CropReading], entries: Sequence[PaperEntry], criteria: Sequence[float],
                  tolerance: float) -> list[dict[str, Any]]:
    by_blank = {(r.slot_id, r.blank_index or 0): r for r in rows if r.decision != "check"}
    names = blank_criteria(marking_groups.group_slots(entries))
    out: list[dict[str, Any]] = []
    at = 0
    for entry in entries:
        for b in range(marking_groups.blanks_of(entry.item)):
            row, criterion, human = by_blank.get((entry.slot.id, b)), names[at], float(criteria[at])
            at += 1
            if row is None:
                continue
            machine = machine_blank_score(row.decision, row.reason, row.fraction, criterion.max_points)
            result = check_blank_mark(human, machine, tolerance, row.reason)
            if result.machine is None:
                continue
            out.append({"blank": criterion.name, "human": human, "machine": result.machine, "read": row.text,
                        "flagged": result.flagged, "detail": result.detail, "reading_id": row.id})
    return out


def _score_box_checks(rows: list[CropReading], score: float, tolerance: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.decision != "check":
            continue
        result = check_human_score(score, reading_of(row), tolerance)
        if result.machine is None and not result.flagged:
            continue  # nothing the machine could trust
        out.append({"blank": None, "human": score, "machine": result.machine, "read": row.text,
                    "flagged": result.flagged, "detail": result.detail, "reading_id": row.id})
    return out


def routed_reasons(session: Session, attempt_id: int, slot_ids: Sequence[int]) -> list[str]:
    """Why the machine sent this candidate's blanks of these slots to a person (low_confidence,
    no_match, corrupt_crop, model_failure, unsupported …), in order, without what it read."""
    rows = session.execute(select(CropReading.reason).where(
        CropReading.attempt_id == attempt_id, CropReading.slot_id.in_(list(slot_ids)),
        CropReading.decision == "person").order_by(CropReading.slot_id, CropReading.blank_index))
    return [reason or "unknown" for (reason,) in rows]
