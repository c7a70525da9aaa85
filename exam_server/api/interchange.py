"""Importing and exporting items: Moodle XML, GIFT, Aiken, QTI 3.0/2.1, the XLSX question list.

An import reports every item: imported, converted (with what changed) or rejected (with why and
where). One bad item never aborts the file; an unreadable file is a 422 naming the problem.
"""

import json
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from exam_server import media_links, permissions
from exam_server.deps import BankDep, ReadSessionDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound, Unprocessable
from exam_server.storage import FileStore, sniff_media_type
from item_bank.formats import registry
from item_bank.formats.common import MAX_FILE_BYTES
from item_bank.formats.draft import FormatError
from item_bank.formats.xlsx import xlsx_template
from item_bank.interchange import drafts_for, import_report
from models import Item, ItemStatus

router = APIRouter(tags=["import and export"])

FormatName = Literal["auto", "moodle_xml", "gift", "aiken", "qti3", "qti21", "xlsx"]


class ImportRow(BaseModel):
    index: int
    identifier: str
    status: str
    messages: list[str]
    item_id: int | None


class ImportOut(BaseModel):
    format: str
    filename: str
    counts: dict[str, int]
    rows: list[ImportRow]


class ExportIn(BaseModel):
    format: Literal["moodle_xml", "gift", "aiken", "qti3", "qti21", "xlsx"]
    item_ids: list[int] = Field(min_length=1, max_length=5000)


class FormatOut(BaseModel):
    name: str
    label: str
    extension: str


def media_store(runtime: RuntimeDep) -> FileStore:
    return FileStore(runtime.settings.data_dir / "media")


@router.get("/api/interchange/formats")
def formats(_: BankDep) -> list[FormatOut]:
    return [FormatOut(name=f.name, label=f.label, extension=f.extension) for f in registry.FORMATS.values()]


@router.post("/api/interchange/import")
@atomic
def import_items(
    file: Annotated[UploadFile, File(description="the question file")],
    user: BankDep, runtime: RuntimeDep, session: SessionDep,
    format: Annotated[FormatName, Form()] = "auto",  # noqa: A002 - the public field name
    status: Annotated[ItemStatus, Form()] = ItemStatus.DRAFT,
) -> ImportOut:
    data = file.file.read(MAX_FILE_BYTES + 1)
    filename = file.filename or "upload"
    try:
        chosen = registry.detect(filename, data) if format == "auto" else format
        report = registry.read(chosen, data, filename)
    except FormatError as exc:
        raise Unprocessable(f"{filename}: {exc.detail}") from exc
    rows = import_report(session, report, user.id, runtime.clock(), media_store(runtime), status)
    counts = {"imported": 0, "converted": 0, "rejected": 0}
    for row in rows:
        counts[row.status] += 1
    return ImportOut(format=chosen, filename=filename, counts=counts,
                     rows=[ImportRow(**row.__dict__) for row in rows])


@router.post("/api/interchange/export")
def export_items(body: ExportIn, user: BankDep, runtime: RuntimeDep, session: ReadSessionDep) -> Response:
    """Only items the caller may read leave the server (exports carry keys)."""
    readable = set(session.scalars(select(Item.id).where(Item.id.in_(body.item_ids),
                                                         permissions.items_clause(user, runtime.clock()))))
    if missing := [i for i in body.item_ids if i not in readable]:
        raise NotFound(f"item_ids: item(s) {missing} do not exist or are not shared with you")
    drafts = drafts_for(session, body.item_ids, media_store(runtime))
    data, notes = registry.write(body.format, drafts)
    spec = registry.FORMATS[body.format]
    name = f"items-{body.format}{spec.extension}"
    return Response(data, media_type=spec.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        # What the format could not carry, per item (JSON, ASCII-escaped for the header).
        "X-Export-Notes": json.dumps(notes),
    })


@router.get("/api/interchange/template.xlsx")
def template(_: BankDep) -> Response:
    return Response(xlsx_template(), media_type=registry.FORMATS["xlsx"].media_type,
                     headers={"Content-Disposition": "attachment; filename*=UTF-8''question-template.xlsx"})


class MediaOut(BaseModel):
    name: str
    mime_type: str
    sha256: str
    size: int


MAX_MEDIA_BYTES = 10 * 1024 * 1024


@router.post("/api/media", status_code=201)
def upload_media(file: Annotated[UploadFile, File(description="an image for an item")], _: BankDep,
                 runtime: RuntimeDep) -> MediaOut:
    """Store an image; reference it from an item's ``media`` and its stem as ``![alt](media:NAME)``."""
    data = file.file.read(MAX_MEDIA_BYTES + 1)
    if len(data) > MAX_MEDIA_BYTES:
        raise Unprocessable(f"file: {file.filename} is larger than {MAX_MEDIA_BYTES} bytes")
    mime_type = sniff_media_type(data)
    if not mime_type.startswith("image/"):
        raise Unprocessable(f"file: {file.filename} is not a PNG, JPEG, GIF or WebP image")
    return MediaOut(**media_store(runtime).put(data, file.filename or "image", mime_type))


@router.get("/api/media/{sha256}")
def media(sha256: str, user: BankDep, runtime: RuntimeDep, session: ReadSessionDep) -> Response:
    """Images referenced by item stems, to staff who may read an item that uses them (or, before
    any item uses it, to staff who hold its hash: the uploader). Candidates get signed links."""
    if not permissions.may_read_media(session, user, sha256, runtime.clock()):
        raise NotFound(f"media {sha256} does not exist")
    return _media_response(media_store(runtime).get(sha256))


@router.get("/media/{sha256}", include_in_schema=False)
def signed_media(sha256: str, exp: int, sig: str, runtime: RuntimeDep) -> Response:
    """The same images through a signed, expiring link (what exam pages put in <img src>)."""
    media_links.verify(runtime.settings.signing_key, sha256, exp, sig, runtime.clock())
    return _media_response(media_store(runtime).get(sha256))


def _media_response(data: bytes) -> Response:
    return Response(data, media_type=sniff_media_type(data), headers={
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"})
