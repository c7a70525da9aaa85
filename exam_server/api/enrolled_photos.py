"""Enrolled photos for the proctoring identity check (services/enrolled_photos.py has the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from exam_server import permissions
from exam_server.deps import ClassesDep, RuntimeDep, SessionDep, SignedInDep, atomic
from exam_server.errors import NotFound, Unprocessable
from exam_server.runtime import Runtime
from exam_server.services import enrolled_photos
from exam_server.storage import sniff_media_type
from models import School
from proctoring.dlib_faces import default_engine
from proctoring.face_engine import MAX_PHOTO_BYTES

router = APIRouter(tags=["proctoring"])

PhotoFile = Annotated[UploadFile, File(description="a JPEG or PNG photo showing exactly the student's face")]
ZipFile = Annotated[UploadFile, File(description="a ZIP of JPEG/PNG photos named by student number, e.g. 2026001.jpg")]


class PhotoOut(BaseModel):
    user_id: int
    uploaded_at: datetime
    uploaded_by: int
    replaced: bool


class FileReportOut(BaseModel):
    file: str
    student_number: str | None
    status: enrolled_photos.Status
    reason: str | None
    detail: str | None


class ImportOut(BaseModel):
    counts: dict[str, int]
    files: list[FileReportOut]


def _read(upload: UploadFile, limit: int, what: str) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Unprocessable(f"file: {upload.filename or what} is larger than {limit} bytes")
    return data


@router.put("/api/users/{user_id}/enrolled-photo")
@atomic
def upload_photo(user_id: int, file: PhotoFile, user: ClassesDep, runtime: RuntimeDep, session: SessionDep) -> PhotoOut:
    """Store or replace a student's reference photo (checked: exactly one face; encrypted at rest)."""
    student = enrolled_photos.managed_student(session, user, user_id)
    data = _read(file, MAX_PHOTO_BYTES, "photo")
    row, replaced = enrolled_photos.store_photo(session, runtime.evidence, default_engine(), student, data, user.id,
                                                runtime.clock())
    return PhotoOut(user_id=row.user_id, uploaded_at=row.uploaded_at, uploaded_by=row.uploaded_by, replaced=replaced)


@router.get("/api/users/{user_id}/enrolled-photo")
def get_photo(user_id: int, user: SignedInDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The photo: to its managers, the student themself, and proctors who may watch the student."""
    data = enrolled_photos.read_photo(session, runtime.evidence, user, user_id)
    return Response(data, media_type=sniff_media_type(data), headers={"Cache-Control": "no-store"})


@router.delete("/api/users/{user_id}/enrolled-photo", status_code=204)
@atomic
def delete_photo(user_id: int, user: ClassesDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    enrolled_photos.delete_photo(session, runtime.evidence, user, user_id, runtime.clock())
    return Response(status_code=204)


def _school(session: SessionDep, runtime: Runtime, user: ClassesDep, school_id: int) -> School:
    school = session.get(School, school_id)
    if school is None or not (permissions.may_administer_school(user, school_id) or user.school_id == school_id):
        raise NotFound(f"school {school_id} does not exist")
    return school


@router.post("/api/schools/{school_id}/enrolled-photos/import")
@atomic
def import_photos(school_id: int, file: ZipFile, user: ClassesDep, runtime: RuntimeDep,
                  session: SessionDep) -> ImportOut:
    """Bulk import: one photo per student, named by student number (学号). Every file gets a line in
    the report; a bad file never stops the others. Teachers import for the classes they teach."""
    _school(session, runtime, user, school_id)
    limit = runtime.settings.max_import_bytes
    data = _read(file, limit, "ZIP")
    reports = enrolled_photos.import_zip(session, runtime.evidence, default_engine(), user, school_id, data,
                                         runtime.settings.max_unpacked_bytes, runtime.clock())
    counts = {status: sum(r.status == status for r in reports) for status in ("enrolled", "replaced", "error")}
    return ImportOut(counts=counts, files=[FileReportOut(**r.__dict__) for r in reports])
