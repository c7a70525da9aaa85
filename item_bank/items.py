"""Creating and reading items. Definitions are validated by the grading registry."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import grading
from models import Item, ItemStatus


@dataclass(frozen=True)
class ItemInput:
    type: str
    stem: str
    definition: dict[str, Any]
    explanation: str | None = None
    status: ItemStatus = ItemStatus.DRAFT


def create_item(session: Session, author_id: int, data: ItemInput, now: datetime) -> Item:
    """Validate and store an item. Raises grading.UnknownItemType / grading.InvalidDefinition."""
    definition = grading.validate_definition(data.type, data.definition)
    item = Item(
        type=data.type, stem=data.stem, definition=definition, explanation=data.explanation,
        status=data.status, version=1, frozen=False, author_id=author_id, created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def list_items(session: Session, author_id: int | None, limit: int, offset: int) -> list[Item]:
    query = select(Item).order_by(Item.id).limit(limit).offset(offset)
    if author_id is not None:
        query = query.where(Item.author_id == author_id)
    return list(session.scalars(query))


def item_student_view(item: Item) -> dict[str, Any]:
    """What a candidate may see of an item: stem, type and the key-free definition."""
    return {"type": item.type, "stem": item.stem, "content": grading.student_view(item.type, item.definition)}
