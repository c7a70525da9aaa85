"""check(): re-verify a seating with code that did not produce it.

Verifies: every seat is in a known room, numbered within the room's capacity and used once;
every candidate is seated exactly once and nobody unknown is seated; forms (per seat: known
forms, neighbours differ when there are two or more; per room: one form per room); and recounts
same-class adjacent pairs from grid coordinates, which must equal what the seating reports.
Returns the list of violations (empty = valid). Adjacency pairs themselves are not violations.
"""

from collections import Counter
from dataclasses import dataclass

from exam_server.seating.model import Candidate, FormMode, RoomSpec, Seating


@dataclass(frozen=True)
class Violation:
    kind: str  # capacity | unknown_room | seat_taken | missing | duplicate | unknown_candidate | form | count
    detail: str


def check(candidates: list[Candidate], rooms: list[RoomSpec], seating: Seating, forms: tuple[str, ...] = (),
          form_mode: FormMode = "none") -> list[Violation]:
    room_of = {room.key: room for room in rooms}
    group_of = {cand.key: cand.group for cand in candidates}
    found: list[Violation] = []
    grid: dict[tuple[int, int, int], tuple[int, str | None]] = {}  # (room, row, col) -> (group, form)
    placed: list[int] = []  # candidates in a valid, free seat
    for seat in seating.seats:
        room = room_of.get(seat.room)
        if room is None:
            found.append(Violation("unknown_room", f"candidate {seat.candidate} is in unknown room {seat.room}"))
            continue
        if not 1 <= seat.seat_no <= room.capacity:
            found.append(Violation("capacity", f"room {room.key}: seat {seat.seat_no} is outside seats "
                                               f"1..{room.capacity}"))
            continue
        place = (room.key, (seat.seat_no - 1) // room.cols, (seat.seat_no - 1) % room.cols)
        if place in grid:
            found.append(Violation("seat_taken", f"room {room.key} seat {seat.seat_no} holds two candidates"))
            continue
        grid[place] = (group_of.get(seat.candidate, -1), seat.form)
        placed.append(seat.candidate)
    found += _once(group_of, placed)
    found += _forms(grid, forms, form_mode)
    recount = _adjacent_pairs(grid)
    if recount != seating.same_group_adjacent_pairs:
        found.append(Violation("count", f"the seating reports {seating.same_group_adjacent_pairs} same-class "
                                        f"adjacent pairs; there are {recount}"))
    return found


def _once(group_of: dict[int, int], placed: list[int]) -> list[Violation]:
    found = []
    seated = Counter(placed)
    for key, times in sorted(seated.items()):
        if key not in group_of:
            found.append(Violation("unknown_candidate", f"candidate {key} is seated but not on the roster"))
        elif times > 1:
            found.append(Violation("duplicate", f"candidate {key} is seated {times} times"))
    for key in sorted(set(group_of) - set(seated)):
        found.append(Violation("missing", f"candidate {key} has no seat"))
    return found


def _neighbours(place: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    room, row, col = place
    return [(room, row, col + 1), (room, row + 1, col)]  # right and back: each pair once


def _adjacent_pairs(grid: dict[tuple[int, int, int], tuple[int, str | None]]) -> int:
    pairs = 0
    for place, (group, _) in grid.items():
        for other in _neighbours(place):
            if other in grid and grid[other][0] == group and group != -1:
                pairs += 1
    return pairs


def _forms(grid: dict[tuple[int, int, int], tuple[int, str | None]], forms: tuple[str, ...],
           form_mode: FormMode) -> list[Violation]:
    found = []
    per_room: dict[int, set[str | None]] = {}
    for place, (_, form) in grid.items():
        if form_mode == "none":
            if form is not None:
                found.append(Violation("form", f"room {place[0]}: form {form!r} given but the exam has no forms"))
            continue
        if form is None or (forms and form not in forms):
            found.append(Violation("form", f"room {place[0]} row {place[1] + 1}: form {form!r} is not one of {forms}"))
        per_room.setdefault(place[0], set()).add(form)
        if form_mode == "seat" and len(forms) > 1:
            for other in _neighbours(place):
                if other in grid and grid[other][1] == form:
                    found.append(Violation("form", f"room {place[0]}: neighbours at row {place[1] + 1} both "
                                                   f"sit form {form!r}"))
    if form_mode == "room":
        found += [Violation("form", f"room {room}: several forms {sorted(map(str, fs))} in a per-room exam")
                  for room, fs in sorted(per_room.items()) if len(fs) > 1]
    return found
