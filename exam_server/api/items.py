"""The item bank over HTTP (staff only: items carry answer keys)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

import grading
import item_bank
from exam_server import permissions
from exam_server.api import bounds
from exam_server.deps import BankDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound, NotYours
from exam_server.limits import check_search, check_tags
from exam_server.services import audit
from exam_server.storage import FileStore
from item_bank import items as bank_items
from item_bank.search import ItemQuery, search_items
from models import Item, ItemStatus, ShareScope, User

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
    default_points: float | None = Field(default=None, gt=0, le=bounds.MAX_POINTS)
    time_seconds: float | None = Field(default=None, gt=0, le=bounds.MAX_ITEM_SECONDS,
                                       description="expected answering time")
    difficulty_estimate: float | None = Field(default=None, ge=0, le=1, description="teacher's estimate, share correct")
    irt_a: float | None = Field(default=None, gt=0, le=bounds.MAX_IRT_A)
    irt_b: float | None = Field(default=None, ge=-bounds.MAX_ABS_THETA, le=bounds.MAX_ABS_THETA)
    irt_c: float | None = Field(default=None, ge=0, lt=1)
    irt_n: int | None = Field(default=None, ge=0, description="sample size the IRT parameters came from")
    knowledge_point_ids: list[int] = Field(default_factory=list)
    media: list[MediaRef] = Field(default_factory=list, description="images uploaded with POST /api/media")
    share_scope: ShareScope = Field(ShareScope.SCHOOL, description="who else may use it: private, school, district")

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
    share_scope: str
    author_id: int
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
def create_item(body: ItemIn, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    _check_media(runtime, body)
    check_tags(body.tags, "tags", runtime.settings)
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
def search(params: Annotated[SearchParams, Query()], user: BankDep, runtime: RuntimeDep,
           session: SessionDep) -> ItemPage:
    """Items the caller may see: their own, their school's shared ones and the district's, minus
    items on other people's exams that have not closed yet."""
    check_search(params.q, params.tag, runtime.settings)
    query = ItemQuery(text=params.q, knowledge_point_id=params.knowledge_point_id, types=params.type,
                      statuses=params.status, difficulty_min=params.difficulty_min,
                      difficulty_max=params.difficulty_max, tags=params.tag, max_exposure=params.max_exposure,
                      min_exposure=params.min_exposure, author_id=user.id if params.mine else None,
                      include_old_versions=params.all_versions, limit=params.limit, offset=params.offset,
                      visible=permissions.items_clause(user, runtime.clock()))
    total, found = search_items(session, query)
    return ItemPage(total=total, items=_out(session, found))


def _readable(session: SessionDep, runtime: RuntimeDep, user: User, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None or not permissions.may_read_item(session, user, item, runtime.clock()):
        raise NotFound(f"item {item_id} does not exist")
    return item


def _editable(session: SessionDep, runtime: RuntimeDep, user: User, item_id: int) -> Item:
    item = _readable(session, runtime, user, item_id)
    if not permissions.may_edit_item(user, item):
        raise NotYours(f"item {item_id} belongs to another teacher; only its author or a reviewer may change it")
    return item


def _audit_foreign(session: SessionDep, runtime: RuntimeDep, user: User, item: Item, action: str,
                   data: dict[str, Any]) -> None:
    """Changes to someone else's item are kept in the audit trail."""
    if item.author_id != user.id:
        audit.record(session, user.id, action, "item", item.id, {"author_id": item.author_id, **data},
                     runtime.clock())


@router.get("/{item_id}")
def get_item(item_id: int, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    return _out(session, [_readable(session, runtime, user, item_id)])[0]


@router.put("/{item_id}")
@atomic
def update_item(item_id: int, body: ItemIn, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    """Edit an item. If an exam already used it, the edit becomes a new version (the response's id).
    Only the author or a reviewer may edit; a reviewer's edit of another's item is audited."""
    current = _editable(session, runtime, user, item_id)
    _check_media(runtime, body)
    check_tags(body.tags, "tags", runtime.settings)
    item = bank_items.update_item(session, item_id, body.to_input(), runtime.clock())
    _audit_foreign(session, runtime, user, current, "item.edited", {"result_item_id": item.id,
                                                                    "version": item.version})
    return _out(session, [item])[0]


@router.post("/{item_id}/status")
@atomic
def set_status(item_id: int, body: StatusIn, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> ItemOut:
    current = _editable(session, runtime, user, item_id)
    before = current.status
    item = bank_items.set_status(session, item_id, body.status, runtime.clock())
    _audit_foreign(session, runtime, user, item, "item.status", {"from": before, "to": body.status})
    return _out(session, [item])[0]


@router.get("/{item_id}/versions")
def versions(item_id: int, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> list[ItemOut]:
    _readable(session, runtime, user, item_id)
    return _out(session, [v for v in bank_items.versions(session, item_id)
                          if permissions.may_read_item(session, user, v, runtime.clock())])


class AuditOut(BaseModel):
    actor_id: int | None
    action: str
    data: dict[str, Any] | None
    created_at: datetime


@router.get("/{item_id}/audit")
def item_audit(item_id: int, user: BankDep, runtime: RuntimeDep, session: SessionDep) -> list[AuditOut]:
    """Changes made to this item's family by people other than its author."""
    family = [v.id for v in bank_items.versions(session, _readable(session, runtime, user, item_id).id)]
    return [AuditOut(actor_id=e.actor_id, action=e.action, data=e.data, created_at=e.created_at)
            for e in audit.events_for(session, "item", family)]
