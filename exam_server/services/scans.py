"""Scan batches: scanned answer sheets in, responses on attempts and an exception queue out.

Flow: ``start_batch`` (API) saves the files under ``<data_dir>/scans/<batch id>/`` (a zip is
unpacked there), writes a ``scan_batches`` row and queues ``read_scan_batch`` after commit -> the
worker counts the pages (the progress total), then reads file by file, page by page
(``scan_read``: load -> read -> rectified page and crops as PNG), and records each page in its own
transaction (``record``): a duplicate (same exam, same content hash) is counted and dropped; the
service checks (wrong exam, wrong page, roster, duplicates) run; a good page is applied to the
candidate's attempt (``scan_apply``); any other page waits as an exception for a person
(``scan_resolve``). One bad file or page never aborts the batch; a crash of the job as a whole
marks the batch failed with the reason. A re-delivered job skips pages it already recorded.

The CLI (``exam scans import``) uses the same ``record`` with the reading done in the CLI
process or in child processes (``scan_read.read_path``).
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.db import enqueue_after_commit, session_scope
from exam_server.errors import Unprocessable
from exam_server.services import audit
from exam_server.services.scan_apply import (
    EXCEPTION,
    READ,
    PageProblem,
    apply_page,
    check_candidate,
    check_not_duplicated,
    identify,
    mark_absent,
    open_field_issues,
)
from exam_server.services.scan_read import (
    ArchiveError,
    ReadOutcome,
    ReadSetup,
    UnpackLimits,
    count_pages,
    read_file,
    scan_files,
    unpack_zip,
)
from exam_server.storage import FileStore
from models import AnswerSheet, Exam, ScanBatch, ScanPage, User
from omr.layout import BlockKind, BubbleBlock, SheetLayout
from omr.reading import PAGE_ISSUES, IssueCode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def store_for(data_dir: Path) -> FileStore:
    """Where rectified pages and crops go (content-addressed, beside item media)."""
    return FileStore(data_dir / "media")


def start_batch(session: Session, user: User, exam: Exam, files: list[Upload], layout: SheetLayout | None,
                data_dir: Path, now: datetime, limits: UnpackLimits | None = None) -> ScanBatch:
    """Save the files, write the batch and queue the reading after commit."""
    if not files:
        raise Unprocessable("files: upload at least one scan (images, TIFF, PDF or a zip of them)")
    batch = ScanBatch(exam_id=exam.id, uploaded_by=user.id, layout=layout.model_dump(mode="json") if layout else None,
                      status="queued", files=0, pages=0, done=0, read_ok=0, exceptions=0, duplicates=0,
                      input_dir="", created_at=now)
    session.add(batch)
    session.flush()
    folder = (data_dir / "scans" / str(batch.id)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        batch.files = len(save_files(folder, files, limits or UnpackLimits()))
    except ArchiveError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unprocessable(str(exc)) from exc
    batch.input_dir = str(folder)
    audit.record(session, user.id, "scans.uploaded", "exam", exam.id,
                 {"batch_id": batch.id, "files": batch.files, "third_party": layout is not None}, now)
    enqueue_after_commit(session, "read_scan_batch", batch.id)
    return batch


def save_files(folder: Path, files: list[Upload], limits: UnpackLimits) -> list[Path]:
    """Uploaded files under numbered names (names from clients are never paths); zips unpacked."""
    saved: list[Path] = []
    for index, upload in enumerate(files, start=1):
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.name).stem)[:60]
        if upload.data[:4] == b"PK\x03\x04":
            saved += unpack_zip(upload.data, folder, f"{index:04d}-{stem}", limits)
            continue
        suffix = Path(upload.name).suffix.lower()
        target = folder / f"{index:04d}-{stem}{suffix if re.fullmatch(r'[.][a-z0-9]{1,7}', suffix) else '.bin'}"
        target.write_bytes(upload.data)
        saved.append(target)
    return saved


# ---- recording one page (worker and CLI) -------------------------------------------------------

@dataclass
class Tally:
    pages: int = 0
    read: int = 0
    exceptions: int = 0
    duplicates: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, code: str | None) -> None:
        self.pages += 1
        if status == "duplicate":
            self.duplicates += 1
        elif status == EXCEPTION:
            self.exceptions += 1
            self.by_code[code or "?"] = self.by_code.get(code or "?", 0) + 1
        else:
            self.read += 1


def reading_json(outcome: ReadOutcome, crops: list[dict[str, Any]]) -> dict[str, Any] | None:
    reading = outcome.reading
    if reading is None:
        return None
    kinds = {b.id: b.kind.value for b in outcome.layout.bubble_blocks} if outcome.layout else {}
    code = outcome.code
    return {
        "layout_name": reading.layout_name, "page_no": reading.page_no, "rotation": reading.rotation,
        "px_per_mm": reading.px_per_mm, "admission_no": reading.admission_no,
        "admission_confidence": reading.admission_confidence, "absent": reading.absent,
        "code": None if code is None else {"exam_id": code.exam_id, "form": code.form, "page": code.page,
                                           "pages": code.pages, "candidate_id": code.candidate_id},
        "fields": {f.field: {"block": f.block, "kind": kinds.get(f.block, ""), "value": f.value,
                             "status": f.status.value, "confidence": round(f.confidence, 4),
                             "fills": {k: round(v, 4) for k, v in f.fills.items()}}
                   for f in reading.fields if kinds.get(f.block) in ("single", "multiple", "")},
        "issues": [{"code": i.code.value, "reason": i.reason, "field": i.field} for i in reading.issues],
        "quality": {k: round(float(v), 4) for k, v in reading.quality.items()},
        "crops": crops, "overrides": {}, "boxes": boxes(outcome.layout) if outcome.layout else {},
    }


def boxes(layout: SheetLayout) -> dict[str, list[float]]:
    """Areas (mm: x, y, width, height) a person looks at: "id" (the admission-number grid),
    "absent", and each question field's row of bubbles."""
    found: dict[str, list[float]] = {}

    def grow(key: str, block: BubbleBlock, fields: range, options: int) -> None:
        corners = [block.bubble_centre(f, o) for f in fields for o in (0, options - 1)]
        x0 = min(c[0] for c in corners) - block.bubble_width
        y0 = min(c[1] for c in corners) - block.bubble_height
        x1 = max(c[0] for c in corners) + block.bubble_width
        y1 = max(c[1] for c in corners) + block.bubble_height
        if key in found:
            ox, oy, ow, oh = found[key]
            x0, y0, x1, y1 = min(x0, ox), min(y0, oy), max(x1, ox + ow), max(y1, oy + oh)
        found[key] = [round(max(0.0, x0), 2), round(max(0.0, y0), 2), round(x1 - max(0.0, x0), 2),
                      round(y1 - max(0.0, y0), 2)]

    for block in layout.bubble_blocks:
        if block.kind in (BlockKind.DIGITS, BlockKind.ABSENT):
            key = "id" if block.kind == BlockKind.DIGITS else "absent"
            grow(key, block, range(len(block.fields)), len(block.labels))
            continue
        for index, name in enumerate(block.fields):
            grow(name, block, range(index, index + 1), len(block.options_of(index)))
    return found


Decided = tuple[str, str | None]


def record(session: Session, batch: ScanBatch, outcome: ReadOutcome, store: FileStore, now: datetime) -> Decided:
    """Store one page and decide it: ("duplicate" | "read" | "exception", issue code)."""
    existing = session.scalars(select(ScanPage).where(ScanPage.exam_id == batch.exam_id,
                                                      ScanPage.content_hash == outcome.content_hash)).first()
    if existing is not None:
        if existing.batch_id == batch.id:  # this job was delivered again: count what it decided then
            return existing.status, existing.issue_code
        return "duplicate", None
    image_sha = None
    if outcome.page_png:
        image_sha = store.put(outcome.page_png, f"{outcome.source}.png", "image/png")["sha256"]
    crops = [{"region_id": c.region_id, "kind": c.kind, "field": c.field,
              "sha256": store.put(c.png, f"{c.region_id}.png", "image/png")["sha256"]} for c in outcome.crops]
    code = outcome.code
    page = ScanPage(batch_id=batch.id, exam_id=batch.exam_id, content_hash=outcome.content_hash,
                    source=outcome.source[:300], status=EXCEPTION, reading=reading_json(outcome, crops),
                    image_sha256=image_sha, created_at=now,
                    form_label=(code.form or "") if code is not None else None,
                    page_no=code.page if code is not None else (outcome.reading.page_no if outcome.reading else None),
                    admission_no=outcome.reading.admission_no if outcome.reading else None)
    try:
        with session.begin_nested():
            session.add(page)
            session.flush()
    except IntegrityError:  # the same page raced in from another batch
        return "duplicate", None
    try:
        decide(session, page, outcome, batch.uploaded_by, now)
    except PageProblem as problem:
        page.status, page.issue_code, page.issue_reason, page.issue_field = (
            EXCEPTION, problem.code, problem.reason[:500], problem.field)
    return page.status, page.issue_code


def decide(session: Session, page: ScanPage, outcome: ReadOutcome, actor_id: int, now: datetime) -> None:
    """Checks in order; the first problem raises PageProblem, a good page is applied."""
    code = outcome.code
    if code is not None and code.exam_id != page.exam_id:
        raise PageProblem(IssueCode.WRONG_EXAM.value, f"the sheet's code names exam {code.exam_id}, this batch is "
                                                      f"for exam {page.exam_id}")
    if code is not None and outcome.layout is None:
        raise PageProblem(IssueCode.WRONG_PAGE.value, f"form {code.form or '-'} page {code.page} was not printed "
                                                      f"for exam {page.exam_id}")
    if outcome.failure is not None:
        raise PageProblem(outcome.failure.code.value, outcome.failure.reason, outcome.failure.field)
    check_page(session, page, actor_id, now)


def check_page(session: Session, page: ScanPage, actor_id: int | None, now: datetime) -> None:
    """The checks that also run again after a person's decision: reader issues, who, duplicates,
    field issues; then apply (or mark absent)."""
    reading = page.reading or {}
    if page.form_label is not None and page.page_no is not None:
        _check_printed(session, page)
    named = (reading.get("code") or {}).get("candidate_id") is not None
    blocking = [i for i in reading.get("issues", []) if i["code"] in PAGE_ISSUES
                and i["code"] not in (reading.get("waived") or [])
                # A number set by a person, or a named sheet (its QR says whose it is), needs no bubbles.
                and not (i["code"] == IssueCode.ID_UNREADABLE and (reading.get("admission_set") or named))]
    if blocking:
        raise PageProblem(blocking[0]["code"], blocking[0]["reason"], blocking[0].get("field"))
    user_id = identify(session, page)
    page.user_id = user_id
    check_candidate(session, page, user_id)  # locks the roster row: one page per candidate at a time
    check_not_duplicated(session, page, user_id)
    if reading.get("absent") and not _has_answers(reading) and not (reading.get("waived") or []):
        mark_absent(session, page.exam_id, user_id)
        page.status = READ if page.resolved_by is None else "resolved"
        return
    open_issues = open_field_issues(page)
    if open_issues and "fields" not in (reading.get("waived") or []):
        first = open_issues[0]
        raise PageProblem(first["code"], first["reason"], first["field"])
    notes = apply_page(session, page, user_id, actor_id, now)
    if notes:
        page.reading = {**reading, "notes": notes}


def _check_printed(session: Session, page: ScanPage) -> None:
    sheet = session.scalar(select(AnswerSheet.id).where(
        AnswerSheet.exam_id == page.exam_id, AnswerSheet.form_label == page.form_label,
        AnswerSheet.page_no == page.page_no))
    if sheet is None:
        raise PageProblem(IssueCode.WRONG_PAGE.value, f"form {page.form_label or '-'} page {page.page_no} was not "
                                                      f"printed for exam {page.exam_id}")


def _has_answers(reading: dict[str, Any]) -> bool:
    return any(f.get("value") for f in (reading.get("fields") or {}).values())


# ---- the worker's side ------------------------------------------------------------------------

def read_setup(session: Session, exam_id: int, third_party: dict[str, Any] | None) -> ReadSetup:
    """The exam's printed sheets by (form, page), and the batch's third-party layout."""
    layouts = {(s.form_label, s.page_no): SheetLayout.model_validate(s.layout)
               for s in session.scalars(select(AnswerSheet).where(AnswerSheet.exam_id == exam_id))}
    return ReadSetup(exam_id, layouts, SheetLayout.model_validate(third_party) if third_party else None)


def run(factory: sessionmaker[Session], clock: Clock, batch_id: int) -> None:
    with session_scope(factory) as session:
        batch = session.get(ScanBatch, batch_id)
        if batch is None or batch.status in ("done", "failed"):
            return
        batch.status, batch.done, batch.read_ok, batch.exceptions, batch.duplicates, batch.error = (
            "running", 0, 0, 0, 0, None)
        folder = Path(batch.input_dir)
        setup = read_setup(session, batch.exam_id, batch.layout)
    try:
        _read_all(factory, clock, batch_id, folder, setup, store_for(folder.parent.parent))
    except Exception as exc:  # noqa: BLE001 - the batch records why it failed; the page shows it
        log.exception("scan batch %s failed", batch_id)
        _set(factory, batch_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=clock())
        return
    _set(factory, batch_id, status="done", finished_at=clock())


def _read_all(factory: sessionmaker[Session], clock: Clock, batch_id: int, folder: Path, setup: ReadSetup,
              store: FileStore) -> None:
    files = scan_files(folder)
    _set(factory, batch_id, files=len(files), pages=sum(count_pages(p.read_bytes(), p.name) for p in files))
    for path in files:
        for outcome in read_file(path.read_bytes(), path.name, setup):
            record_in_own_transaction(factory, clock, batch_id, outcome, store)


def record_in_own_transaction(factory: sessionmaker[Session], clock: Clock, batch_id: int, outcome: ReadOutcome,
                              store: FileStore) -> tuple[str, str | None]:
    """Record one page and bump the batch's counts; a page that fails to record becomes an
    exception row with the reason instead of stopping the batch."""
    try:
        with session_scope(factory) as session:
            batch = session.get(ScanBatch, batch_id)
            assert batch is not None
            status, code = record(session, batch, outcome, store, clock())
    except Exception as exc:  # noqa: BLE001 - one page never aborts the batch
        log.exception("scan batch %s: page %s failed", batch_id, outcome.source)
        failed = ReadOutcome(outcome.source, outcome.content_hash, failure=None)
        status, code = _record_error(factory, clock, batch_id, failed, f"{type(exc).__name__}: {exc}")
    column = {"duplicate": ScanBatch.duplicates, EXCEPTION: ScanBatch.exceptions}.get(status, ScanBatch.read_ok)
    with session_scope(factory) as session:
        session.execute(update(ScanBatch).where(ScanBatch.id == batch_id)
                        .values({ScanBatch.done: ScanBatch.done + 1, column: column + 1}))
        session.execute(update(ScanBatch).where(ScanBatch.id == batch_id, ScanBatch.done > ScanBatch.pages)
                        .values(pages=ScanBatch.done))  # a page count that was short (a broken file)
    return status, code


def _record_error(factory: sessionmaker[Session], clock: Clock, batch_id: int, outcome: ReadOutcome,
                  reason: str) -> tuple[str, str | None]:
    with session_scope(factory) as session:
        batch = session.get(ScanBatch, batch_id)
        assert batch is not None
        if session.scalar(select(ScanPage.id).where(ScanPage.exam_id == batch.exam_id,
                                                    ScanPage.content_hash == outcome.content_hash)) is not None:
            return "duplicate", None
        session.add(ScanPage(batch_id=batch_id, exam_id=batch.exam_id, content_hash=outcome.content_hash,
                             source=outcome.source[:300], status=EXCEPTION, issue_code="unusable_image",
                             issue_reason=f"could not record this page: {reason}"[:500], created_at=clock()))
    return EXCEPTION, "unusable_image"


def _set(factory: sessionmaker[Session], batch_id: int, **values: Any) -> None:
    with session_scope(factory) as session:
        session.execute(update(ScanBatch).where(ScanBatch.id == batch_id).values(**values))

