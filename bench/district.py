"""A district-scale joint exam: seat allocation and admission numbers for 50,000 candidates.

    .venv/bin/python bench/district.py [--candidates 50000] [--schools 200] [--rooms 2000] [--seed 1]
    .venv/bin/python bench/district.py --candidates 2000 --schools 10 --rooms 80 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch   # also through the DB

Builds a seeded district in memory (schools of ~25 classes, class sizes 6..14, rooms of 5 x 6
seats with capacity 25..30, 20 rooms per site), allocates seats with
:func:`exam_server.seating.allocate` (one core), renders admission numbers
(``{year}{site}{room:04}{seat:02}``) and re-verifies everything with the independent checker.
The baselines, measured in the same run, are naive seatings that fill rooms in order: shuffled
(its same-class adjacent pairs and its time) and in roster order (class after class).
``--database-url`` also runs the service path (rows in, allocation, publishing) on a fresh schema
there and reports its timings.

The last stdout line is one JSON object: ``candidates``, ``allocate_seconds``, ``seat_violations``
(capacity, once-only and numbering violations: must be 0), ``same_class_adjacent_pairs``,
``adjacency_lower_bound``, ``baseline_random_adjacent_pairs``, ...
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exam_server.seating import Candidate, RoomSpec, Seat, Seating, allocate, check  # noqa: E402
from exam_server.seating.admission import NumberFields, SchemeError, render_numbers  # noqa: E402

SCHEME = "{year}{site}{room:04}{seat:02}"
ROOMS_PER_SITE = 20


def build_district(candidates: int, schools: int, rooms: int, seed: int) -> tuple[list[Candidate], list[RoomSpec]]:
    """Class sizes 6..14 (25 classes a school, more or fewer to reach ``candidates``); rooms 5 x 6
    with 25..30 seats used, enough for everyone."""
    rng = random.Random(seed)
    cands: list[Candidate] = []
    group = 0
    while len(cands) < candidates:
        size, base = min(rng.randint(6, 14), candidates - len(cands)), len(cands)
        cands.extend(Candidate(base + i, group) for i in range(size))
        group += 1
    specs = [RoomSpec(k + 1, 5, 6, rng.randint(25, 30)) for k in range(rooms)]
    short = candidates - sum(r.capacity for r in specs)
    for k in range(len(specs)):  # top up rooms until everyone fits
        if short <= 0:
            break
        grow = min(30 - specs[k].capacity, short)
        specs[k] = RoomSpec(specs[k].key, 5, 6, specs[k].capacity + grow)
        short -= grow
    return cands, specs


def naive_seating(cands: list[Candidate], rooms: list[RoomSpec], seed: int | None) -> Seating:
    """The naive baselines: fill rooms in order, from the roster as it is (seed None) or shuffled."""
    order = list(cands)
    if seed is not None:
        random.Random(seed).shuffle(order)
    seats, at = [], 0
    for room in rooms:
        for seat_no in range(1, room.capacity + 1):
            if at == len(order):
                break
            seats.append(Seat(order[at].key, room.key, seat_no, None))
            at += 1
    group = {c.key: c.group for c in cands}
    room_of = {r.key: r for r in rooms}
    where = {(s.room, s.seat_no): group[s.candidate] for s in seats}
    pairs = 0
    for (room_key, seat_no), g in where.items():
        room = room_of[room_key]
        col = (seat_no - 1) % room.cols
        right = where.get((room_key, seat_no + 1)) if col + 1 < room.cols else None
        pairs += (right == g) + (where.get((room_key, seat_no + room.cols)) == g)
    return Seating(seats, pairs, 0)


def number_seats(seating: Seating, rooms: list[RoomSpec]) -> tuple[dict[int, str], int]:
    """Admission numbers for every seat; returns them and the numbering violations (0 or 1)."""
    site_of = {r.key: f"{(i // ROOMS_PER_SITE) + 1:03}" for i, r in enumerate(rooms)}
    ordered = sorted(seating.seats, key=lambda s: (s.room, s.seat_no))
    rows = [NumberFields(s.candidate, 2026, 1, 1, site_of[s.room], s.room, s.seat_no, "", i + 1)
            for i, s in enumerate(ordered)]
    try:
        numbers = render_numbers(SCHEME, rows)
    except SchemeError as exc:
        print(f"numbering: {exc}", file=sys.stderr)
        return {}, 1
    return numbers, 0 if len(set(numbers.values())) == len(rows) else 1


def ticket_figures(n: int) -> dict[str, Any]:
    """Admission-ticket pages per second on one core (bench/district_print.py), with its baseline."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from district_print import render_ticket_sample  # noqa: PLC0415 - a sibling script, not a package

    return render_ticket_sample(n)


def run_pure(args: argparse.Namespace) -> dict[str, Any]:
    cands, rooms = build_district(args.candidates, args.schools, args.rooms, args.seed)
    start = time.perf_counter()
    seating = allocate(cands, rooms, args.seed, ("A", "B"), "seat")
    allocate_seconds = time.perf_counter() - start
    start = time.perf_counter()
    numbers, numbering = number_seats(seating, rooms)
    number_seconds = time.perf_counter() - start
    start = time.perf_counter()
    violations = check(cands, rooms, seating, ("A", "B"), "seat")
    check_seconds = time.perf_counter() - start
    start = time.perf_counter()
    baseline = naive_seating(cands, rooms, args.seed)
    baseline_seconds = time.perf_counter() - start
    roster_order = naive_seating(cands, rooms, None)
    for v in violations[:5]:
        print(f"violation: {v.kind}: {v.detail}", file=sys.stderr)
    return {
        "candidates": len(cands), "classes": len({c.group for c in cands}), "schools": args.schools,
        "rooms": len(rooms), "seats": sum(r.capacity for r in rooms),
        "allocate_seconds": round(allocate_seconds, 3), "numbering_seconds": round(number_seconds, 3),
        "check_seconds": round(check_seconds, 3),
        "seat_violations": len([v for v in violations if v.kind != "form"]) + numbering,
        "form_violations": len([v for v in violations if v.kind == "form"]),
        "admission_numbers": len(numbers),
        "same_class_adjacent_pairs": seating.same_group_adjacent_pairs,
        "adjacency_lower_bound": seating.adjacency_lower_bound,
        "baseline_random_adjacent_pairs": baseline.same_group_adjacent_pairs,
        "baseline_random_seconds": round(baseline_seconds, 3),
        "baseline_roster_order_adjacent_pairs": roster_order.same_group_adjacent_pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="also run the service path on this database")
    parser.add_argument("--tickets", type=int, default=3000, help="ticket pages to render for tickets_per_s (0: skip)")
    args = parser.parse_args()
    report = run_pure(args)
    if args.tickets:
        report.update(ticket_figures(args.tickets))
    if args.database_url:
        from bench.district_db import run_db  # noqa: PLC0415 - only with --database-url
        report.update(run_db(args))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
