"""OCR as a reader in marking: scanned fill-in blanks read by the machine in a worker job.

Flow: a scanned page with blank (or score-box) crops is applied to the attempt (``scan_apply``),
which queues ``read_crops`` after commit -> the worker (:func:`run`) reads every crop of the
attempt that has no reading of its current image yet, outside any transaction (ONNX is the slow
part), then in one short transaction records a :class:`models.CropReading` per crop and decides:

* a confident reading matching an accepted answer (the registry's fill_blank rules: case,
  alternatives, wildcards; numeric: tolerance) scores the blank; an empty box scores 0 and is
  listed for audit (:func:`grading.ocr.decide_blank`);
* anything else (low confidence, no match, a corrupt image, an OCR exception, a type the machine
  has no rule for) sends the slot to a person with the reason.

A slot whose blanks were all scored by the machine gets a ``machine_graded`` step (the readings,
confidences, model) that grading replays like a person's mark; a person's mark always wins. Then
the attempt is graded again, slots still waiting for a person are set ``needs_manual`` and the
marking units covering them get their tasks. One failing crop never aborts the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import grading
from exam_server.clock import Clock
from exam_server.db import session_scope
from exam_server.errors import NotFound
from exam_server.services import attempts, marking, marking_groups, scan_apply
from exam_server.services.scans import store_for
from exam_server.storage import FileStore
from grading.ocr import DEFAULT_THRESHOLD, Action, OcrReading, ReadingStatus, RouteReason, decide_blank, parse_number
from grading.ocr import read_digits as ocr_digits
from grading.ocr import read_text as ocr_text
from grading.ocr.reader import MODEL_FILE, failed
from models import (
    AnswerCrop,
    Attempt,
    AttemptState,
    AttemptStep,
    CropReading,
    MarkingUnit,
    ScanBatch,
    ScanPage,
    StepKind,
)

log = logging.getLogger(__name__)
MODEL_NAME = f"rapidocr 3.10.0 {MODEL_FILE}"
READ_KINDS = ("blank", "score_box")
FRAME_SHARE = 0.04  # of the crop's short side, at least 2 px: the printed frame stripped before reading
_DIGITS_ONLY = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class CropJob:
    crop_id: int
    sha256: str
    kind: str  # blank, score_box
    slot_id: int | None
    blank: int
    item_type: str
    definition: dict[str, Any]
    digits: bool  # read with the digits-only decoder


@dataclass(frozen=True)
class Verdict:
    decision: str  # scored, blank, person, check
    reason: str | None
    fraction: float | None
    detail: str


# ---- the job -------------------------------------------------------------------------------------

def run(factory: sessionmaker[Session], clock: Clock, attempt_id: int) -> None:
    with session_scope(factory) as session:
        todo, store = plan(session, attempt_id)
    readings = {job.crop_id: read_one(job, store) for job in todo}
    with session_scope(factory) as session:
        record(session, attempt_id, todo, readings, clock())


def plan(session: Session, attempt_id: int) -> tuple[list[CropJob], FileStore | None]:
    """The attempt's crops to read (no reading of their current image yet) and where images are."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return [], None
    crops = list(session.scalars(select(AnswerCrop).where(
        AnswerCrop.exam_id == attempt.exam_id, AnswerCrop.user_id == attempt.user_id,
        AnswerCrop.kind.in_(READ_KINDS)).order_by(AnswerCrop.id)))
    done = {(r.crop_id, r.image_sha256) for r in session.scalars(
        select(CropReading).where(CropReading.attempt_id == attempt_id))}
    catalog = attempts.SlotCatalog()
    todo = []
    definition: dict[str, Any]
    for crop in crops:
        if (crop.id, crop.image_sha256) in done:
            continue
        item_type, definition = "", {}  # an unmapped crop: no rule, a person reads it
        if crop.slot_id is not None:
            try:
                item_type, definition = catalog.item_for(session, attempt, crop.slot_id)
            except NotFound:  # a slot not on the candidate's paper: no rule applies, a person looks
                log.warning("crop %s: slot %s is not on attempt %s's paper", crop.id, crop.slot_id, attempt_id)
        index = marking_groups.blank_index(crop.field)
        todo.append(CropJob(crop.id, crop.image_sha256, crop.kind, crop.slot_id, index, item_type, definition,
                            crop.kind == "score_box" or _numeric_answers(item_type, definition, index)))
    return todo, _store(session, crops[0]) if crops else None


def _store(session: Session, crop: AnswerCrop) -> FileStore | None:
    """The file store the scan batch wrote the crops to (``<data_dir>/media``)."""
    folder = session.scalar(select(ScanBatch.input_dir).join(ScanPage, ScanPage.batch_id == ScanBatch.id)
                            .where(ScanPage.id == crop.scan_page_id))
    return store_for(Path(folder).parent.parent) if folder else None


def _numeric_answers(item_type: str, definition: dict[str, Any], index: int) -> bool:
    """Every accepted answer is an unsigned number: the digits-only decoder reads it better."""
    if item_type == "numeric":
        return all(isinstance(a.get("value"), int | float) and a["value"] >= 0 for a in definition.get("answers", []))
    if item_type != "fill_blank":
        return False
    blanks = definition.get("blanks") or []
    answers = blanks[index].get("answers", []) if index < len(blanks) else []
    return bool(answers) and all(_DIGITS_ONLY.fullmatch(str(a.get("text", "")).strip()) for a in answers)


def read_one(job: CropJob, store: FileStore | None) -> OcrReading:
    """The crop's reading; a missing image or any exception of the reader becomes a FAILED reading."""
    try:
        if store is None:
            return failed(RouteReason.CORRUPT_CROP, "the crop's scan batch (and its file store) is gone")
        crop = strip_frame(store.get(job.sha256))
        return ocr_digits(crop) if job.digits else ocr_text(crop)
    except Exception as exc:  # noqa: BLE001 - one crop never aborts the others; a person reads it
        log.exception("OCR of crop %s failed", job.crop_id)
        return failed(RouteReason.MODEL_FAILURE, f"{type(exc).__name__}: {exc}"[:400])


def strip_frame(data: bytes) -> Any:
    """The crop without the box's printed frame. The scan cuts a region exactly at its frame, so
    after rectification 1-2 px of frame line sit on the crop's edges, and the reader took a left
    one for a leading '1' (measured on tests/test_ocr_marking.py's sheets: '17' read as '117' at
    0.981; with the edge stripped, '17' at 0.9999). Bytes that do not decode go to the reader as
    they are (it names them a corrupt crop)."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) if data else None
    if image is None:
        return data
    k = max(2, round(min(image.shape) * FRAME_SHARE))
    if min(image.shape) <= 4 * k:
        return image
    return np.ascontiguousarray(image[k:-k, k:-k])


# ---- deciding ------------------------------------------------------------------------------------

def verdict(job: CropJob, reading: OcrReading) -> Verdict:
    if job.kind == "score_box":
        reason = reading.reason.value if reading.reason else (
            RouteReason.BLANK.value if reading.status is ReadingStatus.BLANK else None)
        return Verdict("check", reason, None, reading.detail)
    if job.item_type == "fill_blank":
        blanks = job.definition.get("blanks") or []
        if job.blank >= len(blanks):
            return Verdict("person", "no_such_blank", None, f"the item has {len(blanks)} blank(s)")
        decision = decide_blank(reading, blanks[job.blank])
        if decision.action is Action.SCORE:
            blank = decision.reason is RouteReason.BLANK
            return Verdict("blank" if blank else "scored", decision.reason.value if blank and decision.reason else None,
                           decision.fraction, decision.detail)
        return Verdict("person", decision.reason.value if decision.reason else None, None, decision.detail)
    if job.item_type == "numeric":
        return _numeric(job, reading)
    return Verdict("person", "unsupported", None, f"no machine rule for a {job.item_type or 'unmapped'} blank")


def _numeric(job: CropJob, reading: OcrReading) -> Verdict:
    if reading.status is ReadingStatus.BLANK:
        return Verdict("blank", RouteReason.BLANK.value, 0.0, reading.detail)
    if reading.status is ReadingStatus.FAILED:
        return Verdict("person", (reading.reason or RouteReason.MODEL_FAILURE).value, None, reading.detail)
    if not reading.text or reading.confidence < DEFAULT_THRESHOLD:
        return Verdict("person", RouteReason.LOW_CONFIDENCE.value, None,
                       f"read {reading.text!r} at confidence {reading.confidence:.3f} < {DEFAULT_THRESHOLD}")
    value = parse_number(reading.text)
    if value is None:
        return Verdict("person", RouteReason.NOT_A_NUMBER.value, None, f"read {reading.text!r}")
    fraction = grading.grade("numeric", job.definition, value).fraction or 0.0
    if fraction <= 0:
        return Verdict("person", RouteReason.NO_MATCH.value, None, f"read {reading.text!r}")
    return Verdict("scored", None, fraction, f"read {reading.text!r}")


# ---- recording -----------------------------------------------------------------------------------

def record(session: Session, attempt_id: int, todo: list[CropJob], readings: dict[int, OcrReading],
           now: datetime) -> None:
    if session.get(Attempt, attempt_id) is None:
        return
    attempt = attempts.lock_attempt(session, attempt_id)  # two jobs of one attempt record one after the other
    for job in todo:
        reading = readings[job.crop_id]
        _save(session, attempt, job, reading, verdict(job, reading), now)
    session.flush()
    touched = {job.slot_id for job in todo if job.slot_id is not None and job.kind == "blank"}
    human = attempts.manual_fractions(session, attempt_id)
    for slot_id in sorted(touched - set(human)):
        _machine_step(session, attempt, slot_id, now)
    settle(session, attempt_id, now)
    _sync_units(session, attempt.exam_id, touched, now)


def _save(session: Session, attempt: Attempt, job: CropJob, reading: OcrReading, v: Verdict, now: datetime) -> None:
    row = session.scalar(select(CropReading).where(CropReading.crop_id == job.crop_id))
    if row is None:
        row = CropReading(crop_id=job.crop_id, exam_id=attempt.exam_id, attempt_id=attempt.id, created_at=now)
        session.add(row)
    row.slot_id, row.blank_index, row.image_sha256 = job.slot_id, job.blank, job.sha256
    row.decision, row.reason, row.fraction = v.decision, v.reason, v.fraction
    row.text, row.confidence, row.model = reading.text[:200], float(reading.confidence), MODEL_NAME
    row.detail, row.updated_at = (v.detail or reading.detail)[:500], now


def _machine_step(session: Session, attempt: Attempt, slot_id: int, now: datetime) -> None:
    """A ``machine_graded`` step when every blank of the slot was scored by the machine."""
    rows = {r.blank_index or 0: r for r in session.scalars(select(CropReading).where(
        CropReading.attempt_id == attempt.id, CropReading.slot_id == slot_id, CropReading.decision != "check"))}
    item_type, definition = attempts.SlotCatalog().item_for(session, attempt, slot_id)
    n = max(1, len(definition.get("blanks") or [])) if item_type == "fill_blank" else 1
    decided = [rows.get(b) for b in range(n)]
    if any(r is None or r.decision not in ("scored", "blank") or r.fraction is None for r in decided):
        if slot_id in attempts.manual_fractions(session, attempt.id, StepKind.MACHINE_GRADED):
            # A new image (a page chosen over another) the machine cannot score: its old score goes.
            session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.MACHINE_GRADED, slot_id=slot_id,
                                    actor_id=None, created_at=now, data={"fraction": None, "withdrawn": True,
                                                                         "model": MODEL_NAME}))
        return
    fractions = [float(r.fraction or 0.0) for r in decided if r is not None]
    session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.MACHINE_GRADED, slot_id=slot_id, actor_id=None,
                            created_at=now, data={
                                "fraction": round(sum(fractions) / n, 6), "model": MODEL_NAME,
                                "blanks": [{"blank": b, "read": r.text, "confidence": r.confidence,
                                            "decision": r.decision, "fraction": r.fraction, "reading_id": r.id}
                                           for b, r in enumerate(decided) if r is not None]}))


def settle(session: Session, attempt_id: int, now: datetime) -> None:
    """Grade the attempt again with the machine's and people's marks; crops still waiting keep it open."""
    attempt = attempts.lock_attempt(session, attempt_id)
    if attempt.state == AttemptState.GRADED:
        attempt.state = AttemptState.SUBMITTED
    attempts.grade(session, attempt_id, now)
    scan_apply.mark_waiting_crops(session, attempt, now)


def _sync_units(session: Session, exam_id: int, slots: set[int], now: datetime) -> None:
    for unit in session.scalars(select(MarkingUnit).where(MarkingUnit.exam_id == exam_id).order_by(MarkingUnit.id)):
        if slots & set(unit.slot_ids):
            marking.sync_tasks(session, unit, now)
