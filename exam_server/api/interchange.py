"""Importing and exporting items: Moodle XML, GIFT, Aiken, QTI 3.0/2.1, the XLSX question list.

An import reports every item: imported, converted (with what changed) or rejected (with why and
where). One bad item never aborts the file; an unreadable file is a 422 naming the problem.
A big import is committed batch by batch (see :mod:`exam_server.services.imports`): the file is
read and checked first, holding no transaction, then stored in short transactions so candidates'
saves are never kept waiting behind it.
"""

import json
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from exam_server import media_links, permissions
from exam_server.deps import BankDep, ReadSessionDep, RuntimeDep
from exam_server.errors import NotFound, Unprocessable
from exam_server.limits import capped_store, read_limits
from exam_server.services.imports import import_in_batches, read_file
from exam_server.storage import FileStore, sniff_media_type
from item_bank.formats import registry
from item_bank.formats.draft import FormatError
from item_bank.formats.xlsx import xlsx_template
from item_bank.images import pixel_problem
from item_bank.interchange import drafts_for
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
    committed: int = Field(description="items from the start of the file handled in committed batches; the import "
                                       "is committed batch by batch, so after a failure these stay stored")
    batches: int = Field(description="how many transactions the import was committed in")
    complete: bool = Field(description="false when the import stopped early (the unwritten rows say why)")


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
def import_items(
    file: Annotated[UploadFile, File(description="the question file")],
    user: BankDep, runtime: RuntimeDep,
    format: Annotated[FormatName, Form()] = "auto",  # noqa: A002 - the public field name
    status: Annotated[ItemStatus, Form()] = ItemStatus.DRAFT,
) -> ImportOut:
    """Import a question file. Large files are stored in batches of ``EXAM_IMPORT_BATCH_SIZE`` items,
    each its own transaction: if the server stops midway, the batches before are kept and the rest
    are not; re-importing the file then adds the early items again."""
    settings = runtime.settings
    filename = file.filename or "upload"
    data = file.file.read(settings.max_import_bytes + 1)
    if len(data) > settings.max_import_bytes:
        raise Unprocessable(f"{filename}: larger than {settings.max_import_bytes} bytes (EXAM_MAX_IMPORT_BYTES)")
    try:
        chosen = registry.detect(filename, data) if format == "auto" else format
        report = read_file(chosen, data, filename, read_limits(settings), settings.import_subprocess_bytes)
    except FormatError as exc:
        raise Unprocessable(f"{filename}: {exc.detail}") from exc
    del data
    run = import_in_batches(runtime.session_factory, report.outcomes, user.id, runtime.clock(),
                            capped_store(media_store(runtime), settings), status, settings.import_batch_size)
    counts = {"imported": 0, "converted": 0, "rejected": 0}
    for row in run.rows:
        counts[row.status] += 1
    return ImportOut(format=chosen, filename=filename, counts=counts, committed=run.committed, batches=run.batches,
                     complete=run.stopped is None, rows=[ImportRow(**row.__dict__) for row in run.rows])


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


@router.post("/api/media", status_code=201)
def upload_media(file: Annotated[UploadFile, File(description="an image for an item")], _: BankDep,
                 runtime: RuntimeDep) -> MediaOut:
    """Store an image; reference it from an item's ``media`` and its stem as ``![alt](media:NAME)``."""
    limit = runtime.settings.max_media_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise Unprocessable(f"file: {file.filename} is larger than {limit} bytes (EXAM_MAX_MEDIA_BYTES)")
    mime_type = sniff_media_type(data)
    if not mime_type.startswith("image/"):
        raise Unprocessable(f"file: {file.filename} is not a PNG, JPEG, GIF or WebP image")
    problem = pixel_problem(data, f"file: {file.filename}", runtime.settings.max_image_pixels)
    if problem is not None:
        raise Unprocessable(f"{problem} (EXAM_MAX_IMAGE_PIXELS)")
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
