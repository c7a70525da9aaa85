"""Creating, editing (with versions) and reading items. Definitions are validated by the
grading registry. An item used by an exam is frozen: editing it creates the next version."""

import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import grading
from item_bank.errors import ItemFrozen, ItemNotFound, KnowledgePointNotFound
from item_bank.opaque_ids import issue_opaque_ids
from models import Item, ItemKnowledgePoint, ItemStatus, KnowledgePoint, ShareScope


@dataclass(frozen=True)
class ItemInput:
    type: str
    stem: str
    definition: dict[str, Any]
    explanation: str | None = None
    status: ItemStatus = ItemStatus.DRAFT
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    external_id: str | None = None
    default_points: float | None = None
    time_seconds: float | None = None
    difficulty_estimate: float | None = None
    irt_a: float | None = None
    irt_b: float | None = None
    irt_c: float | None = None
    irt_n: int | None = None
    knowledge_point_ids: list[int] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    share_scope: ShareScope = ShareScope.SCHOOL


# Item columns an author sets directly (the rest are derived or statistics).
_AUTHORED = [f.name for f in fields(ItemInput) if f.name not in ("definition", "knowledge_point_ids")]


def build_search_text(stem: str, definition: dict[str, Any], explanation: str | None) -> str:
    """NFKC-folded lower-case text of everything a teacher may search for, keys included."""
    parts = [stem, explanation or ""]
    parts += _strings(definition)
    return unicodedata.normalize("NFKC", " ".join(p for p in parts if p)).casefold()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def create_item(session: Session, author_id: int, data: ItemInput, now: datetime) -> Item:
    """Validate and store an item. Raises grading.UnknownItemType / grading.InvalidDefinition."""
    definition = issue_opaque_ids(data.type, grading.validate_definition(data.type, data.definition))
    item = Item(definition=definition, version=1, is_latest=True, frozen=False, author_id=author_id,
                created_at=now, exposure_count=0, **{name: getattr(data, name) for name in _AUTHORED})
    item.search_text = build_search_text(item.stem, definition, item.explanation)
    session.add(item)
    session.flush()
    item.family_id = item.id
    set_knowledge_points(session, item.id, data.knowledge_point_ids)
    return item


def update_item(session: Session, item_id: int, data: ItemInput, now: datetime) -> Item:
    """Edit in place while unused; once frozen, store the edit as the next version."""
    current = get_item(session, item_id)
    if not current.is_latest:
        raise ItemFrozen(f"item {item_id} is version {current.version}, not the latest; edit the latest version")
    definition = issue_opaque_ids(data.type, grading.validate_definition(data.type, data.definition))
    target = current
    if current.frozen:
        current.is_latest = False
        target = Item(family_id=current.family_id, version=current.version + 1, is_latest=True, frozen=False,
                      author_id=current.author_id, created_at=now, exposure_count=current.exposure_count)
        session.add(target)
    for name in _AUTHORED:
        setattr(target, name, getattr(data, name))
    target.definition, target.updated_at = definition, now
    target.search_text = build_search_text(target.stem, definition, target.explanation)
    session.flush()
    set_knowledge_points(session, target.id, data.knowledge_point_ids)
    return target


def set_status(session: Session, item_id: int, status: ItemStatus, now: datetime) -> Item:
    """Review or retire an item (a status change does not alter what an exam showed)."""
    item = get_item(session, item_id)
    item.status, item.updated_at = status, now
    return item


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise ItemNotFound(f"item {item_id} does not exist")
    return item


def versions(session: Session, item_id: int) -> list[Item]:
    family = get_item(session, item_id).family_id
    return list(session.scalars(select(Item).where(Item.family_id == family).order_by(Item.version)))


def set_knowledge_points(session: Session, item_id: int, point_ids: list[int]) -> None:
    wanted = sorted(set(point_ids))
    if wanted:
        found = set(session.scalars(select(KnowledgePoint.id).where(KnowledgePoint.id.in_(wanted))))
        missing = [p for p in wanted if p not in found]
        if missing:
            raise KnowledgePointNotFound(f"knowledge_point_ids: unknown knowledge point(s) {missing}")
    session.execute(delete(ItemKnowledgePoint).where(ItemKnowledgePoint.item_id == item_id))
    session.add_all(ItemKnowledgePoint(item_id=item_id, knowledge_point_id=p) for p in wanted)
    session.flush()


def knowledge_points_of(session: Session, item_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return result
    rows = session.execute(select(ItemKnowledgePoint.item_id, ItemKnowledgePoint.knowledge_point_id)
                           .where(ItemKnowledgePoint.item_id.in_(item_ids)))
    for item_id, point_id in rows:
        result[item_id].append(point_id)
    return result


def list_items(session: Session, author_id: int | None, limit: int, offset: int) -> list[Item]:
    query = select(Item).where(Item.is_latest.is_(True)).order_by(Item.id).limit(limit).offset(offset)
    if author_id is not None:
        query = query.where(Item.author_id == author_id)
    return list(session.scalars(query))


def item_student_view(item: Item) -> dict[str, Any]:
    """What a candidate may see of an item: stem, type and the key-free definition."""
    view: dict[str, Any] = {"type": item.type, "stem": item.stem,
                            "content": grading.student_view(item.type, item.definition)}
    if item.media:
        # Names and content ids only; the stem refers to pictures as ![alt](media:NAME).
        view["media"] = [{"name": m["name"], "sha256": m["sha256"]} for m in item.media]
    return view
