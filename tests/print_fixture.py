"""A small joint-exam layout inserted straight into the tables (sites, rooms, a sitting, exam
rooms, candidates from two schools), for printing tests while the allocation API is elsewhere."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import ExamCandidate, ExamRoom, ExamSitting, Role, Room, School, Site, User

NAMES = ["张三丰", "李小龙", "王晓明", "欧阳娜娜", "赵敏", "周芷若", "黄蓉", "郭靖", "杨过", "小龙女"]


@dataclass
class PrintLayout:
    sitting_id: int
    exam_room_ids: list[int]
    site_codes: list[str]
    # per exam room, the candidates in seat order: (user id, name, admission number)
    candidates: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)


def seed_print_layout(session: Session, exam_id: int, now: datetime, *, prefix: str = "p", rooms: int = 2,
                      per_room: int = 3, cols: int = 3, sites: int = 1, photo_sha: str | None = None,
                      absent_first: bool = False) -> PrintLayout:
    schools = [School(name=f"{prefix}第一中学", code=f"{prefix}01"),
               School(name=f"{prefix}实验中学", code=f"{prefix}02")]
    session.add_all(schools)
    site_rows = [Site(name=f"{prefix}考点{i + 1}", code=f"{prefix.upper()}S{i + 1}", address="解放路 1 号")
                 for i in range(sites)]
    session.add_all(site_rows)
    sitting = ExamSitting(exam_id=exam_id, name="第一场", opens_at=now + timedelta(days=1),
                          closes_at=now + timedelta(days=1, hours=2))
    session.add(sitting)
    session.flush()
    layout = PrintLayout(sitting.id, [], [s.code for s in site_rows])
    serial = 0
    for r in range(rooms):
        site = site_rows[r % sites]
        room = Room(site_id=site.id, code=f"R{r + 1}", name=f"教学楼 10{r + 1}", capacity=per_room,
                    rows=-(-per_room // cols), cols=cols)
        session.add(room)
        session.flush()
        exam_room = ExamRoom(exam_id=exam_id, sitting_id=sitting.id, room_id=room.id, number=r + 1, form_label="A")
        session.add(exam_room)
        session.flush()
        layout.exam_room_ids.append(exam_room.id)
        layout.candidates[exam_room.id] = []
        for seat in range(1, per_room + 1):
            name = NAMES[serial % len(NAMES)] + (str(serial // len(NAMES)) if serial >= len(NAMES) else "")
            user = User(username=f"{prefix}cand{serial}", password_hash="!", role=Role.STUDENT, display_name=name,
                        school_id=schools[serial % 2].id, created_at=now, student_number=f"2026{serial:04d}",
                        photo_sha256=photo_sha if serial == 0 else None)
            session.add(user)
            session.flush()
            admission = f"2026{site.code}{r + 1:03d}{seat:02d}"
            session.add(ExamCandidate(exam_id=exam_id, user_id=user.id, extra_minutes=0, sitting_id=sitting.id,
                                      exam_room_id=exam_room.id, seat_no=seat, admission_no=admission,
                                      absent=absent_first and serial == 0))
            layout.candidates[exam_room.id].append((user.id, name, admission))
            serial += 1
    session.flush()
    return layout
