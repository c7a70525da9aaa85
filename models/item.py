"""Items. ``definition`` holds the type-specific content *including the key*; it never leaves
the server in student-facing output (item_bank builds the student view)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import ItemStatus, ItemType


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[ItemType] = mapped_column(String(30), index=True)
    stem: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]]
    explanation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(String(20), default=ItemStatus.DRAFT)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Set once the item is used in a scheduled exam: edits then create a new version.
    frozen: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
