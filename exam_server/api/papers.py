"""Fixed papers (staff only)."""

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

import item_bank
from exam_server import permissions
from exam_server.deps import PapersDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound
from item_bank.papers import load_paper
from models import Item, Paper, PaperSection, PaperSlot

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
def create_paper(body: PaperIn, user: PapersDep, runtime: RuntimeDep, session: SessionDep) -> PaperOut:
    """A paper of items the author may use (their own and those shared with them)."""
    wanted = {slot.item_id for section in body.sections for slot in section.slots}
    readable = set(session.scalars(select(Item.id).where(Item.id.in_(wanted),
                                                         permissions.items_clause(user, runtime.clock()))))
    if missing := sorted(wanted - readable):
        raise NotFound(f"sections: item(s) {missing} do not exist or are not shared with you")
    paper = item_bank.create_paper(session, user.id, body.to_input(), runtime.clock())
    return PaperOut.of(paper)


@router.get("/{paper_id}")
def get_paper(paper_id: int, user: PapersDep, runtime: RuntimeDep, session: SessionDep) -> PaperOut:
    """Readable by its author, the staff of exams that use it, and (once no exam using it is
    still open) other teachers of the author's school."""
    paper = load_paper(session, paper_id)
    if paper is None or not permissions.may_read_paper(session, user, paper, runtime.clock()):
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
def list_papers(user: PapersDep, runtime: RuntimeDep, session: SessionDep, mine: bool = True,
                limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[PaperSummary]:
    """Papers, newest first: by default the caller's own; ``mine=false``: every paper they may read."""
    totals = (select(PaperSection.paper_id, func.count(PaperSlot.id).label("n"),
                     func.sum(PaperSlot.points).label("pts"))
              .join(PaperSlot, PaperSlot.section_id == PaperSection.id).group_by(PaperSection.paper_id).subquery())
    query = (select(Paper, totals.c.n, totals.c.pts).join(totals, totals.c.paper_id == Paper.id)
             .order_by(Paper.id.desc()).limit(limit).offset(offset))
    query = query.where(Paper.author_id == user.id if mine else permissions.papers_clause(user, runtime.clock()))
    return [PaperSummary(id=p.id, title=p.title, frozen=p.frozen, items=n, max_score=float(pts or 0),
                         created_at=p.created_at) for p, n, pts in session.execute(query)]
