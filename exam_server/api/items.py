"""Items and fixed papers (staff only: these carry answer keys)."""

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

import grading
import item_bank
from exam_server.deps import RuntimeDep, SessionDep, StaffDep
from exam_server.errors import NotFound
from item_bank.papers import load_paper
from models import Item, ItemStatus, Paper

router = APIRouter(prefix="/api", tags=["items and papers"])


class ItemIn(BaseModel):
    type: str = Field(description="one of: " + ", ".join(grading.ITEM_TYPES))
    stem: str = Field(min_length=1, max_length=20000)
    definition: dict[str, Any]
    explanation: str | None = None
    status: ItemStatus = ItemStatus.DRAFT


class ItemOut(BaseModel):
    id: int
    type: str
    stem: str
    definition: dict[str, Any]
    explanation: str | None
    status: str
    version: int
    frozen: bool

    @classmethod
    def of(cls, item: Item) -> "ItemOut":
        return cls(id=item.id, type=item.type, stem=item.stem, definition=item.definition,
                   explanation=item.explanation, status=item.status, version=item.version, frozen=item.frozen)


class SlotIn(BaseModel):
    item_id: int
    points: float = Field(gt=0, le=1000)


class SectionIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    slots: list[SlotIn] = Field(min_length=1)


class PaperIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    sections: list[SectionIn] = Field(min_length=1)


class SlotOut(BaseModel):
    slot_id: int
    item_id: int
    points: float


class SectionOut(BaseModel):
    title: str
    slots: list[SlotOut]


class PaperOut(BaseModel):
    id: int
    title: str
    frozen: bool
    max_score: float
    sections: list[SectionOut]

    @classmethod
    def of(cls, paper: Paper) -> "PaperOut":
        sections = [
            SectionOut(title=s.title, slots=[SlotOut(slot_id=x.id, item_id=x.item_id, points=x.points)
                                             for x in s.slots])
            for s in paper.sections
        ]
        total = sum(x.points for s in sections for x in s.slots)
        return cls(id=paper.id, title=paper.title, frozen=paper.frozen, max_score=total, sections=sections)


@router.post("/items", status_code=201)
def create_item(body: ItemIn, user: StaffDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    data = item_bank.ItemInput(body.type, body.stem, body.definition, body.explanation, body.status)
    item = item_bank.create_item(session, user.id, data, runtime.clock())
    session.commit()
    return ItemOut.of(item)


@router.get("/items")
def list_items(
    user: StaffDep, session: SessionDep,
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
) -> list[ItemOut]:
    return [ItemOut.of(i) for i in item_bank.list_items(session, None, limit, offset)]


@router.get("/items/{item_id}")
def get_item(item_id: int, _: StaffDep, session: SessionDep) -> ItemOut:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    return ItemOut.of(item)


@router.post("/papers", status_code=201)
def create_paper(body: PaperIn, user: StaffDep, runtime: RuntimeDep, session: SessionDep) -> PaperOut:
    data = item_bank.PaperInput(
        title=body.title,
        sections=[
            item_bank.SectionInput(s.title, [item_bank.SlotInput(x.item_id, x.points) for x in s.slots])
            for s in body.sections
        ],
    )
    paper = item_bank.create_paper(session, user.id, data, runtime.clock())
    session.commit()
    return PaperOut.of(paper)


@router.get("/papers/{paper_id}")
def get_paper(paper_id: int, _: StaffDep, session: SessionDep) -> PaperOut:
    paper = load_paper(session, paper_id)
    if paper is None:
        raise NotFound(f"paper {paper_id} does not exist")
    return PaperOut.of(paper)
