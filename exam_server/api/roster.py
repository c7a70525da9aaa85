"""Roster workbooks of a school: template, preview (no writes), apply (all or nothing), export.

A district admin works on any school, a school admin on their own. See
:mod:`exam_server.services.roster` for the rules (matching, usernames, initial passwords)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.api.accounts import initial_password
from exam_server.deps import AdminDep, ReadSessionDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound, Unprocessable
from exam_server.limits import read_limits
from exam_server.services import roster
from exam_server.services.roster_export import export_rows
from exam_server.services.roster_xlsx import EXAMPLES, Kind, read_roster, write_roster
from exam_server.settings import Settings
from item_bank.formats.common import MAX_FILE_BYTES
from models import School, User

router = APIRouter(prefix="/api/schools/{school_id}/roster", tags=["roster"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class IssueOut(BaseModel):
    column: str
    detail: str


class RowOut(BaseModel):
    row: int
    action: roster.Action
    number: str
    name: str
    username: str
    grade: str
    class_name: str
    teaches: list[str]
    issues: list[IssueOut]
    notes: list[str]


class PreviewOut(BaseModel):
    kind: Kind
    counts: dict[str, int]
    new_grades: list[str]
    new_classes: list[str]
    rows: list[RowOut]


class CredentialOut(BaseModel):
    row: int
    number: str
    name: str
    username: str
    initial_password: str


class ApplyOut(BaseModel):
    kind: Kind
    created: int
    updated: int
    credentials: list[CredentialOut]  # shown once: the new accounts' initial passwords


class RosterHasErrors(Unprocessable):
    """Apply refused: the file has rows with errors (the report says which)."""

    def __init__(self, report: PreviewOut) -> None:
        super().__init__(f"{report.counts['error']} row(s) have errors; nothing was changed: fix the file, "
                         "preview it, then apply")
        self.report = report

    def body(self) -> dict[str, object]:
        return {**super().body(), "report": self.report.model_dump()}


def _school(session: Session, user: User, school_id: int) -> School:
    school = session.get(School, school_id)
    if school is None or not permissions.may_administer_school(user, school_id):
        raise NotFound(f"school {school_id} does not exist among the schools you administer")
    return school


def _report(plan: roster.Plan) -> PreviewOut:
    counts = {"create": 0, "update": 0, "error": 0}
    rows = []
    for r in plan.rows:
        c = r.checked
        counts[r.action] += 1
        rows.append(RowOut(row=c.row, action=r.action, number=c.number, name=c.name, username=c.username,
                           grade=c.grade, class_name=c.klass, teaches=[f"{k}:{s}" for k, s in c.teaches],
                           issues=[IssueOut(column=i.column, detail=i.detail) for i in c.issues], notes=c.notes))
    return PreviewOut(kind=plan.kind, counts=counts, new_grades=plan.new_grades, new_classes=list(plan.new_classes),
                      rows=rows)


def _plan(session: Session, school: School, upload: UploadFile, kind: Kind, create_missing: bool,
          settings: Settings) -> roster.Plan:
    max_rows, limits = settings.roster_max_rows, read_limits(settings)
    sheet = read_roster(upload.file.read(MAX_FILE_BYTES + 1), kind, max_rows, limits)
    return roster.plan_roster(session, school, kind, sheet, create_missing)


FileField = Annotated[UploadFile, File(description="the roster workbook (.xlsx)")]
KindField = Annotated[Kind, Form()]
CreateField = Annotated[bool, Form(description="create unknown grades and classes instead of refusing")]


@router.post("/preview")
def preview(school_id: int, file: FileField, user: AdminDep, runtime: RuntimeDep, session: ReadSessionDep,
            kind: KindField = "students", create_missing: CreateField = False) -> PreviewOut:
    """What applying this file would do, row by row; changes nothing."""
    school = _school(session, user, school_id)
    return _report(_plan(session, school, file, kind, create_missing, runtime.settings))


@router.post("/apply")
@atomic
def apply(school_id: int, file: FileField, user: AdminDep, runtime: RuntimeDep, session: SessionDep,
          kind: KindField = "students", create_missing: CreateField = False) -> ApplyOut:
    """Check the file again and write all of it, or nothing (422 RosterHasErrors with the report)."""
    with runtime.read_session() as read:
        plan = _plan(read, _school(read, user, school_id), file, kind, create_missing, runtime.settings)
    if plan.errors:
        raise RosterHasErrors(_report(plan))
    new = [r for r in plan.rows if r.action == "create"]
    plain = [initial_password(runtime.settings.initial_password_length) for _ in new]
    hashes = roster.hash_all(runtime.sessions.passwords, plain)  # slow: before the write transaction
    applied = roster.apply_plan(session, plan, {r.checked.row: h for r, h in zip(new, hashes, strict=True)},
                                user, runtime.clock())
    credentials = [CredentialOut(row=r.checked.row, number=r.checked.number, name=r.checked.name,
                                 username=r.checked.username, initial_password=p)
                   for r, p in zip(new, plain, strict=True)]
    return ApplyOut(kind=kind, created=applied.created, updated=applied.updated, credentials=credentials)


def _xlsx(data: bytes, name: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/template")
def template(school_id: int, user: AdminDep, session: SessionDep, kind: Kind = "students") -> Response:
    _school(session, user, school_id)
    return _xlsx(write_roster(kind, [EXAMPLES[kind]]), f"roster-{kind}-template.xlsx")


@router.get("/export")
def export(school_id: int, user: AdminDep, session: SessionDep, kind: Kind = "students",
           class_id: Annotated[int | None, Query()] = None) -> Response:
    """The school's (or one class's) students or teachers in the import layout, without passwords."""
    school = _school(session, user, school_id)
    rows = export_rows(session, school.id, kind, class_id, permissions.users_clause(user))
    suffix = f"-class{class_id}" if class_id is not None else ""
    return _xlsx(write_roster(kind, rows), f"{school.code or school.id}-{kind}{suffix}.xlsx")

