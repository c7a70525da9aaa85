"""Bringing drafts from interchange files into the bank, and items back out as drafts.

Format readers and writers live in ``item_bank.formats``; this module only maps between their
:class:`ItemDraft` and stored items. Each draft is stored in its own savepoint, so one item the
bank refuses (say, an unknown knowledge point depth or a definition the registry rejects) never
undoes the others.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

import grading
from item_bank.errors import ItemBankError
from item_bank.formats.draft import ImportOutcome, ImportReport, ItemDraft, MediaFile
from item_bank.items import ItemInput, create_item, knowledge_points_of
from item_bank.knowledge import all_points, ensure_path, path_of
from models import Item, ItemStatus


class MediaStore(Protocol):
    def put(self, data: bytes, name: str, mime_type: str) -> dict[str, Any]: ...

    def get(self, sha256: str) -> bytes: ...


@dataclass
class ImportedRow:
    index: int
    identifier: str
    status: str  # imported | converted | rejected
    messages: list[str] = field(default_factory=list)
    item_id: int | None = None


def import_report(session: Session, report: ImportReport, author_id: int, now: datetime,
                  media: MediaStore, status: ItemStatus = ItemStatus.DRAFT) -> list[ImportedRow]:
    return import_outcomes(session, report.outcomes, author_id, now, media, status)


def import_outcomes(session: Session, outcomes: Sequence[ImportOutcome], author_id: int, now: datetime,
                    media: MediaStore, status: ItemStatus = ItemStatus.DRAFT) -> list[ImportedRow]:
    """Store some of a report's outcomes in the caller's transaction (the caller chooses how many
    per transaction: a big import commits batch by batch)."""
    rows: list[ImportedRow] = []
    for outcome in outcomes:
        row = ImportedRow(outcome.index, outcome.identifier, outcome.status, list(outcome.messages))
        if outcome.draft is not None:
            try:
                with session.begin_nested():
                    row.item_id = _store_draft(session, outcome.draft, author_id, now, media, status)
            except (grading.GradingError, ItemBankError, ValueError) as exc:
                row.status, row.item_id = "rejected", None
                row.messages.append(f"not stored: {getattr(exc, 'detail', str(exc))}")
        rows.append(row)
    return rows


def _store_draft(session: Session, draft: ItemDraft, author_id: int, now: datetime, media: MediaStore,
                 status: ItemStatus) -> int:
    points = [ensure_path(session, path).id for path in draft.knowledge_points if path]
    stored_media = [media.put(m.data, m.name, m.mime_type) for m in draft.media]
    data = ItemInput(type=draft.type, stem=draft.stem, definition=draft.definition, explanation=draft.explanation,
                     status=status, title=draft.title, tags=list(draft.tags), source=draft.source,
                     external_id=draft.external_id, default_points=draft.default_points,
                     difficulty_estimate=draft.difficulty, knowledge_point_ids=points, media=stored_media)
    return create_item(session, author_id, data, now).id


def drafts_for(session: Session, item_ids: list[int], media: MediaStore) -> list[ItemDraft]:
    """Items as drafts for a writer, in the order asked, with knowledge-point paths and media."""
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(item_ids)))}
    missing = [i for i in item_ids if i not in items]
    if missing:
        raise ItemBankError(f"ids: unknown item id(s) {missing}")
    by_id = {p.id: p for p in all_points(session)}
    point_ids = knowledge_points_of(session, item_ids)
    return [_draft(items[i], [path_of(by_id, p) for p in point_ids[i]], media) for i in item_ids]


def _draft(item: Item, paths: list[tuple[str, ...]], media: MediaStore) -> ItemDraft:
    files = [MediaFile(m["name"], m["mime_type"], media.get(m["sha256"])) for m in item.media or []]
    return ItemDraft(type=item.type, stem=item.stem, definition=dict(item.definition), explanation=item.explanation,
                     title=item.title, knowledge_points=paths, tags=list(item.tags or []), source=item.source,
                     difficulty=item.p_value if item.p_value is not None else item.difficulty_estimate,
                     default_points=item.default_points, external_id=item.external_id, media=files)
