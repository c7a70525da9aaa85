"""The checker catches every kind of wrong seating (it is what vouches for the allocator)."""

from dataclasses import replace

import pytest

from exam_server.seating import Candidate, RoomSpec, Seat, Seating, check

CANDS = [Candidate(1, 10), Candidate(2, 20), Candidate(3, 10), Candidate(4, 20)]
ROOM = RoomSpec(7, rows=2, cols=2, capacity=4)


def _seating(*seats: tuple[int, int, int, str | None], pairs: int = 0) -> Seating:
    return Seating([Seat(c, r, n, f) for c, r, n, f in seats], pairs, 0)


GOOD = _seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 4, "A"))


def _kinds(seating: Seating, mode: str = "seat", forms: tuple[str, ...] = ("A", "B")) -> list[str]:
    return [v.kind for v in check(CANDS, [ROOM], seating, forms, mode)]  # type: ignore[arg-type]


def test_a_good_seating_passes() -> None:
    assert _kinds(GOOD) == []


@pytest.mark.parametrize(("seating", "kinds"), [
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 5, "A")), ["capacity", "missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 0, "A")), ["capacity", "missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 8, 4, "A")), ["unknown_room", "missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 3, "A")), ["seat_taken", "missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B")), ["missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (1, 7, 4, "A")), ["duplicate", "missing"]),
    (_seating((1, 7, 1, "A"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 4, "A"), (9, 7, 4, "A")),
     ["seat_taken"]),
])
def test_placement_errors_are_caught(seating: Seating, kinds: list[str]) -> None:
    assert _kinds(seating) == kinds


def test_an_unknown_candidate_in_a_free_seat_is_caught() -> None:
    room = replace(ROOM, rows=3, capacity=6)
    seating = Seating([*GOOD.seats, Seat(9, 7, 6, "B")], 0, 0)
    assert [v.kind for v in check(CANDS, [room], seating, ("A", "B"), "seat")] == ["unknown_candidate"]


def test_a_wrong_adjacency_count_is_caught() -> None:
    adjacent = _seating((1, 7, 1, "A"), (3, 7, 2, "B"), (2, 7, 3, "B"), (4, 7, 4, "A"))  # 1-3 and 2-4 side by side
    assert _kinds(adjacent) == ["count"]
    assert _kinds(replace(adjacent, same_group_adjacent_pairs=2)) == []
    assert _kinds(replace(GOOD, same_group_adjacent_pairs=1)) == ["count"]


def test_form_errors_are_caught() -> None:
    same = _seating((1, 7, 1, "A"), (2, 7, 2, "A"), (4, 7, 3, "B"), (3, 7, 4, "A"))
    assert "form" in _kinds(same), "neighbours on one form"
    assert _kinds(_seating((1, 7, 1, "C"), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 4, "A"))) == ["form"]
    assert _kinds(_seating((1, 7, 1, None), (2, 7, 2, "B"), (4, 7, 3, "B"), (3, 7, 4, "A"))) == ["form"]
    assert _kinds(GOOD, mode="room") == ["form"], "two forms in a per-room exam"
    assert _kinds(GOOD, mode="none", forms=()) == ["form"] * 4, "forms where the exam has none"
