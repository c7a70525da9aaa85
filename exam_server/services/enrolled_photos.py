"""Enrolled photos (the reference for the identity check): upload per student, bulk import of a ZIP
named by student number (学号), read, delete.

Who: a district admin, the student's school admin, a teacher of one of the student's classes;
the student reads their own; a proctor reads the photo of a candidate they may watch (for the manual
check). Anyone else gets 404 (the photo's existence is not revealed).

A photo must be a JPEG or PNG with exactly one face (the face engine checks it). Both the photo
(EvidenceStore blob) and its 128-d embedding (``enrolled_photos.embedding``, sealed with the
deployment key and bound to the user) are encrypted at rest. A replaced or deleted photo's blob is
removed only after the transaction commits, so a failed request never loses the stored photo.
One bad file in a ZIP never aborts the batch: each file gets its own line in the report.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal

from sqlalchemy import event, exists, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.errors import NotFound, Unprocessable
from exam_server.proctoring.evidence import EvidenceStore
from exam_server.proctoring.identity import embedding_context
from exam_server.services import audit
from models import ClassMembership, EnrolledPhoto, Exam, ProctorSession, Role, SchoolClass, User
from proctoring.face_engine import MAX_PHOTO_BYTES, EnrolmentRefused, FaceEngine, embedding_bytes, enrol_photo

MAX_ZIP_FILES = 2000  # photos in one import (each takes ~0.3 s of face analysis)
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})


class PhotoRefused(Unprocessable):
    """The photo is not a JPEG/PNG with exactly one face; ``reason`` is a stable code."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def body(self) -> dict[str, object]:
        return {**super().body(), "reason": self.reason}


def _student(session: Session, user_id: int) -> User:
    student = session.get(User, user_id)
    if student is None or student.role != Role.STUDENT:
        raise NotFound(f"student {user_id} does not exist")
    return student


def may_manage_photo(session: Session, actor: User, student: User) -> bool:
    """Upload, replace, delete: the district, the student's school admin, a teacher of their class."""
    if permissions.may_administer_school(actor, student.school_id):
        return True
    classes = session.scalars(select(SchoolClass).join(ClassMembership, ClassMembership.class_id == SchoolClass.id)
                              .where(ClassMembership.user_id == student.id)).all()
    return any(permissions.may_manage_class(session, actor, klass) for klass in classes)


def may_read_photo(session: Session, actor: User, student: User) -> bool:
    """The managers, the student themself, and a proctor who may watch one of the student's sessions."""
    if actor.id == student.id or may_manage_photo(session, actor, student):
        return True
    if actor.role == Role.STUDENT:
        return False
    rows = session.execute(select(Exam, ProctorSession.exam_room_id).join(
        ProctorSession, ProctorSession.exam_id == Exam.id).where(ProctorSession.user_id == student.id)).all()
    return any(permissions.may_proctor_room(session, actor, exam, room) for exam, room in rows)


def managed_student(session: Session, actor: User, user_id: int) -> User:
    student = _student(session, user_id)
    if not may_manage_photo(session, actor, student):
        raise NotFound(f"student {user_id} does not exist")
    return student


def _after_commit_delete(session: Session, store: EvidenceStore, keys: list[str]) -> None:
    if not keys:
        return

    def drop(_: Session) -> None:
        for key in keys:
            store.delete(key)

    event.listen(session, "after_commit", drop, once=True)


def store_photo(session: Session, store: EvidenceStore, engine: FaceEngine, student: User, data: bytes,
                actor_id: int, now: datetime) -> tuple[EnrolledPhoto, bool]:
    """Check and store (or replace) the student's photo; returns the row and whether it replaced one."""
    try:
        embedding = enrol_photo(data, engine)
    except EnrolmentRefused as exc:
        raise PhotoRefused(f"photo of student {student.student_number or student.id}: {exc}", exc.reason) from exc
    key = store.put(data)
    sealed = store.seal(embedding_bytes(embedding), embedding_context(student.id))
    row = session.get(EnrolledPhoto, student.id)
    replaced = row is not None
    if row is None:
        row = EnrolledPhoto(user_id=student.id, storage_key=key, embedding=sealed, face_count=1,
                            uploaded_by=actor_id, uploaded_at=now)
        session.add(row)
    else:
        _after_commit_delete(session, store, [row.storage_key])
        row.storage_key, row.embedding, row.face_count = key, sealed, 1
        row.uploaded_by, row.uploaded_at = actor_id, now
    audit.record(session, actor_id, "enrolled_photo.replaced" if replaced else "enrolled_photo.uploaded", "user",
                 student.id, None, now)
    return row, replaced


def read_photo(session: Session, store: EvidenceStore, actor: User, user_id: int) -> bytes:
    student = _student(session, user_id)
    row = session.get(EnrolledPhoto, user_id)
    if row is None or not may_read_photo(session, actor, student):
        raise NotFound(f"student {user_id} has no enrolled photo")
    return store.get(row.storage_key)


def delete_photo(session: Session, store: EvidenceStore, actor: User, user_id: int, now: datetime) -> None:
    student = managed_student(session, actor, user_id)
    row = session.get(EnrolledPhoto, user_id)
    if row is None:
        raise NotFound(f"student {user_id} has no enrolled photo")
    _after_commit_delete(session, store, [row.storage_key])
    session.delete(row)
    audit.record(session, actor.id, "enrolled_photo.deleted", "user", student.id, None, now)


Status = Literal["enrolled", "replaced", "error"]


@dataclass(frozen=True)
class FileReport:
    file: str
    student_number: str | None
    status: Status
    reason: str | None = None  # error code: not_a_photo, unknown_student, not_yours, no_face, several_faces, ...
    detail: str | None = None


def _members(data: bytes, max_total: int) -> Iterator[tuple[str, bytes | FileReport]]:
    """(name, bytes) per photo file of a ZIP, or (name, an error report) for a file that cannot be read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Unprocessable(f"file: not a ZIP archive ({exc})") from exc
    members = [m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)]
    if len(members) > MAX_ZIP_FILES:
        raise Unprocessable(f"file: {len(members)} files in the ZIP; at most {MAX_ZIP_FILES} per import")
    total = 0
    for member in members:
        name = member.filename[:200]
        if PurePosixPath(member.filename).suffix.lower() not in PHOTO_SUFFIXES:
            yield name, FileReport(name, None, "error", "not_a_photo", "only .jpg, .jpeg and .png files are read")
            continue
        try:
            with archive.open(member) as src:
                body = src.read(MAX_PHOTO_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError,
                zlib.error) as exc:  # encrypted, unknown compression, truncated
            yield name, FileReport(name, None, "error", "unreadable", f"cannot be unpacked: {type(exc).__name__}")
            continue
        total += len(body)
        if len(body) > MAX_PHOTO_BYTES or total > max_total:
            yield name, FileReport(name, None, "error", "too_large",
                                   f"more than {MAX_PHOTO_BYTES} bytes, or the ZIP unpacks to more than {max_total}")
            continue
        yield name, body


def _hidden(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _by_number(session: Session, school_id: int, numbers: set[str]) -> dict[str, User]:
    if not numbers:
        return {}
    rows = session.scalars(select(User).where(User.school_id == school_id, User.role == Role.STUDENT,
                                              User.student_number.in_(sorted(numbers))))
    return {u.student_number: u for u in rows if u.student_number}


def import_zip(session: Session, store: EvidenceStore, engine: FaceEngine, actor: User, school_id: int,
               data: bytes, max_total: int, now: datetime) -> list[FileReport]:
    """One report line per file; good photos are stored whatever happens to the others."""
    files = list(_members(data, max_total))
    numbers = {PurePosixPath(name).stem.strip() for name, body in files if isinstance(body, bytes)}
    students = _by_number(session, school_id, numbers)
    reports: list[FileReport] = []
    seen: set[str] = set()
    for name, body in files:
        if isinstance(body, FileReport):
            reports.append(body)
            continue
        number = PurePosixPath(name).stem.strip()
        report = _import_one(session, store, engine, actor, name, number, students.get(number), body,
                             number in seen, now)
        if report.status != "error":
            seen.add(number)  # a later file for the same student is a duplicate; after a failed one it may try
        reports.append(report)
    return reports


def _import_one(session: Session, store: EvidenceStore, engine: FaceEngine, actor: User, name: str, number: str,
                student: User | None, body: bytes, duplicate: bool, now: datetime) -> FileReport:
    if duplicate:
        return FileReport(name, number, "error", "duplicate",
                          f"another photo in the ZIP was already stored for {number}")
    if student is None:
        return FileReport(name, number, "error", "unknown_student", f"no student of this school has number {number}")
    if not may_manage_photo(session, actor, student):
        return FileReport(name, number, "error", "not_yours", f"student {number} is not in a class you teach")
    try:
        with session.begin_nested():  # a failed file leaves nothing behind
            _, replaced = store_photo(session, store, engine, student, body, actor.id, now)
    except PhotoRefused as exc:
        return FileReport(name, number, "error", exc.reason, exc.detail)
    return FileReport(name, number, "replaced" if replaced else "enrolled")


def has_photo(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(exists().where(EnrolledPhoto.user_id == user_id))))
