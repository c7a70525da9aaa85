"""Print runs: started by the API, rendered by the worker room by room into files on disk.

Flow: ``start`` checks the request, writes a ``print_jobs`` row (total = rooms to render) and
queues ``run_print_job`` after commit -> the worker renders one room at a time (its candidates
are the only rows in memory), appends the pages to the current PDF (one per room, or one per
site), bumps ``done`` after each room, renames each finished file into place, and finally writes
a zip of all files. Memory stays flat whatever the run's size; a re-delivered job starts over
and overwrites its own files, a finished one is left alone.
"""

import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.db import enqueue_after_commit, session_scope
from exam_server.errors import NotFound, PrintingUnavailable, Unprocessable
from exam_server.printing import fonts
from exam_server.printing.loader import RoomRef, exam_rooms, load_room
from exam_server.printing.render import TITLES, PdfWriter, PrintKind
from exam_server.services import audit
from exam_server.storage import FileStore
from models import Exam, ExamRoom, ExamSitting, PrintJob, User

log = logging.getLogger(__name__)
GROUPINGS = ("room", "site")
ZIP_NAME = "all.zip"


@dataclass(frozen=True)
class PrintSetup:
    """How this installation prints (from settings): checked by the API, carried by the job."""

    data_dir: Path
    font_path: Path | None = None
    timezone: str = "UTC"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PrintingUnavailable(f"EXAM_PRINT_TIMEZONE {name!r} is not a known time zone") from exc


def start(session: Session, user: User, exam: Exam, kind: PrintKind, group_by: str, sitting_id: int | None,
          exam_room_id: int | None, setup: PrintSetup, now: datetime) -> PrintJob:
    fonts.find_font(setup.font_path)  # no font: refuse now with how to install one, not after queueing
    zone_of(setup.timezone)
    _check_filters(session, exam, sitting_id, exam_room_id)
    rooms = exam_rooms(session, exam.id, sitting_id, exam_room_id)
    if not rooms:
        raise Unprocessable(f"exam {exam.id} has no rooms to print for this selection: allocate seats first")
    job = PrintJob(exam_id=exam.id, requested_by=user.id, kind=kind.value, group_by=group_by, sitting_id=sitting_id,
                   exam_room_id=exam_room_id, status="queued", done=0, total=len(rooms), pages=0, files=[],
                   output_dir="", created_at=now)
    session.add(job)
    session.flush()
    job.output_dir = str((setup.data_dir / "prints" / str(job.id)).resolve())
    audit.record(session, user.id, "print.started", "exam", exam.id,
                 {"job_id": job.id, "kind": kind.value, "group_by": group_by, "rooms": len(rooms)}, now)
    enqueue_after_commit(session, "run_print_job", job.id, str(setup.font_path) if setup.font_path else None,
                         setup.timezone)
    return job


def _check_filters(session: Session, exam: Exam, sitting_id: int | None, exam_room_id: int | None) -> None:
    if sitting_id is not None:
        sitting = session.get(ExamSitting, sitting_id)
        if sitting is None or sitting.exam_id != exam.id:
            raise Unprocessable(f"sitting_id {sitting_id}: not a sitting of exam {exam.id}")
    if exam_room_id is not None:
        room = session.get(ExamRoom, exam_room_id)
        if room is None or room.exam_id != exam.id:
            raise Unprocessable(f"exam_room_id {exam_room_id}: not a room of exam {exam.id}")


def file_path(job: PrintJob, name: str) -> Path:
    """A finished file of the job by its listed name (never a path the caller made up)."""
    if name != ZIP_NAME and name not in {f["name"] for f in job.files}:
        raise NotFound(f"print job {job.id} has no file {name!r}")
    path = Path(job.output_dir) / name
    if job.status != "done" or not path.is_file():
        raise NotFound(f"print job {job.id}: {name} is not ready (status {job.status})")
    return path


# ---- the worker's side ----------------------------------------------------------------------

def run(factory: sessionmaker[Session], clock: Clock, job_id: int, font_path: Path | None = None,
        timezone: str = "UTC") -> None:
    with session_scope(factory) as session:
        job = session.get(PrintJob, job_id)
        if job is None or job.status == "done":
            return
        job.status, job.done, job.pages, job.files, job.error = "running", 0, 0, [], None
        spec = (job.exam_id, PrintKind(job.kind), job.group_by, job.sitting_id, job.exam_room_id, Path(job.output_dir))
    try:
        _render_all(factory, job_id, *spec, font_path, zone_of(timezone))
    except Exception as exc:  # noqa: BLE001 - the job records why it failed; the page shows it
        log.exception("print job %s failed", job_id)
        _set(factory, job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=clock())
        return
    _set(factory, job_id, status="done", finished_at=clock())


def _render_all(factory: sessionmaker[Session], job_id: int, exam_id: int, kind: PrintKind, group_by: str,
                sitting_id: int | None, exam_room_id: int | None, out: Path, font_path: Path | None,
                zone: tzinfo) -> None:
    font = fonts.cjk_font(font_path)
    photos = FileStore(out.parent.parent / "media")  # out is <data_dir>/prints/<id>
    with factory() as session:
        rooms = exam_rooms(session, exam_id, sitting_id, exam_room_id)
    out.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    for name, group in _groups(rooms, kind, group_by):
        part = out / f"{name}.part"
        with part.open("wb") as fh:
            writer = PdfWriter(fh, kind, font, f"{TITLES[kind]} {name}")
            for ref in group:
                with factory() as session:
                    room = load_room(session, ref.exam_room_id, photos, zone)
                pages = writer.add_room(room)
                _progress(factory, job_id, pages)
            total = writer.close() if writer.pages else 0
        if not total:  # nothing to print here (a room without candidates): no blank PDF
            part.unlink()
            continue
        part.replace(out / name)
        files.append({"name": name, "pages": total, "size": (out / name).stat().st_size})
        _set(factory, job_id, files=list(files))
    _write_zip(out, [f["name"] for f in files])


def _groups(rooms: list[RoomRef], kind: PrintKind, group_by: str) -> list[tuple[str, list[RoomRef]]]:
    if group_by == "site":
        by_site = groupby(rooms, key=lambda r: r.site_code)
        return [(f"{kind.value}-site-{_safe(code)}.pdf", list(refs)) for code, refs in by_site]
    return [(f"{kind.value}-sitting{r.sitting_id}-room{r.number:03d}-{r.exam_room_id}.pdf", [r]) for r in rooms]


def _safe(code: str) -> str:
    """A site code as part of a file name (codes are typed by people)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", code)


def _write_zip(out: Path, names: list[str]) -> None:
    part = out / f"{ZIP_NAME}.part"
    # Stored, not deflated: the PDFs are compressed already; zipfile copies each file in chunks.
    with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.write(out / name, arcname=name)
    part.replace(out / ZIP_NAME)


def _progress(factory: sessionmaker[Session], job_id: int, pages: int) -> None:
    with session_scope(factory) as session:
        session.execute(update(PrintJob).where(PrintJob.id == job_id)
                        .values(done=PrintJob.done + 1, pages=PrintJob.pages + pages))


def _set(factory: sessionmaker[Session], job_id: int, **values: Any) -> None:
    with session_scope(factory) as session:
        session.execute(update(PrintJob).where(PrintJob.id == job_id).values(**values))


