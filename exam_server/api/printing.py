"""Print runs of an exam: start one (a worker job), watch its progress, download its files."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.deps import PrintDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound
from exam_server.permissions import may_print_exam
from exam_server.printing.render import PrintKind
from exam_server.services import print_jobs
from models import Exam, PrintJob, User

router = APIRouter(tags=["printing"])


class PrintJobIn(BaseModel):
    kind: PrintKind = Field(description="tickets (准考证), door_lists (门贴), sign_in (签到表), seat_charts (座位图)")
    group_by: Literal["room", "site"] = Field("room", description="one PDF per room, or one per site (考点)")
    sitting_id: int | None = Field(None, description="only this sitting (场次)")
    exam_room_id: int | None = Field(None, description="only this exam room (考场)")


class PrintFile(BaseModel):
    name: str
    pages: int
    size: int
    url: str


class PrintJobOut(BaseModel):
    id: int
    exam_id: int
    kind: str
    group_by: str
    sitting_id: int | None
    exam_room_id: int | None
    status: str = Field(description="queued, running, done or failed")
    done: int = Field(description="rooms rendered so far")
    total: int = Field(description="rooms to render")
    pages: int
    files: list[PrintFile]
    zip_url: str | None = Field(description="all files in one zip, once done")
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: PrintJob) -> "PrintJobOut":
        base = f"/api/print-jobs/{job.id}"
        files = [PrintFile(url=f"{base}/files/{n}", **f) for n, f in enumerate(job.files, start=1)]
        return cls(id=job.id, exam_id=job.exam_id, kind=job.kind, group_by=job.group_by, sitting_id=job.sitting_id,
                   exam_room_id=job.exam_room_id, status=job.status, done=job.done, total=job.total,
                   pages=job.pages, files=files, zip_url=f"{base}/zip" if job.status == "done" else None,
                   error=job.error, created_at=job.created_at, finished_at=job.finished_at)


def _exam(session: Session, user: User, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None or not may_print_exam(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist or is not yours to print")
    return exam


def _job(session: Session, user: User, job_id: int) -> PrintJob:
    job = session.get(PrintJob, job_id)
    if job is None or not may_print_exam(session, user, _exam_of(session, job)):
        raise NotFound(f"print job {job_id} does not exist")
    return job


def _exam_of(session: Session, job: PrintJob) -> Exam:
    exam = session.get(Exam, job.exam_id)
    assert exam is not None  # a foreign key
    return exam


@router.post("/api/exams/{exam_id}/print-jobs", status_code=202, response_model=PrintJobOut)
@atomic
def start_print_job(exam_id: int, body: PrintJobIn, user: PrintDep, session: SessionDep,
                    runtime: RuntimeDep) -> PrintJobOut:
    exam = _exam(session, user, exam_id)
    settings = runtime.settings
    setup = print_jobs.PrintSetup(settings.data_dir, settings.print_font_path, settings.print_timezone)
    job = print_jobs.start(session, user, exam, body.kind, body.group_by, body.sitting_id, body.exam_room_id,
                           setup, runtime.clock())
    return PrintJobOut.of(job)


@router.get("/api/exams/{exam_id}/print-jobs", response_model=list[PrintJobOut])
def list_print_jobs(exam_id: int, user: PrintDep, session: SessionDep) -> list[PrintJobOut]:
    exam = _exam(session, user, exam_id)
    jobs = session.scalars(select(PrintJob).where(PrintJob.exam_id == exam.id).order_by(PrintJob.id.desc()).limit(50))
    return [PrintJobOut.of(job) for job in jobs]


@router.get("/api/print-jobs/{job_id}", response_model=PrintJobOut)
def get_print_job(job_id: int, user: PrintDep, session: SessionDep) -> PrintJobOut:
    return PrintJobOut.of(_job(session, user, job_id))


@router.get("/api/print-jobs/{job_id}/files/{file_no}", response_class=FileResponse)
def download_print_file(job_id: int, file_no: int, user: PrintDep, session: SessionDep) -> Any:
    """The file streamed from disk (never loaded whole)."""
    job = _job(session, user, job_id)
    if not 1 <= file_no <= len(job.files):
        raise NotFound(f"print job {job_id} has {len(job.files)} files; there is no file {file_no}")
    name = job.files[file_no - 1]["name"]
    return FileResponse(print_jobs.file_path(job, name), media_type="application/pdf", filename=name)


@router.get("/api/print-jobs/{job_id}/zip", response_class=FileResponse)
def download_print_zip(job_id: int, user: PrintDep, session: SessionDep) -> Any:
    job = _job(session, user, job_id)
    path = print_jobs.file_path(job, print_jobs.ZIP_NAME)
    return FileResponse(path, media_type="application/zip", filename=f"print-{job.exam_id}-{job.id}.zip")
