"""Seat allocation and admission numbers for a joint exam, over the database.

Rows in -> :func:`exam_server.seating.allocate` per sitting -> the independent checker -> seats
and (when a scheme is set) draft admission numbers written back in one bulk UPDATE. Candidates
not yet in a sitting go to the regular (non-make-up) sittings by opening time, whole classes at a
time while they fit. Publishing renders the final numbers, checks that none equals a username or
another exam's published number of someone else (so signing in with it is never ambiguous), and
stamps ``admission_published_at``: after that allocation is refused and moves keep the number.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, Unprocessable
from exam_server.seating import AllocationError, Candidate, RoomSpec, SchemeError, allocate, check, render_numbers
from exam_server.seating.admission import NumberFields
from exam_server.services import audit
from exam_server.services.joint import ensure_not_published, form_mode, forms_of, rooms_of, sittings_of
from models import Attempt, Exam, ExamCandidate, ExamRoom, ExamSitting, Room, School, SchoolClass, Site, User


@dataclass
class SittingReport:
    sitting_id: int
    name: str
    candidates: int
    seats: int
    same_class_adjacent_pairs: int
    adjacency_lower_bound: int
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Row:
    """A candidate as the allocation sees it (plain columns: 50,000 ORM objects cost seconds)."""

    user_id: int
    class_id: int | None
    sitting_id: int | None


def allocate_exam(session: Session, actor: User, exam: Exam, now: datetime) -> list[SittingReport]:
    ensure_not_published(exam)
    if session.scalar(select(Attempt.id).where(Attempt.exam_id == exam.id).limit(1)) is not None:
        raise Conflict(f"exam {exam.id}: candidates have started; move single candidates instead")
    sittings = sittings_of(session, exam.id)
    rooms = rooms_of(session, exam.id)
    if not sittings or not rooms:
        raise Unprocessable(f"exam {exam.id}: add a sitting and its rooms before allocating seats")
    candidates = [_Row(*row) for row in session.execute(
        select(ExamCandidate.user_id, ExamCandidate.class_id, ExamCandidate.sitting_id)
        .where(ExamCandidate.exam_id == exam.id).order_by(ExamCandidate.user_id))]
    _place_in_sittings(candidates, sittings, rooms)
    forms = tuple(f.label for f in forms_of(session, exam.id))
    mode = form_mode(session, exam.id)
    changes: list[dict[str, Any]] = []
    reports = []
    for sitting in sittings:
        report, rows = _allocate_sitting(exam, sitting, candidates, rooms, forms, mode)
        reports.append(report)
        changes += rows
    if exam.admission_scheme:
        numbers = _render(exam.admission_scheme, _fields_in_memory(session, exam, sittings, rooms, candidates, changes))
        for change in changes:
            change["admission_no"] = numbers[change["user_id"]]
    session.execute(update(ExamCandidate).where(ExamCandidate.exam_id == exam.id).values(admission_no=None))
    if changes:
        session.execute(update(ExamCandidate), changes)
    session.expire_all()
    audit.record(session, actor.id, "joint.allocated", "exam", exam.id,
                 {"seed": exam.seat_seed, "sittings": [r.__dict__ for r in reports]}, now)
    return reports


def _fields_in_memory(session: Session, exam: Exam, sittings: list[ExamSitting], rooms: list[tuple[ExamRoom, Room]],
                      candidates: list[_Row], changes: list[dict[str, Any]]) -> list[NumberFields]:
    sitting_no = {s.id: i + 1 for i, s in enumerate(sittings)}
    room_of = {er.id: (er, r) for er, r in rooms}
    site_rows = session.execute(select(Site.id, Site.code).where(Site.id.in_(sorted({r.site_id for _, r in rooms}))))
    site_code = {sid: code for sid, code in site_rows.all()}
    class_ids = sorted({c.class_id for c in candidates if c.class_id is not None})
    school_rows = session.execute(select(SchoolClass.id, School.code, School.id)
                                  .join(School, School.id == SchoolClass.school_id)
                                  .where(SchoolClass.id.in_(class_ids)))
    school_code = {cid: code or str(sid) for cid, code, sid in school_rows.all()}
    class_of = {c.user_id: c.class_id for c in candidates}
    ordered = sorted(changes, key=lambda ch: (sitting_no[ch["sitting_id"]], room_of[ch["exam_room_id"]][0].number,
                                              ch["seat_no"]))
    fields = []
    for seq, ch in enumerate(ordered):
        er, room = room_of[ch["exam_room_id"]]
        klass = class_of[ch["user_id"]]
        fields.append(NumberFields(ch["user_id"], exam.opens_at.year, exam.id, sitting_no[ch["sitting_id"]],
                                   site_code[room.site_id], er.number, ch["seat_no"],
                                   school_code.get(klass, "") if klass is not None else "", seq + 1))
    return fields


def _render(scheme: str, fields: list[NumberFields]) -> dict[int, str]:
    try:
        return render_numbers(scheme, fields)
    except SchemeError as exc:
        raise Unprocessable(str(exc)) from exc


def _place_in_sittings(candidates: list[_Row], sittings: list[ExamSitting],
                       rooms: list[tuple[ExamRoom, Room]]) -> None:
    """Give unplaced candidates a regular sitting, largest classes first, while seats remain."""
    regular = [s for s in sittings if not s.is_makeup]
    free = {s.id: sum(r.capacity for er, r in rooms if er.sitting_id == s.id) for s in regular}
    for cand in candidates:
        if cand.sitting_id in free:
            free[cand.sitting_id] -= 1
    by_class: dict[int | None, list[_Row]] = defaultdict(list)
    for cand in candidates:
        if cand.sitting_id is None:
            by_class[cand.class_id].append(cand)
    if not regular and by_class:
        raise Unprocessable("the exam has only make-up sittings; add a regular sitting")
    for group in sorted(by_class.values(), key=len, reverse=True):
        whole = next((s.id for s in regular if free[s.id] >= len(group)), None)
        for cand in group:
            target = whole if whole is not None else max(free, key=lambda sid: free[sid])
            cand.sitting_id = target
            free[target] -= 1


def _allocate_sitting(exam: Exam, sitting: ExamSitting, candidates: list[_Row],
                      rooms: list[tuple[ExamRoom, Room]], forms: tuple[str, ...],
                      mode: str) -> tuple[SittingReport, list[dict[str, Any]]]:
    mine = [c for c in candidates if c.sitting_id == sitting.id]
    specs = [RoomSpec(er.id, r.rows, r.cols, r.capacity, er.form_label) for er, r in rooms
             if er.sitting_id == sitting.id]
    cands = [Candidate(c.user_id, c.class_id if c.class_id is not None else -c.user_id) for c in mine]
    seed = exam.seat_seed * 1_000_003 + sitting.id
    try:
        seating = allocate(cands, specs, seed, forms, mode)  # type: ignore[arg-type]
    except AllocationError as exc:
        raise Unprocessable(f"sitting {sitting.name!r}: {exc}") from exc
    violations = check(cands, specs, seating, forms, mode)  # type: ignore[arg-type]
    if violations:  # never expected: the checker vouches for the allocator
        raise Conflict(f"sitting {sitting.name!r}: the seating failed its check: {violations[0].detail}")
    rows = [{"exam_id": exam.id, "user_id": s.candidate, "sitting_id": sitting.id, "exam_room_id": s.room,
             "seat_no": s.seat_no, "form_label": s.form, "admission_no": None} for s in seating.seats]
    report = SittingReport(sitting.id, sitting.name, len(cands), sum(r.capacity for r in specs),
                           seating.same_group_adjacent_pairs, seating.adjacency_lower_bound, seating.reasons)
    return report, rows


def _number_fields(session: Session, exam: Exam) -> list[NumberFields]:
    """The same fields as allocation uses, read back from the seats (publishing after a scheme change)."""
    sittings = sittings_of(session, exam.id)
    rooms = rooms_of(session, exam.id)
    rows = session.execute(select(ExamCandidate.user_id, ExamCandidate.class_id, ExamCandidate.sitting_id,
                                  ExamCandidate.exam_room_id, ExamCandidate.seat_no)
                           .where(ExamCandidate.exam_id == exam.id, ExamCandidate.exam_room_id.is_not(None))).all()
    candidates = [_Row(uid, cid, sid) for uid, cid, sid, _, _ in rows]
    changes = [{"user_id": uid, "sitting_id": sid, "exam_room_id": erid, "seat_no": seat}
               for uid, _, sid, erid, seat in rows]
    return _fields_in_memory(session, exam, sittings, rooms, candidates, changes)


def _write_numbers(session: Session, exam: Exam) -> dict[int, str]:
    assert exam.admission_scheme is not None
    numbers = _render(exam.admission_scheme, _number_fields(session, exam))
    session.execute(update(ExamCandidate).where(ExamCandidate.exam_id == exam.id).values(admission_no=None))
    session.execute(update(ExamCandidate), [{"exam_id": exam.id, "user_id": uid, "admission_no": no}
                                            for uid, no in numbers.items()])
    return numbers


def publish(session: Session, actor: User, exam: Exam, now: datetime) -> int:
    ensure_not_published(exam)
    if not exam.admission_scheme:
        raise Unprocessable(f"exam {exam.id}: set admission_scheme first (e.g. {{year}}{{site}}{{room:03}}{{seat:02}})")
    unseated = session.scalar(select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam.id,
                                                                  ExamCandidate.exam_room_id.is_(None)).limit(1))
    if unseated is not None:
        raise Conflict(f"exam {exam.id}: candidate {unseated} has no seat; allocate seats first")
    numbers = _write_numbers(session, exam)
    _refuse_ambiguous(session, exam, numbers)
    exam.admission_published_at = now
    audit.record(session, actor.id, "joint.published", "exam", exam.id,
                 {"numbers": len(numbers), "scheme": exam.admission_scheme}, now)
    return len(numbers)


def _refuse_ambiguous(session: Session, exam: Exam, numbers: dict[int, str]) -> None:
    """A number must not be a username, nor another exam's published number of someone else."""
    values = list(numbers.values())
    for start in range(0, len(values), 1000):
        chunk = values[start:start + 1000]
        clash = session.execute(select(User.username, User.id).where(User.username.in_(chunk)).limit(1)).first()
        if clash is not None:
            raise Conflict(f"admission number {clash[0]} equals the username of user {clash[1]}; a sign-in with it "
                           "would be ambiguous: change the scheme (add a field) or that username")
        other = session.execute(
            select(ExamCandidate.admission_no, ExamCandidate.exam_id, ExamCandidate.user_id)
            .join(Exam, Exam.id == ExamCandidate.exam_id)
            .where(ExamCandidate.admission_no.in_(chunk), ExamCandidate.exam_id != exam.id,
                   Exam.admission_published_at.is_not(None))).all()
        owner = {no: uid for uid, no in numbers.items()}
        for number, other_exam, uid in other:
            if number is not None and owner[number] != uid:
                raise Conflict(f"admission number {number} was published by exam {other_exam} for user {uid}; "
                               f"here it would name user {owner[number]}: add {{exam}} or {{year}} to the scheme")
