"""The bank as the assembly engine sees it: a Pool of PoolItems and the knowledge tree, read from
the database (the engine itself stays pure)."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from item_bank.assembly import KnowledgeTree, Pool, PoolItem
from item_bank.knowledge import all_points
from item_bank.usage import enemy_sets_by_family, families_seen_by_class
from models import Item, ItemKnowledgePoint

DEFAULT_SECONDS = 60.0  # an item without a time estimate is assumed to take a minute


def load_tree(session: Session) -> KnowledgeTree:
    points = all_points(session)
    return KnowledgeTree(parents={p.id: p.parent_id for p in points}, names={p.id: p.name for p in points})


def load_pool(session: Session, class_id: int | None, now: datetime, recent_days: int,
              visible: ColumnElement[bool] | None = None) -> Pool:
    """Latest versions of the items the caller may use (``visible``, SQL; default all), with their
    tags, enemies, exposure and recent use by the class."""
    query = select(Item).where(Item.is_latest.is_(True)).order_by(Item.id)
    items = list(session.scalars(query if visible is None else query.where(visible)))
    points: dict[int, list[int]] = {}
    for item_id, point_id in session.execute(
        select(ItemKnowledgePoint.item_id, ItemKnowledgePoint.knowledge_point_id)
        .join(Item, Item.id == ItemKnowledgePoint.item_id).where(Item.is_latest.is_(True))
    ):
        points.setdefault(item_id, []).append(point_id)
    enemies = enemy_sets_by_family(session)
    seen = families_seen_by_class(session, class_id, now - timedelta(days=recent_days)) if class_id else set()
    return Pool(tuple(_pool_item(item, points.get(item.id, []), enemies, seen) for item in items))


def _pool_item(item: Item, points: list[int], enemies: dict[int, list[int]], seen: set[int]) -> PoolItem:
    family = item.family_id or item.id
    difficulty = item.p_value if item.p_value is not None else item.difficulty_estimate
    return PoolItem(
        id=item.id, type=item.type, knowledge_points=tuple(points), difficulty=difficulty,
        irt_a=item.irt_a, irt_b=item.irt_b, time_seconds=item.time_seconds or DEFAULT_SECONDS,
        status=item.status, exposure=item.exposure_count, seen_recently_by_class=family in seen,
        enemy_sets=tuple(str(s) for s in enemies.get(family, [])), default_points=item.default_points or 1.0,
    )
