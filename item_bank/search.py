"""Searching the bank: full text (substring, so Chinese works without word breaks), knowledge
point (with everything below it), type, difficulty range, status, tags and usage."""

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, func, select
from sqlalchemy.orm import Session

from item_bank.knowledge import subtree_ids
from models import Item, ItemKnowledgePoint


@dataclass(frozen=True)
class ItemQuery:
    text: str | None = None
    knowledge_point_id: int | None = None
    types: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    difficulty_min: float | None = None  # proportion correct: higher is easier
    difficulty_max: float | None = None
    tags: list[str] = field(default_factory=list)
    max_exposure: int | None = None
    min_exposure: int | None = None
    author_id: int | None = None
    include_old_versions: bool = False
    limit: int = 50
    offset: int = 0
    # Who may see what is the caller's business (exam_server.permissions); it arrives as SQL.
    visible: ColumnElement[bool] | None = None


def effective_difficulty() -> ColumnElement[float]:
    """Classical p when measured, else the teacher's estimate (SQL expression)."""
    return func.coalesce(Item.p_value, Item.difficulty_estimate)


def search_items(session: Session, query: ItemQuery) -> tuple[int, list[Item]]:
    statement = _filtered(session, query)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = statement.order_by(Item.id).limit(query.limit).offset(query.offset)
    return int(total), list(session.scalars(page))


def _filtered(session: Session, query: ItemQuery) -> Select[Any]:
    statement = select(Item)
    if query.visible is not None:
        statement = statement.where(query.visible)
    if not query.include_old_versions:
        statement = statement.where(Item.is_latest.is_(True))
    for term in _terms(query.text):
        # Trigram-indexed on PostgreSQL; escaped so % and _ match themselves.
        statement = statement.where(Item.search_text.like(f"%{_escape(term)}%", escape="\\"))
    if query.knowledge_point_id is not None:
        points = subtree_ids(session, query.knowledge_point_id)
        tagged = select(ItemKnowledgePoint.item_id).where(ItemKnowledgePoint.knowledge_point_id.in_(points))
        statement = statement.where(Item.id.in_(tagged))
    if query.types:
        statement = statement.where(Item.type.in_(query.types))
    if query.statuses:
        statement = statement.where(Item.status.in_(query.statuses))
    statement = _difficulty_and_usage(statement, query)
    for tag in query.tags:
        statement = statement.where(_has_tag(tag))
    if query.author_id is not None:
        statement = statement.where(Item.author_id == query.author_id)
    return statement


def _difficulty_and_usage(statement: Select[Any], query: ItemQuery) -> Select[Any]:
    difficulty = effective_difficulty()
    if query.difficulty_min is not None:
        statement = statement.where(difficulty >= query.difficulty_min)
    if query.difficulty_max is not None:
        statement = statement.where(difficulty <= query.difficulty_max)
    if query.max_exposure is not None:
        statement = statement.where(Item.exposure_count <= query.max_exposure)
    if query.min_exposure is not None:
        statement = statement.where(Item.exposure_count >= query.min_exposure)
    return statement


def _has_tag(tag: str) -> ColumnElement[bool]:
    # Tags are a JSON list stored unescaped (ensure_ascii=False); matching the serialised form
    # works the same on SQLite and PostgreSQL.
    return cast(Item.tags, String).like(f'%"{_escape(tag)}"%', escape="\\")


def _terms(text: str | None) -> list[str]:
    if not text:
        return []
    return [t for t in unicodedata.normalize("NFKC", text).casefold().split() if t]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
