"""Exam sites (考点) and their rooms (考场): district-wide places, managed by centre staff and admins.

A room's seat grid (rows x cols, ``capacity`` seats used row-major) is what the allocator fills;
see :class:`models.org.Room` for numbering and adjacency. A site or room an exam uses cannot be
deleted, and a room in use cannot shrink below the seats already given out.
"""

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, NotFound, Unprocessable
from exam_server.services.accounts import insert_unique
from models import ExamCandidate, ExamRoom, Room, School, Site


@dataclass(frozen=True)
class SiteInput:
    name: str
    code: str
    school_id: int | None = None
    address: str | None = None


@dataclass(frozen=True)
class RoomInput:
    code: str
    name: str
    rows: int
    cols: int
    capacity: int | None = None  # default: every seat of the grid


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)))


def get_site(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id} does not exist")
    return site


def save_site(session: Session, data: SiteInput, site: Site | None = None) -> Site:
    if data.school_id is not None and session.get(School, data.school_id) is None:
        raise NotFound(f"school_id: school {data.school_id} does not exist")
    site = site or Site()
    site.name, site.code, site.school_id, site.address = data.name, data.code, data.school_id, data.address
    return insert_unique(session, site, f"code: a site with code {data.code!r} already exists")


def delete_site(session: Session, site: Site) -> None:
    rooms = list(session.scalars(select(Room).where(Room.site_id == site.id)))
    for room in rooms:
        _refuse_if_used(session, room)
    for room in rooms:
        session.delete(room)
    session.flush()
    session.delete(site)


def list_rooms(session: Session, site_id: int) -> list[Room]:
    get_site(session, site_id)
    return list(session.scalars(select(Room).where(Room.site_id == site_id).order_by(Room.code)))


def get_room(session: Session, room_id: int) -> Room:
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist")
    return room


def save_room(session: Session, site_id: int, data: RoomInput, room: Room | None = None) -> Room:
    get_site(session, site_id)
    capacity = data.rows * data.cols if data.capacity is None else data.capacity
    if not 1 <= capacity <= data.rows * data.cols:
        raise Unprocessable(f"capacity: {capacity} must be between 1 and rows x cols = {data.rows * data.cols}")
    if room is not None:
        used = session.scalar(select(func.max(ExamCandidate.seat_no))
                              .join(ExamRoom, ExamRoom.id == ExamCandidate.exam_room_id)
                              .where(ExamRoom.room_id == room.id)) or 0
        if used > capacity or (room.cols != data.cols and used):
            raise Conflict(f"room {room.id}: exams already seat candidates up to seat {used} in the "
                           f"{room.rows} x {room.cols} grid; keep the grid and at least {used} seats")
    room = room or Room(site_id=site_id)
    room.code, room.name, room.rows, room.cols, room.capacity = data.code, data.name, data.rows, data.cols, capacity
    return insert_unique(session, room, f"code: site {site_id} already has a room {data.code!r}")


def delete_room(session: Session, room: Room) -> None:
    _refuse_if_used(session, room)
    session.delete(room)


def _refuse_if_used(session: Session, room: Room) -> None:
    if session.scalar(select(exists().where(ExamRoom.room_id == room.id))):
        raise Conflict(f"room {room.id} ({room.code}) is used by an exam; remove it from the exam first")
