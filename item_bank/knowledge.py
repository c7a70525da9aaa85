"""The knowledge-point tree (知识点): paths, subtrees and lookups."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank.errors import KnowledgePointNotFound
from models import KnowledgePoint


def create_point(session: Session, name: str, parent_id: int | None) -> KnowledgePoint:
    if parent_id is not None and session.get(KnowledgePoint, parent_id) is None:
        raise KnowledgePointNotFound(f"parent_id: knowledge point {parent_id} does not exist")
    existing = _child(session, parent_id, name)
    if existing is not None:
        return existing
    point = KnowledgePoint(name=name.strip(), parent_id=parent_id, position=0)
    session.add(point)
    session.flush()
    return point


def _child(session: Session, parent_id: int | None, name: str) -> KnowledgePoint | None:
    query = select(KnowledgePoint).where(KnowledgePoint.name == name.strip())
    same_parent = KnowledgePoint.parent_id.is_(None) if parent_id is None else KnowledgePoint.parent_id == parent_id
    query = query.where(same_parent)
    return session.scalars(query).first()


def ensure_path(session: Session, path: Sequence[str]) -> KnowledgePoint:
    """Find or create every node of a path such as ("数学", "函数", "二次函数")."""
    names = [part.strip() for part in path if part.strip()]
    if not names:
        raise KnowledgePointNotFound("knowledge point path is empty")
    parent: KnowledgePoint | None = None
    for name in names:
        parent = create_point(session, name, parent.id if parent else None)
    assert parent is not None
    return parent


def all_points(session: Session) -> list[KnowledgePoint]:
    return list(session.scalars(select(KnowledgePoint).order_by(KnowledgePoint.parent_id, KnowledgePoint.position,
                                                                KnowledgePoint.name)))


def children_map(points: Iterable[KnowledgePoint]) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for point in points:
        children[point.parent_id].append(point.id)
    return children


def subtree_ids(session: Session, root_id: int) -> set[int]:
    """The node and every node below it (a parent counts its children)."""
    if session.get(KnowledgePoint, root_id) is None:
        raise KnowledgePointNotFound(f"knowledge point {root_id} does not exist")
    children = children_map(all_points(session))
    found, stack = {root_id}, [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def path_of(points_by_id: dict[int, KnowledgePoint], point_id: int) -> tuple[str, ...]:
    names: list[str] = []
    current: int | None = point_id
    while current is not None and current in points_by_id and len(names) < 64:
        names.append(points_by_id[current].name)
        current = points_by_id[current].parent_id
    return tuple(reversed(names))
