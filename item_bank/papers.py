"""Fixed papers: sections of scored slots. A paper used by an exam is frozen with its items."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from item_bank.errors import ItemNotFound, PaperInvalid
from item_bank.items import item_student_view
from models import Item, Paper, PaperSection, PaperSlot


@dataclass(frozen=True)
class SlotInput:
    item_id: int
    points: float


@dataclass(frozen=True)
class SectionInput:
    title: str
    slots: list[SlotInput]


@dataclass(frozen=True)
class PaperInput:
    title: str
    sections: list[SectionInput]


def create_paper(session: Session, author_id: int, data: PaperInput, now: datetime) -> Paper:
    _check_shape(data)
    _check_items_exist(session, {slot.item_id for s in data.sections for slot in s.slots})
    paper = Paper(title=data.title, author_id=author_id, frozen=False, created_at=now)
    for s_pos, section in enumerate(data.sections):
        slots = [PaperSlot(position=i, item_id=x.item_id, points=x.points) for i, x in enumerate(section.slots)]
        paper.sections.append(PaperSection(position=s_pos, title=section.title, slots=slots))
    session.add(paper)
    session.flush()
    return paper


def _check_shape(data: PaperInput) -> None:
    if not data.sections:
        raise PaperInvalid("sections: a paper needs at least one section")
    for s_pos, section in enumerate(data.sections):
        if not section.slots:
            raise PaperInvalid(f"sections[{s_pos}].slots: a section needs at least one item")
        for i, slot in enumerate(section.slots):
            if not slot.points > 0:
                raise PaperInvalid(f"sections[{s_pos}].slots[{i}].points: must be > 0, got {slot.points}")


def _check_items_exist(session: Session, item_ids: set[int]) -> None:
    found = set(session.scalars(select(Item.id).where(Item.id.in_(item_ids))))
    missing = sorted(item_ids - found)
    if missing:
        raise ItemNotFound(f"sections: unknown item id(s) {missing}")


def load_paper(session: Session, paper_id: int) -> Paper | None:
    query = (
        select(Paper)
        .where(Paper.id == paper_id)
        .options(selectinload(Paper.sections).selectinload(PaperSection.slots))
    )
    return session.scalars(query).first()


def freeze_paper(session: Session, paper: Paper) -> None:
    """Freeze a paper and its items: an exam is about to use them (edits make new versions)."""
    paper.frozen = True
    item_ids = [slot.item_id for section in paper.sections for slot in section.slots]
    for item in session.scalars(select(Item).where(Item.id.in_(item_ids))):
        item.frozen = True


def paper_items(session: Session, paper: Paper) -> dict[int, Item]:
    item_ids = {slot.item_id for section in paper.sections for slot in section.slots}
    return {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(item_ids)))}


def paper_student_view(session: Session, paper: Paper) -> dict[str, Any]:
    """The paper as a candidate sees it: no keys, no explanations."""
    items = paper_items(session, paper)
    sections = []
    for section in paper.sections:
        slots = [
            {"slot_id": slot.id, "points": slot.points, **item_student_view(items[slot.item_id])}
            for slot in section.slots
        ]
        sections.append({"title": section.title, "slots": slots})
    return {"paper_id": paper.id, "title": paper.title, "sections": sections}
