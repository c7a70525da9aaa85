"""Fixed papers (staff only)."""

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

import item_bank
from exam_server.deps import RuntimeDep, SessionDep, StaffDep, atomic
from exam_server.errors import NotFound
from item_bank.papers import load_paper
from models import Paper, PaperSection, PaperSlot

router = APIRouter(prefix="/api/papers", tags=["papers"])


class SlotIn(BaseModel):
    item_id: int
    points: float = Field(gt=0, le=1000)


class SectionIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    slots: list[SlotIn] = Field(min_length=1)


class PaperIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    sections: list[SectionIn] = Field(min_length=1)

    def to_input(self) -> item_bank.PaperInput:
        return item_bank.PaperInput(
            title=self.title,
            sections=[item_bank.SectionInput(s.title, [item_bank.SlotInput(x.item_id, x.points) for x in s.slots])
                      for s in self.sections],
        )


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


@router.post("", status_code=201)
@atomic
def create_paper(body: PaperIn, user: StaffDep, runtime: RuntimeDep, session: SessionDep) -> PaperOut:
    paper = item_bank.create_paper(session, user.id, body.to_input(), runtime.clock())
    return PaperOut.of(paper)


@router.get("/{paper_id}")
def get_paper(paper_id: int, _: StaffDep, session: SessionDep) -> PaperOut:
    paper = load_paper(session, paper_id)
    if paper is None:
        raise NotFound(f"paper {paper_id} does not exist")
    return PaperOut.of(paper)


class PaperSummary(BaseModel):
    id: int
    title: str
    frozen: bool
    items: int
    max_score: float
    created_at: datetime


@router.get("")
def list_papers(user: StaffDep, session: SessionDep, mine: bool = True,
                limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[PaperSummary]:
    """Papers, newest first (by default the caller's own)."""
    totals = (select(PaperSection.paper_id, func.count(PaperSlot.id).label("n"),
                     func.sum(PaperSlot.points).label("pts"))
              .join(PaperSlot, PaperSlot.section_id == PaperSection.id).group_by(PaperSection.paper_id).subquery())
    query = (select(Paper, totals.c.n, totals.c.pts).join(totals, totals.c.paper_id == Paper.id)
             .order_by(Paper.id.desc()).limit(limit).offset(offset))
    if mine:
        query = query.where(Paper.author_id == user.id)
    return [PaperSummary(id=p.id, title=p.title, frozen=p.frozen, items=n, max_score=float(pts or 0),
                         created_at=p.created_at) for p, n, pts in session.execute(query)]
