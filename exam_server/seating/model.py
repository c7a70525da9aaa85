"""The seating's data: candidates, rooms with a seat grid, and seats.

Seat geometry follows :class:`models.org.Room`: seat numbers are 1-based and row-major from the
front, seat ``n`` sits in row ``(n-1) // cols`` and column ``(n-1) % cols``; two seats are
adjacent when they share a row and neighbouring columns, or a column and neighbouring rows.
"""

from dataclasses import dataclass, field
from typing import Literal

FormMode = Literal["none", "room", "seat"]


@dataclass(frozen=True)
class Candidate:
    key: int  # the user id
    group: int  # the class (candidates of one group should not sit side by side)


@dataclass(frozen=True)
class RoomSpec:
    key: int  # the exam room id
    rows: int
    cols: int
    capacity: int
    form: str | None = None  # a form fixed for the room (form mode "room")

    def position(self, seat_no: int) -> tuple[int, int]:
        return (seat_no - 1) // self.cols, (seat_no - 1) % self.cols


@dataclass(frozen=True)
class Seat:
    candidate: int
    room: int
    seat_no: int
    form: str | None


@dataclass
class Seating:
    seats: list[Seat]
    same_group_adjacent_pairs: int
    # A valid lower bound on those pairs for these rooms and groups, and why pairs remain.
    adjacency_lower_bound: int
    reasons: list[str] = field(default_factory=list)
