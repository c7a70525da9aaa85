"""Exam sites (考点) and rooms (考场): centre staff and admins (see exam_server.services.sites)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from exam_server.deps import CentreDep, SessionDep, atomic
from exam_server.services import sites
from models import Room, Site

router = APIRouter(prefix="/api", tags=["centre"])


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=20, description="the site code (考点代码), used in admission numbers")
    school_id: int | None = None
    address: str | None = Field(None, max_length=300)


class SiteOut(SiteIn):
    id: int

    @classmethod
    def of(cls, site: Site) -> "SiteOut":
        return cls(id=site.id, name=site.name, code=site.code, school_id=site.school_id, address=site.address)


class RoomIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    rows: int = Field(gt=0, le=50)
    cols: int = Field(gt=0, le=50)
    capacity: int | None = Field(None, gt=0, description="seats used, row-major from the front; default rows x cols")


class RoomOut(BaseModel):
    id: int
    site_id: int
    code: str
    name: str
    rows: int
    cols: int
    capacity: int

    @classmethod
    def of(cls, room: Room) -> "RoomOut":
        return cls(id=room.id, site_id=room.site_id, code=room.code, name=room.name, rows=room.rows, cols=room.cols,
                   capacity=room.capacity)


def _site(body: SiteIn) -> sites.SiteInput:
    return sites.SiteInput(body.name, body.code, body.school_id, body.address)


def _room(body: RoomIn) -> sites.RoomInput:
    return sites.RoomInput(body.code, body.name, body.rows, body.cols, body.capacity)


@router.get("/sites")
def list_sites(user: CentreDep, session: SessionDep) -> list[SiteOut]:
    return [SiteOut.of(s) for s in sites.list_sites(session)]


@router.post("/sites", status_code=201)
@atomic
def create_site(body: SiteIn, user: CentreDep, session: SessionDep) -> SiteOut:
    return SiteOut.of(sites.save_site(session, _site(body)))


@router.put("/sites/{site_id}")
@atomic
def update_site(site_id: int, body: SiteIn, user: CentreDep, session: SessionDep) -> SiteOut:
    return SiteOut.of(sites.save_site(session, _site(body), sites.get_site(session, site_id)))


@router.delete("/sites/{site_id}", status_code=204)
@atomic
def delete_site(site_id: int, user: CentreDep, session: SessionDep) -> None:
    sites.delete_site(session, sites.get_site(session, site_id))


@router.get("/sites/{site_id}/rooms")
def list_rooms(site_id: int, user: CentreDep, session: SessionDep) -> list[RoomOut]:
    return [RoomOut.of(r) for r in sites.list_rooms(session, site_id)]


@router.post("/sites/{site_id}/rooms", status_code=201)
@atomic
def create_room(site_id: int, body: RoomIn, user: CentreDep, session: SessionDep) -> RoomOut:
    return RoomOut.of(sites.save_room(session, site_id, _room(body)))


@router.put("/rooms/{room_id}")
@atomic
def update_room(room_id: int, body: RoomIn, user: CentreDep, session: SessionDep) -> RoomOut:
    room = sites.get_room(session, room_id)
    return RoomOut.of(sites.save_room(session, room.site_id, _room(body), room))


@router.delete("/rooms/{room_id}", status_code=204)
@atomic
def delete_room(room_id: int, user: CentreDep, session: SessionDep) -> None:
    sites.delete_room(session, sites.get_room(session, room_id))
