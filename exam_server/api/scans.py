"""Scanned answer sheets: upload a batch (a worker job), follow it, work the exception queue."""

from datetime import datetime
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server.deps import RuntimeDep, ScanDep, SessionDep, atomic
from exam_server.errors import NotFound, PayloadTooLarge, ScanLayoutInvalid
from exam_server.permissions import may_scan_exam
from exam_server.services import scan_overlay, scan_resolve, scans
from exam_server.services.scan_read import UnpackLimits
from models import AnswerSheet, Exam, ScanBatch, ScanPage, User
from omr.layout import LayoutFileError, SheetLayout, parse_layout

router = APIRouter(tags=["scanning"])
MAX_LAYOUT_BYTES = 1024 * 1024
MAX_BATCH_PAGES_LISTED = 2000


class PageRow(BaseModel):
    id: int
    source: str
    status: str = Field(description="read, exception, resolved or discarded")
    issue_code: str | None
    admission_no: str | None
    user_id: int | None


class ScanBatchOut(BaseModel):
    id: int
    exam_id: int
    status: str = Field(description="queued, running, done or failed")
    files: int
    pages: int = Field(description="pages counted in the files (the progress total)")
    done: int = Field(description="pages recorded so far")
    read_ok: int
    exceptions: int
    duplicates: int
    third_party: bool
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    page_list: list[PageRow] | None = Field(None, description="per page, on GET /api/scan-batches/{id}")

    @classmethod
    def of(cls, batch: ScanBatch, pages: list[ScanPage] | None = None) -> "ScanBatchOut":
        rows = None if pages is None else [PageRow(id=p.id, source=p.source, status=p.status, issue_code=p.issue_code,
                                                   admission_no=p.admission_no, user_id=p.user_id) for p in pages]
        return cls(id=batch.id, exam_id=batch.exam_id, status=batch.status, files=batch.files, pages=batch.pages,
                   done=batch.done, read_ok=batch.read_ok, exceptions=batch.exceptions, duplicates=batch.duplicates,
                   third_party=batch.layout is not None, error=batch.error, created_at=batch.created_at,
                   finished_at=batch.finished_at, page_list=rows)


class ScanPageOut(BaseModel):
    id: int
    batch_id: int
    exam_id: int
    source: str
    status: str
    issue_code: str | None
    issue_reason: str | None
    issue_field: str | None
    form_label: str | None
    page_no: int | None
    admission_no: str | None
    user_id: int | None
    reading: dict[str, Any] | None
    image_url: str | None = Field(description="the rectified page as PNG; add ?area=id|absent|<question> to crop")
    resolved_by: int | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, page: ScanPage) -> "ScanPageOut":
        return cls(id=page.id, batch_id=page.batch_id, exam_id=page.exam_id, source=page.source, status=page.status,
                   issue_code=page.issue_code, issue_reason=page.issue_reason, issue_field=page.issue_field,
                   form_label=page.form_label, page_no=page.page_no, admission_no=page.admission_no,
                   user_id=page.user_id, reading=page.reading,
                   image_url=f"/api/scan-pages/{page.id}/image.png" if page.image_sha256 else None,
                   resolved_by=page.resolved_by, resolved_at=page.resolved_at)


class ResolveIn(BaseModel):
    action: Literal["set_admission_no", "set_field", "accept", "absent", "discard"]
    admission_no: str | None = Field(None, max_length=40)
    field: str | None = Field(None, max_length=40)
    value: str | None = Field(None, max_length=26, description="the letters marked, \"\" for none")


def _exam(session: Session, user: User, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None or not may_scan_exam(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist or is not yours to scan")
    return exam


def _batch(session: Session, user: User, batch_id: int) -> ScanBatch:
    batch = session.get(ScanBatch, batch_id)
    if batch is None or not may_scan_exam(session, user, _exam_row(session, batch.exam_id)):
        raise NotFound(f"scan batch {batch_id} does not exist")
    return batch


def _page(session: Session, user: User, page_id: int, lock: bool = False) -> ScanPage:
    page = session.get(ScanPage, page_id, with_for_update=lock)  # lock: two people deciding at once serialise
    if page is None or not may_scan_exam(session, user, _exam_row(session, page.exam_id)):
        raise NotFound(f"scan page {page_id} does not exist")
    return page


def _exam_row(session: Session, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    assert exam is not None  # a foreign key
    return exam


def _read_layout(upload: UploadFile | None) -> SheetLayout | None:
    if upload is None or not upload.filename:
        return None
    data = upload.file.read(MAX_LAYOUT_BYTES + 1)
    if len(data) > MAX_LAYOUT_BYTES:
        raise ScanLayoutInvalid(f"layout: {upload.filename} is larger than {MAX_LAYOUT_BYTES} bytes")
    try:
        return parse_layout(data.decode("utf-8"), f"layout {upload.filename}")
    except UnicodeDecodeError as exc:
        raise ScanLayoutInvalid(f"layout {upload.filename}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except LayoutFileError as exc:
        raise ScanLayoutInvalid(str(exc)) from exc


@router.post("/api/exams/{exam_id}/scan-batches", status_code=202, response_model=ScanBatchOut)
@atomic
def upload_scans(exam_id: int, user: ScanDep, session: SessionDep, runtime: RuntimeDep,
                 files: Annotated[list[UploadFile], File(description="images, TIFF, PDF, or zips of them")],
                 layout: Annotated[UploadFile | None, File(description="a third-party sheet's layout (JSON/YAML)")]
                 = None) -> ScanBatchOut:
    """Store the files and queue their reading; follow the batch at GET /api/scan-batches/{id}."""
    exam = _exam(session, user, exam_id)
    settings = runtime.settings
    sheet_layout = _read_layout(layout)
    if len(files) > settings.max_scan_files:
        raise PayloadTooLarge(f"files: {len(files)} files; at most {settings.max_scan_files} in one upload")
    uploads, total = [], 0
    for upload in files:
        data = upload.file.read(settings.max_scan_upload_bytes + 1 - total)
        total += len(data)
        if total > settings.max_scan_upload_bytes:
            raise PayloadTooLarge(f"files: more than {settings.max_scan_upload_bytes} bytes in one upload")
        uploads.append(scans.Upload(upload.filename or "scan", data))
    limits = UnpackLimits(settings.max_scan_files, settings.max_scan_unpacked_bytes, settings.max_scan_unpacked_bytes)
    batch = scans.start_batch(session, user, exam, uploads, sheet_layout, settings.data_dir, runtime.clock(), limits)
    return ScanBatchOut.of(batch)


@router.get("/api/exams/{exam_id}/scan-batches", response_model=list[ScanBatchOut])
def list_scan_batches(exam_id: int, user: ScanDep, session: SessionDep) -> list[ScanBatchOut]:
    exam = _exam(session, user, exam_id)
    batches = session.scalars(select(ScanBatch).where(ScanBatch.exam_id == exam.id)
                              .order_by(ScanBatch.id.desc()).limit(100))
    return [ScanBatchOut.of(b) for b in batches]


@router.get("/api/scan-batches/{batch_id}", response_model=ScanBatchOut)
def get_scan_batch(batch_id: int, user: ScanDep, session: SessionDep) -> ScanBatchOut:
    """Progress and counts, and each page recorded so far with its status."""
    batch = _batch(session, user, batch_id)
    pages = list(session.scalars(select(ScanPage).where(ScanPage.batch_id == batch.id).order_by(ScanPage.id)
                                 .limit(MAX_BATCH_PAGES_LISTED)))
    return ScanBatchOut.of(batch, pages)


class ExceptionsOut(BaseModel):
    counts: dict[str, int] = Field(description="exceptions waiting, by issue code")
    pages: list[ScanPageOut]


@router.get("/api/exams/{exam_id}/scan-exceptions", response_model=ExceptionsOut)
def list_scan_exceptions(exam_id: int, user: ScanDep, session: SessionDep,
                         code: Annotated[str | None, Query(max_length=30)] = None,
                         after_id: Annotated[int, Query(ge=0)] = 0,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100) -> ExceptionsOut:
    """Pages waiting for a person, oldest first (filter by issue code; page on with after_id)."""
    exam = _exam(session, user, exam_id)
    counts = dict(session.execute(select(ScanPage.issue_code, func.count()).where(
        ScanPage.exam_id == exam.id, ScanPage.status == "exception").group_by(ScanPage.issue_code)).all())
    pages = scan_resolve.exceptions(session, exam.id, code, limit, after_id)
    return ExceptionsOut(counts={str(k): int(v) for k, v in counts.items()}, pages=[ScanPageOut.of(p) for p in pages])


@router.get("/api/scan-pages/{page_id}", response_model=ScanPageOut)
def get_scan_page(page_id: int, user: ScanDep, session: SessionDep) -> ScanPageOut:
    return ScanPageOut.of(_page(session, user, page_id))


@router.get("/api/scan-pages/{page_id}/image.png", response_class=Response)
def scan_page_image(page_id: int, user: ScanDep, session: SessionDep, runtime: RuntimeDep,
                    area: Annotated[str | None, Query(max_length=40, description="id, absent or a question")]
                    = None, plain: bool = False) -> Response:
    """The rectified page with the reading drawn over it (omr.overlay, when installed; ``plain``
    for the page alone), or one area of the page: the ID grid, the absent mark, a question's row."""
    page = _page(session, user, page_id)
    if not page.image_sha256:
        raise NotFound(f"scan page {page_id} has no image (nothing could be read from {page.source})")
    data = scans.store_for(runtime.settings.data_dir).get(page.image_sha256)
    if area:
        data = _crop(data, page, area)
    elif not plain:
        data = scan_overlay.overlay_png(data, page.reading, _layout_of(session, page)) or data
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _layout_of(session: Session, page: ScanPage) -> SheetLayout | None:
    """The layout the page was read with: the exam's printed sheet, or the batch's third-party one."""
    if page.form_label is not None and page.page_no is not None:
        sheet = session.scalars(select(AnswerSheet).where(
            AnswerSheet.exam_id == page.exam_id, AnswerSheet.form_label == page.form_label,
            AnswerSheet.page_no == page.page_no)).first()
        if sheet is not None:
            return SheetLayout.model_validate(sheet.layout)
    batch = session.get(ScanBatch, page.batch_id)
    return SheetLayout.model_validate(batch.layout) if batch is not None and batch.layout else None


def _crop(data: bytes, page: ScanPage, area: str) -> bytes:
    reading = page.reading or {}
    box = (reading.get("boxes") or {}).get(area)
    if box is None:
        raise NotFound(f"scan page {page.id} has no area {area!r}")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    scale = float(reading.get("px_per_mm") or 1.0)
    margin = 3.0
    x0, y0 = max(0, int((box[0] - margin) * scale)), max(0, int((box[1] - margin) * scale))
    x1, y1 = int((box[0] + box[2] + margin) * scale), int((box[1] + box[3] + margin) * scale)
    part = image[y0:y1, x0:x1] if image is not None else None
    ok, encoded = cv2.imencode(".png", part) if part is not None and part.size else (False, None)
    if not ok or encoded is None:
        raise NotFound(f"scan page {page.id}: area {area!r} is outside the page")
    return bytes(encoded.tobytes())


@router.post("/api/scan-pages/{page_id}/resolve", response_model=ScanPageOut)
@atomic
def resolve_scan_page(page_id: int, body: ResolveIn, user: ScanDep, session: SessionDep,
                      runtime: RuntimeDep) -> ScanPageOut:
    """A person's decision on an exception (see services/scan_resolve.py); repeating it is a no-op."""
    page = _page(session, user, page_id, lock=True)
    decision = scan_resolve.Decision(body.action, body.admission_no, body.field, body.value)
    return ScanPageOut.of(scan_resolve.resolve(session, page, decision, user.id, runtime.clock()))
