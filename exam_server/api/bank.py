"""Knowledge points and enemy sets (staff only)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from exam_server.deps import BankDep, SessionDep, atomic
from item_bank import knowledge, usage
from models import EnemySet

router = APIRouter(prefix="/api", tags=["item bank"])


class PointIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    parent_id: int | None = None


class PathIn(BaseModel):
    path: list[str] = Field(min_length=1, max_length=10, description='e.g. ["数学", "函数", "二次函数"]')


class PointOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    path: list[str]


class EnemySetIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    item_ids: list[int] = Field(min_length=2)


class EnemySetOut(BaseModel):
    id: int
    name: str
    family_ids: list[int]


@router.post("/knowledge-points", status_code=201)
@atomic
def create_point(body: PointIn, _: BankDep, session: SessionDep) -> PointOut:
    point = knowledge.create_point(session, body.name, body.parent_id)
    return _points(session, [point.id])[0]


@router.post("/knowledge-points/path", status_code=201)
@atomic
def ensure_path(body: PathIn, _: BankDep, session: SessionDep) -> PointOut:
    """Find or create a whole path at once (what importers and spreadsheets give)."""
    point = knowledge.ensure_path(session, body.path)
    return _points(session, [point.id])[0]


@router.get("/knowledge-points")
def list_points(_: BankDep, session: SessionDep) -> list[PointOut]:
    return _points(session, None)


def _points(session: SessionDep, only: list[int] | None) -> list[PointOut]:
    points = knowledge.all_points(session)
    by_id = {p.id: p for p in points}
    return [PointOut(id=p.id, name=p.name, parent_id=p.parent_id, path=list(knowledge.path_of(by_id, p.id)))
            for p in points if only is None or p.id in only]


@router.post("/enemy-sets", status_code=201)
@atomic
def create_enemy_set(body: EnemySetIn, user: BankDep, session: SessionDep) -> EnemySetOut:
    enemy_set = usage.create_enemy_set(session, body.name, body.item_ids, user.id)
    return EnemySetOut(id=enemy_set.id, name=enemy_set.name, family_ids=usage.enemy_set_members(session, enemy_set.id))


@router.get("/enemy-sets")
def list_enemy_sets(_: BankDep, session: SessionDep) -> list[EnemySetOut]:
    sets = session.scalars(select(EnemySet).order_by(EnemySet.id))
    return [EnemySetOut(id=s.id, name=s.name, family_ids=usage.enemy_set_members(session, s.id)) for s in sets]
