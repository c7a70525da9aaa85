"""Items and the bank around them: knowledge-point tree, enemy sets, usage.

``definition`` holds the type-specific content *including the key*; it never leaves the server
in student-facing output (item_bank builds the student view). Items are versioned: all versions
of one question share ``family_id``; an item used by an exam is ``frozen`` and an edit then
creates the next version (``is_latest`` moves to it), so past exams keep what they used.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import ItemStatus, ItemType, ShareScope


class KnowledgePoint(Base):
    """A node of the knowledge-point tree (知识点). A parent counts everything below it."""

    __tablename__ = "knowledge_points"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_points.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_latest: Mapped[bool] = mapped_column(default=True, server_default=true(), index=True)
    type: Mapped[ItemType] = mapped_column(String(30), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    stem: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]]
    explanation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(String(20), default=ItemStatus.DRAFT, index=True)
    # Set once the item is used in a scheduled exam: edits then create a new version.
    frozen: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    source: Mapped[str | None] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    default_points: Mapped[float | None] = mapped_column(Float)
    time_seconds: Mapped[float | None] = mapped_column(Float)
    # Difficulty from three sources, each with the sample it came from.
    difficulty_estimate: Mapped[float | None] = mapped_column(Float)  # teacher, proportion correct 0..1
    p_value: Mapped[float | None] = mapped_column(Float)  # classical, proportion correct
    point_biserial: Mapped[float | None] = mapped_column(Float)
    classical_n: Mapped[int | None] = mapped_column(Integer)
    irt_a: Mapped[float | None] = mapped_column(Float)
    irt_b: Mapped[float | None] = mapped_column(Float)
    irt_c: Mapped[float | None] = mapped_column(Float)
    irt_n: Mapped[int | None] = mapped_column(Integer)
    exposure_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # NFKC-folded, lower-cased stem + options + explanation: what full-text search matches.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    share_scope: Mapped[ShareScope] = mapped_column(String(20), default=ShareScope.SCHOOL,
                                                    server_default=ShareScope.SCHOOL.value)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]


class ItemKnowledgePoint(Base):
    __tablename__ = "item_knowledge_points"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    knowledge_point_id: Mapped[int] = mapped_column(ForeignKey("knowledge_points.id"), primary_key=True, index=True)


class EnemySet(Base):
    """Items that must not appear on the same paper (they give each other away)."""

    __tablename__ = "enemy_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class EnemySetMember(Base):
    __tablename__ = "enemy_set_members"

    enemy_set_id: Mapped[int] = mapped_column(ForeignKey("enemy_sets.id", ondelete="CASCADE"), primary_key=True)
    family_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class ItemUsage(Base):
    """One row per item per scheduled exam: exposure counts and "seen by this class recently"."""

    __tablename__ = "item_usages"
    __table_args__ = (UniqueConstraint("item_id", "exam_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    family_id: Mapped[int] = mapped_column(Integer, index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    used_at: Mapped[datetime]


__all__ = ["EnemySet", "EnemySetMember", "Item", "ItemKnowledgePoint", "ItemUsage", "KnowledgePoint"]
