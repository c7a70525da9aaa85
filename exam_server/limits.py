"""Resource limits from the settings, handed to the libraries that enforce them.

Each limit is an ``EXAM_MAX_*`` setting (see :mod:`exam_server.settings`):
request bodies in :mod:`exam_server.body_limit`; archives and XLSX in
:mod:`item_bank.formats.archive`; image pixels in :mod:`item_bank.images`; answers in
:mod:`grading.limits`; search terms and tags in the item routes.
"""

from __future__ import annotations

from typing import Any

from exam_server.errors import LimitExceeded
from exam_server.services.attempts import AnswerLimits
from exam_server.settings import Settings
from exam_server.storage import FileStore
from grading.limits import ResponseLimits
from item_bank.errors import ItemBankError
from item_bank.formats.archive import ReadLimits
from item_bank.images import pixel_problem
from item_bank.interchange import MediaStore


def read_limits(settings: Settings) -> ReadLimits:
    return ReadLimits(unpacked_bytes=settings.max_unpacked_bytes, member_bytes=settings.max_unpacked_member_bytes,
                      members=settings.max_archive_members, xlsx_rows=settings.max_xlsx_rows,
                      xlsx_columns=settings.max_xlsx_columns, xlsx_cells=settings.max_xlsx_cells)


def response_limits(settings: Settings) -> ResponseLimits:
    return ResponseLimits(essay_chars=settings.max_essay_chars, short_answer_chars=settings.max_short_answer_chars,
                          blank_chars=settings.max_blank_chars, numeric_chars=settings.max_numeric_chars)


def check_text_field(value: str | None, where: str, limit: int, setting: str) -> None:
    if value is not None and len(value) > limit:
        raise LimitExceeded(f"{where}: {len(value)} characters; the limit is {limit} ({setting})")


def check_tags(tags: list[str], where: str, settings: Settings) -> None:
    """Tags on an item or in a search: how many, and how long each."""
    if len(tags) > settings.max_tags:
        raise LimitExceeded(f"{where}: {len(tags)} tags; the limit is {settings.max_tags} (EXAM_MAX_TAGS)")
    for index, tag in enumerate(tags):
        check_text_field(tag, f"{where}[{index}]", settings.max_tag_chars, "EXAM_MAX_TAG_CHARS")


def check_search(q: str | None, tags: list[str], settings: Settings) -> None:
    check_text_field(q, "q", settings.max_search_chars, "EXAM_MAX_SEARCH_CHARS")
    check_tags(tags, "tag", settings)


def answer_limits(settings: Settings) -> AnswerLimits:
    return AnswerLimits(response_limits(settings), settings.max_attempt_answer_chars)


class PixelCappedStore:
    """The media store used by imports: an image over the pixel cap rejects its item, not the file."""

    def __init__(self, store: FileStore, max_pixels: int) -> None:
        self.store = store
        self.max_pixels = max_pixels

    def put(self, data: bytes, name: str, mime_type: str) -> dict[str, Any]:
        if mime_type.startswith("image/") and not mime_type.startswith("image/svg"):
            problem = pixel_problem(data, name, self.max_pixels)
            if problem is not None and "cannot be read" not in problem:
                raise ItemBankError(f"media {problem}")
        return self.store.put(data, name, mime_type)

    def get(self, sha256: str) -> bytes:
        return self.store.get(sha256)


def capped_store(store: FileStore, settings: Settings) -> MediaStore:
    return PixelCappedStore(store, settings.max_image_pixels)
