"""The allocator, property-tested with the independent checker over many seeds and sizes."""

import random

import pytest

from exam_server.seating import AllocationError, Candidate, RoomSpec, allocate, check
from exam_server.seating.allocate import lower_bound, room_independence


def _world(seed: int) -> tuple[list[Candidate], list[RoomSpec]]:
    rng = random.Random(seed)
    rooms = []
    for key in range(rng.randint(1, 12)):
        rows, cols = rng.randint(1, 7), rng.randint(1, 8)
        rooms.append(RoomSpec(key + 100, rows, cols, rng.randint(0, rows * cols)))
    seats = sum(r.capacity for r in rooms)
    n = rng.randint(0, seats)
    groups = rng.randint(1, 12)
    cands = [Candidate(i, rng.randrange(groups) if rng.random() < 0.8 else 0) for i in range(n)]
    return cands, rooms


@pytest.mark.parametrize("mode", ["none", "room", "seat"])
def test_many_seeds_and_sizes_pass_the_checker(mode: str) -> None:
    forms = ("A", "B") if mode != "none" else ()
    for seed in range(300):
        cands, rooms = _world(seed)
        seating = allocate(cands, rooms, seed, forms, mode)  # type: ignore[arg-type]
        assert check(cands, rooms, seating, forms, mode) == [], seed  # type: ignore[arg-type]
        assert seating.same_group_adjacent_pairs >= seating.adjacency_lower_bound
        assert (seating.same_group_adjacent_pairs > 0) == bool(seating.reasons)


def test_seeded_and_repeatable_and_seed_changes_the_plan() -> None:
    cands, rooms = [Candidate(i, i % 7) for i in range(200)], [RoomSpec(k, 5, 6, 30) for k in range(8)]
    first, again = allocate(cands, rooms, 42), allocate(cands, rooms, 42)
    assert first.seats == again.seats
    assert allocate(cands, rooms, 43).seats != first.seats
    assert allocate(list(reversed(cands)), rooms, 42).seats == first.seats, "input order does not matter"


def test_no_same_class_neighbours_when_classes_are_small() -> None:
    cands = [Candidate(i, i // 10) for i in range(2000)]  # 200 classes of 10
    rooms = [RoomSpec(k, 5, 6, 25) for k in range(80)]
    seating = allocate(cands, rooms, 3)
    assert seating.same_group_adjacent_pairs == 0 and seating.reasons == []
    assert check(cands, rooms, seating) == []


def test_a_class_larger_than_half_a_room_is_reported() -> None:
    cands = [Candidate(i, 0 if i < 20 else 1) for i in range(30)]
    rooms = [RoomSpec(1, 5, 6, 30)]
    seating = allocate(cands, rooms, 1)
    assert seating.same_group_adjacent_pairs >= seating.adjacency_lower_bound == 5
    assert "class 0 has 20 of 30" in seating.reasons[0]


def test_rooms_fill_evenly_and_within_capacity() -> None:
    cands = [Candidate(i, i % 5) for i in range(50)]
    rooms = [RoomSpec(1, 5, 6, 30), RoomSpec(2, 5, 6, 30), RoomSpec(3, 2, 2, 4)]
    used = {r.key: 0 for r in rooms}
    for seat in allocate(cands, rooms, 0).seats:
        used[seat.room] += 1
    assert used == {1: 23, 2: 23, 3: 4}


def test_per_seat_forms_alternate_and_per_room_forms_follow_the_room() -> None:
    cands = [Candidate(i, i % 9) for i in range(60)]
    rooms = [RoomSpec(1, 5, 6, 30), RoomSpec(2, 5, 6, 30, form="B")]
    by_seat = allocate(cands, rooms, 0, ("A", "B"), "seat")
    first_row = sorted((s.seat_no, s.form) for s in by_seat.seats if s.room == 1)[:3]
    assert [f for _, f in first_row] == ["A", "B", "A"]
    by_room = allocate(cands, rooms, 0, ("A", "B"), "room")
    assert {s.form for s in by_room.seats if s.room == 1} == {"A"}
    assert {s.form for s in by_room.seats if s.room == 2} == {"B"}


@pytest.mark.parametrize(("cands", "rooms", "message"), [
    ([Candidate(1, 1), Candidate(2, 1)], [RoomSpec(1, 1, 1, 1)], "only 1 seats"),
    ([Candidate(1, 1), Candidate(1, 2)], [RoomSpec(1, 2, 2, 4)], "listed twice"),
    ([], [RoomSpec(1, 2, 2, 5)], "must fit"),
    ([], [RoomSpec(1, 2, 2, 4), RoomSpec(1, 2, 2, 4)], "room is listed twice"),
])
def test_impossible_input_is_refused(cands: list[Candidate], rooms: list[RoomSpec], message: str) -> None:
    with pytest.raises(AllocationError, match=message):
        allocate(cands, rooms, 0)


def test_independence_bound_of_room_prefixes() -> None:
    assert room_independence(RoomSpec(1, 5, 6, 30)) == 15
    assert room_independence(RoomSpec(1, 3, 3, 9)) == 5  # 3 rows of 3: 3 pairs + 1 vertical pair
    assert room_independence(RoomSpec(1, 4, 1, 4)) == 4 - 2  # a column: vertical pairs
    assert lower_bound([Candidate(i, 0) for i in range(10)], [RoomSpec(1, 2, 5, 10)]) == 5
