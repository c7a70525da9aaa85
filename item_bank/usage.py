"""Exposure and enemy sets: how often an item was used, by whom, and what may not go together."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from item_bank.errors import ItemBankError, ItemNotFound
from models import EnemySet, EnemySetMember, Item, ItemUsage


def record_usage(session: Session, item_ids: Iterable[int], exam_id: int, class_id: int | None,
                 now: datetime) -> None:
    """An exam was scheduled with these items: count the exposure once per exam."""
    ids = sorted(set(item_ids))
    families = _families(session, ids)
    session.add_all(ItemUsage(item_id=i, family_id=families.get(i, i), exam_id=exam_id, class_id=class_id,
                              used_at=now) for i in ids)
    session.execute(update(Item).where(Item.family_id.in_(set(families.values())))
                    .values(exposure_count=Item.exposure_count + 1).execution_options(synchronize_session=False))


def _families(session: Session, item_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(Item.id, Item.family_id).where(Item.id.in_(item_ids)))
    return {item_id: family or item_id for item_id, family in rows}


def families_seen_by_class(session: Session, class_id: int, since: datetime) -> set[int]:
    query = select(ItemUsage.family_id).where(ItemUsage.class_id == class_id, ItemUsage.used_at >= since)
    return set(session.scalars(query))


def create_enemy_set(session: Session, name: str, item_ids: list[int], created_by: int) -> EnemySet:
    if len(set(item_ids)) < 2:
        raise ItemBankError("item_ids: an enemy set needs at least two different items")
    families = _families(session, item_ids)
    missing = sorted(set(item_ids) - set(families))
    if missing:
        raise ItemNotFound(f"item_ids: unknown item id(s) {missing}")
    enemy_set = EnemySet(name=name, created_by=created_by)
    session.add(enemy_set)
    session.flush()
    # Stored by family, so a new version of an item stays an enemy of the others.
    session.add_all(EnemySetMember(enemy_set_id=enemy_set.id, family_id=f) for f in set(families.values()))
    session.flush()
    return enemy_set


def enemy_sets_by_family(session: Session, family_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    query = select(EnemySetMember.family_id, EnemySetMember.enemy_set_id)
    if family_ids is not None:
        query = query.where(EnemySetMember.family_id.in_(list(family_ids)))
    result: dict[int, list[int]] = defaultdict(list)
    for family, set_id in session.execute(query):
        result[family].append(set_id)
    return dict(result)


def enemy_set_members(session: Session, enemy_set_id: int) -> list[int]:
    return list(session.scalars(select(EnemySetMember.family_id).where(EnemySetMember.enemy_set_id == enemy_set_id)))
