"""The lead marker's review of a unit: re-sent scripts (回评), send-back of recent marks, quality.

* **Re-sent scripts.** :func:`resend` picks ``k`` of a marker's marked scripts at random (none that
  was re-sent before) and queues them for that same marker under a fresh opaque token.
  :func:`fetch_batch` mixes them into the marker's batches, looking like any other script (same
  fields, the round of the original mark), so they are marked blind. :func:`submit` stores the
  answer as a :class:`MarkingRemark`: the task, its marks and its score never change.
* **Send back.** :func:`send_back` voids a marker's last ``n`` marks (or those since a time) on the
  unit: a :class:`MarkingVoid` per mark, never a deletion. Each task is locked like
  :func:`marking.submit_mark` locks it, its counting marks are read again under the lock, and its
  state is replayed from the marks that still count. The voided marker's mark goes, and so does an
  arbitration mark (it decided between marks that included the voided one); the other markers'
  marks stay. A task whose remaining marks finish it gets its final score written through
  :func:`marking.write_task_final` (which audits a changed score); otherwise it waits in the queue for
  another marker, and the attempt keeps its last final score until the task is finished again.
* **Quality.** :func:`quality` collects the unit's counting marks and re-marks and hands them to
  :func:`grading.marking_quality.unit_quality`.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.errors import BadRequest, Forbidden, InvalidScore, MarkingRefused, NotFound
from exam_server.permissions import may_lead_marking, may_see_marking
from exam_server.services import audit, marking
from exam_server.services.marking import counting, get_unit, unit_rules
from grading.errors import GradingError, InvalidMark
from grading.marking import Mark, Round, TaskStatus, UnitRules, check_score
from grading.marking import send_back as send_back_state
from grading.marking_quality import SAFE_MIDDLE_BAND, QMark, Remark, unit_quality
from models import (
    Exam,
    MarkingAssignment,
    MarkingMark,
    MarkingRemark,
    MarkingResend,
    MarkingTask,
    MarkingUnit,
    MarkingVoid,
    User,
)

MAX_RESEND = 20
MAX_SEND_BACK = 200
REGULAR = (Round.FIRST, Round.SECOND, Round.THIRD)
_pick = random.SystemRandom()  # which scripts are re-sent must not be guessable by the marker


def lead_unit(session: Session, user: User, unit_id: int) -> tuple[MarkingUnit, Exam]:
    unit, exam = get_unit(session, unit_id)
    if not may_lead_marking(session, user, exam, unit.lead_marker_id):
        if may_see_marking(session, user, exam):
            raise Forbidden(f"marking unit {unit_id}: only its lead marker and the exam's managers review markers")
        raise NotFound(f"marking unit {unit_id} does not exist")
    return unit, exam


def _marker_of_unit(session: Session, unit: MarkingUnit, marker_id: int) -> User:
    marker = session.get(User, marker_id)
    has_marks = session.scalar(select(MarkingMark.id).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingMark.marker_id == marker_id).limit(1))
    if marker is None or has_marks is None:
        raise NotFound(f"marker_id: user {marker_id} has no marks on unit {unit.id}")
    return marker


# ---- re-sent scripts ------------------------------------------------------------------------------

def resend(session: Session, user: User, unit_id: int, marker_id: int, k: int, now: datetime) -> dict[str, Any]:
    unit, _ = lead_unit(session, user, unit_id)
    if not 1 <= k <= MAX_RESEND:
        raise BadRequest(f"k: re-send 1 to {MAX_RESEND} scripts at a time, got {k}")
    _marker_of_unit(session, unit, marker_id)
    sent_before = select(MarkingResend.mark_id)
    candidates = session.scalars(select(MarkingMark).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingMark.marker_id == marker_id, MarkingMark.round.in_(list(REGULAR)),
        counting(), MarkingMark.id.not_in(sent_before)).order_by(MarkingMark.id)).all()
    if not candidates:
        raise MarkingRefused(f"marker {marker_id} has no marked script on unit {unit.id} that was not re-sent already")
    chosen = _pick.sample(list(candidates), min(k, len(candidates)))
    for m in chosen:
        session.add(MarkingResend(token=secrets.token_hex(16), task_id=m.task_id, marker_id=marker_id, mark_id=m.id,
                                  requested_by=user.id, created_at=now))
    audit.record(session, user.id, "marking.resent", "marking_unit", unit.id,
                 {"marker_id": marker_id, "asked": k, "sent": len(chosen)}, now)
    session.flush()
    return {"unit_id": unit.id, "marker_id": marker_id, "asked": k, "sent": len(chosen)}


def _pending(session: Session, user: User, unit: MarkingUnit, limit: int) -> list[MarkingResend]:
    answered = select(MarkingRemark.resend_id)
    return list(session.scalars(select(MarkingResend).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingResend.marker_id == user.id, MarkingResend.id.not_in(answered))
        .order_by(MarkingResend.id).limit(limit)))


def _resend_view(session: Session, unit: MarkingUnit, resend_row: MarkingResend) -> dict[str, Any]:
    """Exactly the fields of an ordinary script in a batch: nothing says it was marked before."""
    task = session.get(MarkingTask, resend_row.task_id)
    original = session.get(MarkingMark, resend_row.mark_id)
    assert task is not None and original is not None
    # the same view as in a batch (the candidate's own form's answer and question), under the re-send's token
    view = marking.task_view(session, unit, task)
    view.update(token=resend_row.token, round=original.round)
    view.pop("problem", None)
    return view


def fetch_batch(session: Session, user: User, unit_id: int, n: int, now: datetime, queue: str = "marking"
                ) -> dict[str, Any]:
    """:func:`marking.fetch_batch`, with up to a quarter of the batch (at least one) re-sent scripts
    mixed in at places that depend only on their random tokens."""
    batch = marking.fetch_batch(session, user, unit_id, n, now, queue)
    if queue != "marking":
        return batch
    unit, _ = get_unit(session, unit_id)
    tasks: list[dict[str, Any]] = batch["tasks"]
    for row in _pending(session, user, unit, max(1, n // 4)):
        tasks.insert(int(row.token[:8], 16) % (len(tasks) + 1), _resend_view(session, unit, row))
    return batch


def _lock_resend(session: Session, user: User, token: str) -> MarkingResend | None:
    row = session.scalars(select(MarkingResend).where(MarkingResend.token == token).with_for_update()).first()
    if row is not None and row.marker_id != user.id:
        raise NotFound(f"marking task {token!r} does not exist")
    if row is not None and session.scalar(select(MarkingRemark.id).where(MarkingRemark.resend_id == row.id)):
        raise MarkingRefused(f"marking task {token}: marker {user.id} already marked this task; a marker never "
                             "marks a task twice")
    return row


def submit(session: Session, user: User, token: str, score: Any, criteria: list[Any] | None, seconds: int | None,
           now: datetime) -> dict[str, Any]:
    """A mark: for a re-sent script a re-mark (the task is untouched), else :func:`marking.submit_mark`."""
    row = _lock_resend(session, user, token)
    if row is None:
        return marking.submit_mark(session, user, token, score, criteria, seconds, now)
    task = session.get(MarkingTask, row.task_id)
    original = session.get(MarkingMark, row.mark_id)
    assert task is not None and original is not None
    unit, _ = get_unit(session, task.unit_id)
    try:
        value, per_criterion = check_score(unit_rules(session, unit), score, criteria)
    except InvalidMark as exc:
        raise InvalidScore(f"marking task {token}: {exc}") from exc
    session.add(MarkingRemark(resend_id=row.id, score=value, criteria=list(per_criterion) if per_criterion else None,
                              seconds_spent=seconds, created_at=now))
    session.flush()
    return {"token": token, "round": original.round, "score": value}


def flag(session: Session, user: User, token: str, reason: str, now: datetime) -> dict[str, Any]:
    """A problem flag: on a re-sent script it closes the re-send (no score), else the task's flag."""
    row = _lock_resend(session, user, token)
    if row is None:
        return marking.flag_problem(session, user, token, reason, now)
    session.add(MarkingRemark(resend_id=row.id, problem=reason.strip()[:300], created_at=now))
    session.flush()
    return {"token": token, "state": TaskStatus.PROBLEM.value}


# ---- send back -------------------------------------------------------------------------------------

def send_back(session: Session, user: User, unit_id: int, marker_id: int, last: int | None,
              since: datetime | None, reason: str, now: datetime) -> dict[str, Any]:
    """Void the marker's last ``last`` marks, or those given at or after ``since``, on this unit."""
    unit, _ = lead_unit(session, user, unit_id)
    if (last is None) == (since is None):
        raise BadRequest("last, since: give exactly one: the number of recent marks, or a time")
    if last is not None and not 1 <= last <= MAX_SEND_BACK:
        raise BadRequest(f"last: send back 1 to {MAX_SEND_BACK} marks at a time, got {last}")
    _marker_of_unit(session, unit, marker_id)
    query = (select(MarkingMark.task_id).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingMark.marker_id == marker_id, MarkingMark.round.in_(list(REGULAR)),
        counting()).order_by(MarkingMark.id.desc()))
    query = query.limit(last) if last is not None else query.where(MarkingMark.created_at >= since)
    rules = unit_rules(session, unit)
    changes = []
    for task_id in sorted(set(session.scalars(query))):  # lock in id order: two send-backs never deadlock
        change = _send_back_task(session, user, unit, rules, task_id, marker_id, reason, now)
        if change is not None:
            changes.append(change)
    audit.record(session, user.id, "marking.sent_back", "marking_unit", unit.id,
                 {"marker_id": marker_id, "last": last, "since": since.isoformat() if since else None,
                  "reason": reason, "tasks": len(changes)}, now)
    session.flush()
    return {"unit_id": unit.id, "marker_id": marker_id, "tasks": len(changes),
            "voided": sum(c["voided"] for c in changes), "reopened": sum(c["to"] != TaskStatus.DONE for c in changes),
            "changed": [c for c in changes if c["old_final"] != c["new_final"]]}


def _send_back_task(session: Session, user: User, unit: MarkingUnit, rules: UnitRules, task_id: int, marker_id: int,
                    reason: str, now: datetime) -> dict[str, Any] | None:
    task = session.scalars(select(MarkingTask).where(MarkingTask.id == task_id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    rows = list(session.scalars(select(MarkingMark).where(MarkingMark.task_id == task.id, counting())
                                .order_by(MarkingMark.id)))
    if not any(m.marker_id == marker_id and m.round != Round.ARBITRATION for m in rows):
        return None  # voided meanwhile (another send-back got the lock first)
    marks = [Mark(m.marker_id, Round(m.round), float(m.score), tuple(m.criteria) if m.criteria else None)
             for m in rows]
    try:
        voided, state = send_back_state(rules, marks, marker_id)
    except GradingError as exc:  # only if the unit's rules no longer fit the stored marks
        raise MarkingRefused(f"marking task {task.token}: the remaining marks do not replay: {exc}") from exc
    void = [rows[i] for i in voided]
    for m in void:
        session.add(MarkingVoid(mark_id=m.id, voided_by=user.id, reason=reason, created_at=now))
    before, old_final = task.state, task.final_score
    if task.state == TaskStatus.PROBLEM and state.status != TaskStatus.DONE:
        task.resume_state = state.status  # still a problem script; it resumes from the replayed state
    else:
        task.state, task.problem, task.resume_state = state.status, None, None
    task.final_score, task.outcome = state.final, state.outcome.value if state.outcome else None
    task.updated_at = now
    audit.record(session, user.id, "marking.marks_voided", "marking_task", task.id,
                 {"unit_id": unit.id, "marker_id": marker_id, "marks": [m.id for m in void], "from": before,
                  "to": task.state, "old_final": old_final, "reason": reason}, now)
    if state.status == TaskStatus.DONE and state.final is not None:
        marking.write_task_final(session, task, unit, state, None, user.id, now)
    session.flush()
    return {"token": task.token, "voided": len(void), "from": before, "to": task.state, "old_final": old_final,
            "new_final": state.final}


# ---- quality ---------------------------------------------------------------------------------------

def quality(session: Session, user: User, unit_id: int) -> dict[str, Any]:
    """Per marker of the unit: the figures of :mod:`grading.marking_quality`, their name, how many
    re-sent scripts still wait for them."""
    unit, _ = lead_unit(session, user, unit_id)
    rules = unit_rules(session, unit)
    marks = [QMark(m.task_id, m.marker_id, Round(m.round), float(m.score), m.seconds_spent)
             for m in session.scalars(select(MarkingMark).join(MarkingTask).where(
                 MarkingTask.unit_id == unit.id, counting()).order_by(MarkingMark.id))]
    remarks = [Remark(resend.marker_id, float(original.score), float(again.score))
               for again, resend, original in session.execute(
                   select(MarkingRemark, MarkingResend, MarkingMark)
                   .join(MarkingResend, MarkingResend.id == MarkingRemark.resend_id)
                   .join(MarkingMark, MarkingMark.id == MarkingResend.mark_id)
                   .join(MarkingTask, MarkingTask.id == MarkingResend.task_id)
                   .where(MarkingTask.unit_id == unit.id).order_by(MarkingRemark.id))
               if again.score is not None]
    assigned = session.scalars(select(MarkingAssignment.user_id).where(MarkingAssignment.unit_id == unit.id)).all()
    sent_back = session.scalars(select(MarkingMark.marker_id).join(MarkingTask).where(  # rows stay, at 0
        MarkingTask.unit_id == unit.id, MarkingMark.round.in_(list(REGULAR)))).all()
    leads = [unit.lead_marker_id] if unit.lead_marker_id is not None else []
    rows = unit_quality(rules, marks, remarks, leads, {*assigned, *sent_back})
    ids = [r.marker_id for r in rows]
    names = {i: n for i, n in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
    pending = {i: len(_pending_for(session, unit, i)) for i in ids}
    return {"unit": {"id": unit.id, "name": unit.name, "points": unit.points, "mode": unit.mode,
                     "tolerance": unit.tolerance, "lead_marker_id": unit.lead_marker_id},
            "safe_middle_band": SAFE_MIDDLE_BAND,
            "markers": [{**asdict(r), "name": names.get(r.marker_id), "lead": r.marker_id in leads,
                         "resends_waiting": pending[r.marker_id]} for r in rows]}


def _pending_for(session: Session, unit: MarkingUnit, marker_id: int) -> list[int]:
    answered = select(MarkingRemark.resend_id)
    return list(session.scalars(select(MarkingResend.id).join(MarkingTask).where(
        MarkingTask.unit_id == unit.id, MarkingResend.marker_id == marker_id, MarkingResend.id.not_in(answered))))
