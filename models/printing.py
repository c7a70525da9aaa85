"""Print runs (admission tickets, door lists, sign-in sheets, seat charts) done by the worker."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class PrintJob(Base):
    """One print run of an exam: rendered room by room into one PDF per room or per site;
    ``done``/``total`` count rooms, ``files`` lists what is written so far."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # tickets, door_lists, sign_in, seat_charts
    group_by: Mapped[str] = mapped_column(String(10))  # room or site
    sitting_id: Mapped[int | None] = mapped_column(ForeignKey("exam_sittings.id"))
    exam_room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_rooms.id"))
    status: Mapped[str] = mapped_column(String(10))  # queued, running, done, failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    # [{"name": "room-003.pdf", "pages": 30, "size": 12345}, ...] in writing order.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Where the worker writes and reads (the data directory is shared by API and workers).
    output_dir: Mapped[str] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
