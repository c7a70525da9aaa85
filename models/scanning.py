"""Paper exams: the answer-sheet layouts we printed, scan batches, each scanned page with its
reading or its exception, and the cut-out answers of subjective items for marking."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AnswerSheet(Base):
    """One page of the answer sheet of an exam's form, as printed: its layout (omr.layout) is what
    the reader uses, so no template is written by hand. ``form_label`` is "" for a single-form exam.
    ``question_map`` ties printed question numbers to paper slots in the paper's own order:
    {"1": {"slot_id": 5, "kind": "single"}, ...}; a candidate whose items were shuffled is mapped
    through their own variant at reading time."""

    __tablename__ = "answer_sheets"
    __table_args__ = (UniqueConstraint("exam_id", "form_label", "page_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    form_label: Mapped[str] = mapped_column(String(10), default="")
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"))
    page_no: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    layout: Mapped[dict[str, Any]] = mapped_column(JSON)
    question_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class ScanBatch(Base):
    """One upload (a folder, a PDF, a set of images) read by the worker; counts are pages."""

    __tablename__ = "scan_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # A third-party sheet: the layout given with the batch (None: our own sheets, found by QR).
    layout: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # queued, running, done, failed
    files: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    read_ok: Mapped[int] = mapped_column(Integer, default=0)
    exceptions: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    input_dir: Mapped[str] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ScanPage(Base):
    """One scanned page. Re-importing the same page is a no-op: (exam, content hash) is unique.
    status: read (applied to the attempt), exception (waits for a person), resolved (a person
    decided, then applied), discarded (a person threw it away)."""

    __tablename__ = "scan_pages"
    __table_args__ = (UniqueConstraint("exam_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batches.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300))  # file name, "#n" for the n-th page of a file
    status: Mapped[str] = mapped_column(String(12), index=True)
    issue_code: Mapped[str | None] = mapped_column(String(30), index=True)
    issue_reason: Mapped[str | None] = mapped_column(String(500))
    issue_field: Mapped[str | None] = mapped_column(String(60))
    form_label: Mapped[str | None] = mapped_column(String(10))
    page_no: Mapped[int | None] = mapped_column(Integer)
    admission_no: Mapped[str | None] = mapped_column(String(40), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The reading: {"fields": {name: {"value", "status", "confidence", "fills"}}, "absent": bool, ...}
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The rectified page image (PNG) in the file store, for crops, overlays and the exception page.
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AnswerCrop(Base):
    """A subjective answer or fill-in blank cut out of a scanned page, waiting for marking."""

    __tablename__ = "answer_crops"
    __table_args__ = (UniqueConstraint("exam_id", "user_id", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("paper_slots.id"), index=True)
    scan_page_id: Mapped[int] = mapped_column(ForeignKey("scan_pages.id"), index=True)
    region_id: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # subjective, blank
    field: Mapped[str | None] = mapped_column(String(40))
    image_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
