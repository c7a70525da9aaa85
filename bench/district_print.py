"""Admission-ticket rendering speed (issue 6: at least 100 ticket pages per second on one core).

    .venv/bin/python bench/district_print.py [--tickets 3000] [--per-room 30] [--baseline 300]

A seeded sample of candidates (Chinese names, two schools, 30 to a room) is rendered the way a
print job does it: one canvas per room writing straight to a file, the TrueType subset built once
per file. The baseline, measured in the same run, is the naive way: a fresh canvas (and so a
fresh font subset and document) per ticket. Everything runs in this process, one thread.
``render_ticket_sample`` is what bench/district.py calls. The last stdout line is one JSON object.
"""

import argparse
import io
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exam_server.printing.data import CandidateEntry, RoomSheetData  # noqa: E402
from exam_server.printing.fonts import cjk_font  # noqa: E402
from exam_server.printing.render import PdfWriter, PrintKind  # noqa: E402

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def sample_rooms(n: int, per_room: int = 30, seed: int = 6) -> list[RoomSheetData]:
    rng = random.Random(seed)
    rooms = []
    for r in range(-(-n // per_room)):
        count = min(per_room, n - r * per_room)
        cands = [CandidateEntry(
            user_id=r * per_room + s, admission_no=f"2026{r // 10:03d}{r:04d}{s + 1:02d}",
            name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
            student_number=f"2025{rng.randint(0, 99999):05d}", school=f"第{rng.randint(1, 200)}中学",
            class_name=f"高一({rng.randint(1, 12)})班", seat_no=s + 1, form_label="AB"[s % 2])
            for s in range(count)]
        rooms.append(RoomSheetData(
            exam_id=1, exam_title="2026 年春季高一数学联考", sitting_name="第一场",
            opens_at=datetime(2026, 3, 1, 9, tzinfo=UTC), closes_at=datetime(2026, 3, 1, 11, tzinfo=UTC),
            site_name=f"第{r // 10 + 1}考点", site_code=f"S{r // 10:03d}", site_address="解放路 1 号",
            room_number=r % 10 + 1, room_name=f"教学楼 {r % 10 + 101}", rows=6, cols=5, form_label=None,
            candidates=cands))
    return rooms


def _per_room(rooms: list[RoomSheetData], font: str, out_dir: Path) -> int:
    pages = 0
    for i, room in enumerate(rooms):
        with (out_dir / f"room-{i}.pdf").open("wb") as fh:
            writer = PdfWriter(fh, PrintKind.TICKETS, font)
            writer.add_room(room)
            pages += writer.close()
    return pages


def _fresh_canvas_per_page(rooms: list[RoomSheetData], font: str) -> int:
    pages = 0
    for room in rooms:
        for cand in room.candidates:
            one = RoomSheetData(**{**room.__dict__, "candidates": [cand]})
            writer = PdfWriter(io.BytesIO(), PrintKind.TICKETS, font)
            writer.add_room(one)
            pages += writer.close()
    return pages


def render_ticket_sample(n: int, per_room: int = 30, baseline_n: int | None = None) -> dict[str, Any]:
    """Ticket pages per second on one core for ``n`` seeded tickets, with the naive baseline on
    ``baseline_n`` of them (default n // 10, at least 30)."""
    font = cjk_font()
    rooms = sample_rooms(n, per_room)
    warm = sample_rooms(per_room, per_room, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        _per_room(warm, font, Path(tmp))  # font parsing and imports out of the timing
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.process_time()
        pages = _per_room(rooms, font, Path(tmp))
        seconds = time.process_time() - start
        size = sum(p.stat().st_size for p in Path(tmp).glob("room-*.pdf"))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base_rooms = sample_rooms(baseline_n or max(30, n // 10), per_room, seed=2)
    start = time.process_time()
    base_pages = _fresh_canvas_per_page(base_rooms, font)
    base_seconds = time.process_time() - start
    return {"tickets": pages, "tickets_seconds": round(seconds, 3), "tickets_per_s": round(pages / seconds, 1),
            "baseline_tickets_per_s": round(base_pages / base_seconds, 1),
            "speedup": round((pages / seconds) / (base_pages / base_seconds), 2),
            "bytes_per_ticket": size // max(pages, 1), "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
            "target_tickets_per_s": 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--per-room", type=int, default=30)
    parser.add_argument("--baseline", type=int, default=None, help="tickets for the naive baseline (default n/10)")
    args = parser.parse_args()
    print(json.dumps(render_ticket_sample(args.tickets, args.per_room, args.baseline)))


if __name__ == "__main__":
    main()
