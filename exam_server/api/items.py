"""The item bank over HTTP (staff only: items carry answer keys)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

import grading
import item_bank
from exam_server.deps import RuntimeDep, SessionDep, StaffDep, atomic
from exam_server.errors import NotFound
from exam_server.storage import FileStore
from item_bank import items as bank_items
from item_bank.search import ItemQuery, search_items
from models import Item, ItemStatus

router = APIRouter(prefix="/api/items", tags=["item bank"])


class MediaRef(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    mime_type: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ItemIn(BaseModel):
    type: str = Field(description="one of: " + ", ".join(grading.ITEM_TYPES))
    stem: str = Field(min_length=1, max_length=20000)
    definition: dict[str, Any]
    explanation: str | None = None
    status: ItemStatus = ItemStatus.DRAFT
    title: str | None = Field(default=None, max_length=300)
    tags: list[str] = Field(default_factory=list, max_length=50)
    source: str | None = Field(default=None, max_length=300)
    external_id: str | None = Field(default=None, max_length=200)
    default_points: float | None = Field(default=None, gt=0)
    time_seconds: float | None = Field(default=None, gt=0, description="expected answering time")
    difficulty_estimate: float | None = Field(default=None, ge=0, le=1, description="teacher's estimate, share correct")
    irt_a: float | None = Field(default=None, gt=0)
    irt_b: float | None = None
    irt_c: float | None = Field(default=None, ge=0, lt=1)
    irt_n: int | None = Field(default=None, ge=0, description="sample size the IRT parameters came from")
    knowledge_point_ids: list[int] = Field(default_factory=list)
    media: list[MediaRef] = Field(default_factory=list, description="images uploaded with POST /api/media")

    def to_input(self) -> bank_items.ItemInput:
        return bank_items.ItemInput(**self.model_dump())


class ItemOut(BaseModel):
    id: int
    family_id: int | None
    version: int
    is_latest: bool
    type: str
    title: str | None
    stem: str
    definition: dict[str, Any]
    explanation: str | None
    status: str
    frozen: bool
    tags: list[str]
    source: str | None
    external_id: str | None
    default_points: float | None
    time_seconds: float | None
    difficulty_estimate: float | None
    p_value: float | None
    point_biserial: float | None
    classical_n: int | None
    irt_a: float | None
    irt_b: float | None
    irt_c: float | None
    irt_n: int | None
    exposure_count: int
    media: list[dict[str, Any]]
    knowledge_point_ids: list[int]

    @classmethod
    def of(cls, item: Item, points: list[int]) -> "ItemOut":
        fields = {name: getattr(item, name) for name in cls.model_fields if name != "knowledge_point_ids"}
        return cls(**fields, knowledge_point_ids=points)


class ItemPage(BaseModel):
    total: int
    items: list[ItemOut]


class StatusIn(BaseModel):
    status: ItemStatus


def _check_media(runtime: RuntimeDep, body: ItemIn) -> None:
    store = FileStore(runtime.settings.data_dir / "media")
    for index, ref in enumerate(body.media):
        if not store.has(ref.sha256):
            raise NotFound(f"media[{index}]: {ref.sha256} was never uploaded (POST /api/media first)")


def _out(session: SessionDep, items: list[Item]) -> list[ItemOut]:
    points = bank_items.knowledge_points_of(session, [i.id for i in items])
    return [ItemOut.of(i, points[i.id]) for i in items]


@router.post("", status_code=201)
@atomic
def create_item(body: ItemIn, user: StaffDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    _check_media(runtime, body)
    item = item_bank.create_item(session, user.id, body.to_input(), runtime.clock())
    return _out(session, [item])[0]


class SearchParams(BaseModel):
    q: str | None = Field(None, description="full text (substring; Chinese works)")
    knowledge_point_id: int | None = Field(None, description="this point and everything below it")
    type: list[str] = []
    status: list[str] = []
    difficulty_min: float | None = Field(None, ge=0, le=1, description="share correct; higher is easier")
    difficulty_max: float | None = Field(None, ge=0, le=1)
    tag: list[str] = []
    max_exposure: int | None = Field(None, ge=0)
    min_exposure: int | None = Field(None, ge=0)
    mine: bool = False
    all_versions: bool = False
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("")
def search(params: Annotated[SearchParams, Query()], user: StaffDep, session: SessionDep) -> ItemPage:
    query = ItemQuery(text=params.q, knowledge_point_id=params.knowledge_point_id, types=params.type,
                      statuses=params.status, difficulty_min=params.difficulty_min,
                      difficulty_max=params.difficulty_max, tags=params.tag, max_exposure=params.max_exposure,
                      min_exposure=params.min_exposure, author_id=user.id if params.mine else None,
                      include_old_versions=params.all_versions, limit=params.limit, offset=params.offset)
    total, found = search_items(session, query)
    return ItemPage(total=total, items=_out(session, found))


@router.get("/{item_id}")
def get_item(item_id: int, _: StaffDep, session: SessionDep) -> ItemOut:
    return _out(session, [bank_items.get_item(session, item_id)])[0]


@router.put("/{item_id}")
@atomic
def update_item(item_id: int, body: ItemIn, _: StaffDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    """Edit an item. If an exam already used it, the edit becomes a new version (the response's id)."""
    _check_media(runtime, body)
    item = bank_items.update_item(session, item_id, body.to_input(), runtime.clock())
    return _out(session, [item])[0]


@router.post("/{item_id}/status")
@atomic
def set_status(item_id: int, body: StatusIn, _: StaffDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    item = bank_items.set_status(session, item_id, body.status, runtime.clock())
    return _out(session, [item])[0]


@router.get("/{item_id}/versions")
def versions(item_id: int, _: StaffDep, session: SessionDep) -> list[ItemOut]:
    return _out(session, bank_items.versions(session, item_id))
