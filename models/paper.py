"""Papers: ordered sections holding ordered, scored slots that point at items."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    frozen: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    sections: Mapped[list["PaperSection"]] = relationship(
        order_by="PaperSection.position", cascade="all, delete-orphan"
    )


class PaperSection(Base):
    __tablename__ = "paper_sections"
    __table_args__ = (UniqueConstraint("paper_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))

    slots: Mapped[list["PaperSlot"]] = relationship(
        order_by="PaperSlot.position", cascade="all, delete-orphan"
    )


class PaperSlot(Base):
    __tablename__ = "paper_slots"
    __table_args__ = (UniqueConstraint("section_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("paper_sections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    points: Mapped[float] = mapped_column(Numeric(8, 2, asdecimal=False))
