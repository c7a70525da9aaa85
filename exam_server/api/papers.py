"""Fixed papers (staff only)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

import item_bank
from exam_server.deps import RuntimeDep, SessionDep, StaffDep, atomic
from exam_server.errors import NotFound
from item_bank.papers import load_paper
from models import Paper

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
