"""Online marking (网上阅卷): units for an exam's manual slots, anonymous batches, marks, final scores.

* :func:`create_units` makes one unit per manual question (essay, short answer, …) of the exam's
  paper, holding the matching slot of every other form of a joint exam (A卷/B卷, the rule is in
  :mod:`exam_server.services.marking_forms`), and :func:`sync_tasks` one task per submitted
  attempt whose answer, on whichever form, waits for a human (a scanned crop of that answer, when
  there is one, is attached). Both are idempotent. A task's answer, and the final score, are the
  unit's slot on the candidate's own form's paper (:func:`marking_forms.slot_on_paper`).
* :func:`fetch_batch` hands a marker up to ``n`` tasks. A task is leased to one marker until
  ``lease_expires_at``; on PostgreSQL the free tasks are taken with ``SELECT … FOR UPDATE SKIP
  LOCKED``, so parallel markers never get the same task; on SQLite every writer is serialised by
  the write gate (``BEGIN IMMEDIATE``), which gives the same guarantee. What a marker sees is
  anonymous: an opaque token, the typed answer (or the crop's id), the stem, rubric and reference.
* :func:`submit_mark` applies :mod:`grading.marking` to the stored state, appends the mark
  (``marking_marks`` is never updated) and, when the task is done, writes the final score into the
  attempt: the answer's fraction, a ``manually_graded`` step, and the attempt's total, which becomes
  ``graded`` once no answer waits for a human.
* :func:`flag_problem` sends a task to the problem queue; the lead marker scores it (arbitration)
  or sends it back with :func:`release_problem`. Flags and releases are audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from exam_server.errors import BadRequest, Forbidden, InvalidScore, MarkingRefused, NotFound, TaskLeasedElsewhere
from exam_server.permissions import is_exam_marker, may_lead_marking, may_manage_exam
from exam_server.services import audit
from exam_server.services.attempts import lock_attempt
from exam_server.services.marking_forms import Question, exam_questions, form_question, slot_on_paper
from grading.errors import GradingError, InvalidMark
from grading.marking import (
    IllegalMove,
    Mark,
    MarkingMode,
    Round,
    TaskState,
    TaskStatus,
    UnitRules,
    arbitrate,
    mark,
)
from grading.marking import (
    flag_problem as flag_state,
)
from grading.marking import (
    release_problem as release_state,
)
from grading.marks import Criterion, score_fraction
from grading.outcome import GradingState
from models import (
    AnswerCrop,
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    Exam,
    Item,
    MarkingAssignment,
    MarkingMark,
    MarkingTask,
    MarkingUnit,
    MarkingVoid,
    PaperSlot,
    StepKind,
    User,
)

LEASE = timedelta(minutes=20)
MAX_BATCH = 50
MARKING_STATES = (TaskStatus.WAITING_FIRST, TaskStatus.WAITING_SECOND, TaskStatus.WAITING_THIRD)
QUEUES = {"marking": MARKING_STATES, "arbitration": (TaskStatus.WAITING_ARBITRATION,),
          "problem": (TaskStatus.PROBLEM,)}


VOIDED = select(MarkingVoid.mark_id)  # marks sent back by a lead marker: kept, never counted


def counting() -> Any:
    """The marks that count: every mark not voided by a send-back."""
    return MarkingMark.id.not_in(VOIDED)


@dataclass(frozen=True)
class UnitSettings:
    mode: MarkingMode = MarkingMode.DOUBLE
    tolerance: float = 0.0
    lead_marker_id: int | None = None


# ---- units and tasks ----------------------------------------------------------------------------

def rules_for(unit: MarkingUnit, item: Item) -> UnitRules:
    criteria = tuple(Criterion(str(c["name"]), float(c["max_points"]))
                     for c in (item.definition or {}).get("criteria") or ())
    return UnitRules(MarkingMode(unit.mode), float(unit.points), float(unit.tolerance), float(unit.score_step),
                     criteria)


def create_units(session: Session, user: User, exam: Exam, settings: UnitSettings, now: datetime
                 ) -> list[MarkingUnit]:
    """One unit per question to mark, across the exam's forms (:mod:`marking_forms`; existing units
    are kept and gain the slots of forms added since), then their tasks."""
    if not may_manage_exam(session, user, exam):
        raise NotFound(f"exam {exam.id} does not exist")
    if settings.lead_marker_id is not None and session.get(User, settings.lead_marker_id) is None:
        raise BadRequest(f"lead_marker_id: user {settings.lead_marker_id} does not exist")
    existing = {u.slot_ids[0]: u for u in session.scalars(select(MarkingUnit).where(MarkingUnit.exam_id == exam.id))
                if u.slot_ids}
    units = []
    for question in exam_questions(session, exam):
        unit = existing.get(question.slots[0].slot_id)
        if unit is None:
            unit = _new_unit(session, user, exam, settings, question, now)
        else:
            _add_form_slots(session, user, unit, question, now)
        units.append(unit)
        sync_tasks(session, unit, now)
    return units


def _new_unit(session: Session, user: User, exam: Exam, settings: UnitSettings, question: Question,
              now: datetime) -> MarkingUnit:
    first = question.slots[0]
    slot_ids = [s.slot_id for s in question.slots]
    unit = MarkingUnit(exam_id=exam.id, name=question.name, slot_ids=slot_ids, points=first.points,
                       mode=settings.mode, tolerance=settings.tolerance, score_step=first.step,
                       lead_marker_id=settings.lead_marker_id, created_by=user.id, created_at=now)
    item = session.get(Item, first.item_id)
    assert item is not None
    try:
        rules_for(unit, item)
    except GradingError as exc:
        raise InvalidScore(f"slot {first.slot_id} ({unit.name}): {exc}") from exc
    session.add(unit)
    session.flush()
    audit.record(session, user.id, "marking.unit_created", "marking_unit", unit.id,
                 {"exam_id": exam.id, "slot_ids": slot_ids, "mode": unit.mode, "tolerance": unit.tolerance}, now)
    return unit


def _add_form_slots(session: Session, user: User, unit: MarkingUnit, question: Question, now: datetime) -> None:
    """A form added after the units were made: its matching slots join the question's unit."""
    added = [s.slot_id for s in question.slots if s.slot_id not in unit.slot_ids]
    if added:
        unit.slot_ids = [*unit.slot_ids, *added]  # a new list, so the JSON column is written
        audit.record(session, user.id, "marking.unit_slots_added", "marking_unit", unit.id, {"slot_ids": added}, now)
        session.flush()


def sync_tasks(session: Session, unit: MarkingUnit, now: datetime) -> int:
    """A task for every submitted attempt whose answer to the unit (on whichever form's paper)
    waits for a human; returns how many were added."""
    have = select(MarkingTask.attempt_id).where(MarkingTask.unit_id == unit.id)
    rows = session.execute(
        select(Attempt.id, Attempt.user_id).join(AttemptAnswer, AttemptAnswer.attempt_id == Attempt.id)
        .where(Attempt.exam_id == unit.exam_id, Attempt.state == AttemptState.SUBMITTED,
               AttemptAnswer.slot_id.in_(unit.slot_ids), AttemptAnswer.grading_state == GradingState.NEEDS_MANUAL,
               Attempt.id.not_in(have))
        .distinct().order_by(Attempt.id)).all()
    crops = {user_id: crop_id for user_id, crop_id in session.execute(select(AnswerCrop.user_id, AnswerCrop.id).where(
        AnswerCrop.exam_id == unit.exam_id, AnswerCrop.slot_id.in_(unit.slot_ids)))}
    for attempt_id, user_id in rows:
        session.add(MarkingTask(token=secrets.token_hex(16), unit_id=unit.id, attempt_id=attempt_id,
                                crop_id=crops.get(user_id), state=TaskStatus.WAITING_FIRST, created_at=now,
                                updated_at=now))
    session.flush()
    return len(rows)


def get_unit(session: Session, unit_id: int) -> tuple[MarkingUnit, Exam]:
    unit = session.get(MarkingUnit, unit_id)
    exam = session.get(Exam, unit.exam_id) if unit is not None else None
    if unit is None or exam is None:
        raise NotFound(f"marking unit {unit_id} does not exist")
    return unit, exam


def unit_item(session: Session, unit: MarkingUnit) -> Item:
    item = session.scalar(select(Item).join(PaperSlot, PaperSlot.item_id == Item.id)
                          .where(PaperSlot.id == unit.slot_ids[0]))
    assert item is not None
    return item


def _may_mark_unit(session: Session, user: User, unit: MarkingUnit, exam: Exam) -> bool:
    if not is_exam_marker(session, user, exam):
        return False
    assigned = session.scalars(select(MarkingAssignment.user_id).where(MarkingAssignment.unit_id == unit.id)).all()
    return not assigned or user.id in assigned


def _check_reach(session: Session, user: User, unit: MarkingUnit, exam: Exam, queue: str) -> None:
    lead = may_lead_marking(session, user, exam, unit.lead_marker_id)
    if queue == "marking":
        if not _may_mark_unit(session, user, unit, exam):
            if lead or may_manage_exam(session, user, exam):
                raise Forbidden(f"marking unit {unit.id}: you are not one of its markers")
            raise NotFound(f"marking unit {unit.id} does not exist")
    elif not lead:
        if _may_mark_unit(session, user, unit, exam):
            raise Forbidden(f"marking unit {unit.id}: only its lead marker handles the {queue} queue")
        raise NotFound(f"marking unit {unit.id} does not exist")


# ---- batches -------------------------------------------------------------------------------------

def _remaining_quota(session: Session, user: User, unit: MarkingUnit) -> int | None:
    quota = session.scalar(select(MarkingAssignment.quota).where(
        MarkingAssignment.unit_id == unit.id, MarkingAssignment.user_id == user.id))
    if quota is None:
        return None
    done = session.scalar(select(func.count()).select_from(MarkingMark).join(MarkingTask)
                          .where(MarkingTask.unit_id == unit.id, MarkingMark.marker_id == user.id, counting())) or 0
    return max(0, quota - int(done))


def fetch_batch(session: Session, user: User, unit_id: int, n: int, now: datetime, queue: str = "marking"
                ) -> dict[str, Any]:
    """Up to ``n`` tasks for this marker: the ones they already hold first, then free ones."""
    if queue not in QUEUES:
        raise BadRequest(f"queue: expected one of {', '.join(QUEUES)}, got {queue!r}")
    if not 1 <= n <= MAX_BATCH:
        raise BadRequest(f"n: ask for 1 to {MAX_BATCH} tasks, got {n}")
    unit, exam = get_unit(session, unit_id)
    _check_reach(session, user, unit, exam, queue)
    remaining = _remaining_quota(session, user, unit) if queue == "marking" else None
    marked_by_me = exists().where(MarkingMark.task_id == MarkingTask.id, MarkingMark.marker_id == user.id)
    open_here = and_(MarkingTask.unit_id == unit.id, MarkingTask.state.in_(list(QUEUES[queue])), ~marked_by_me)
    held = list(session.scalars(select(MarkingTask).where(
        open_here, MarkingTask.leased_by == user.id, MarkingTask.lease_expires_at > now).order_by(MarkingTask.id)
        .limit(n)))
    limit = n if remaining is None else min(n, remaining)
    want = max(0, limit - len(held))
    taken: list[MarkingTask] = []
    if want:
        free = or_(MarkingTask.leased_by.is_(None), MarkingTask.lease_expires_at <= now)
        taken = list(session.scalars(select(MarkingTask).where(open_here, free).order_by(MarkingTask.id)
                                     .limit(want).with_for_update(skip_locked=True)))
        for task in taken:
            task.leased_by, task.lease_expires_at = user.id, now + LEASE
        session.flush()
    item = unit_item(session, unit)
    views = [task_view(session, unit, t, earlier=queue != "marking") for t in held + taken]
    return {"unit": unit_view(unit, item), "tasks": views,
            "quota_left": None if remaining is None else max(0, remaining - len(taken)),
            "lease_expires_at": (now + LEASE).isoformat()}


def unit_view(unit: MarkingUnit, item: Item) -> dict[str, Any]:
    """What every marker of the unit may see: the question, the rubric and the reference answer."""
    definition = item.definition or {}
    return {"id": unit.id, "name": unit.name, "points": unit.points, "mode": unit.mode, "tolerance": unit.tolerance,
            "score_step": unit.score_step, "stem": item.stem, "reference_answer": definition.get("reference_answer"),
            "rubric": definition.get("rubric"), "criteria": definition.get("criteria")}


def task_view(session: Session, unit: MarkingUnit, task: MarkingTask, earlier: bool = False) -> dict[str, Any]:
    """Anonymous: the token and the answer, never the attempt or the candidate. Only the lead's
    arbitration and problem queues (``earlier``) show the marks already given, beside the script."""
    attempt = session.get(Attempt, task.attempt_id)
    assert attempt is not None
    slot_id = slot_on_paper(session, unit, attempt)
    answer = session.get(AttemptAnswer, (task.attempt_id, slot_id))
    view: dict[str, Any] = {"token": task.token, "round": _round_of(task), "response": None, "crop_id": task.crop_id}
    if slot_id != unit.slot_ids[0]:
        view.update(form_question(session, unit, slot_id))
    if answer is not None:
        view["response"] = answer.response
    if task.state == TaskStatus.PROBLEM:
        view["problem"] = task.problem
    if earlier:
        view["earlier_marks"] = earlier_marks(session, task)
    return view


def earlier_marks(session: Session, task: MarkingTask) -> list[dict[str, Any]]:
    rows = session.execute(select(MarkingMark, User.display_name).join(User, User.id == MarkingMark.marker_id)
                           .where(MarkingMark.task_id == task.id, counting()).order_by(MarkingMark.id))
    return [{"round": m.round, "score": m.score, "criteria": m.criteria, "marker_id": m.marker_id,
             "marker": name, "seconds": m.seconds_spent} for m, name in rows]


def _round_of(task: MarkingTask) -> str:
    state = TaskState(status=TaskStatus(task.state))
    return state.round.value if state.round is not None else Round.ARBITRATION.value


# ---- marks ---------------------------------------------------------------------------------------

def _lock_task(session: Session, token: str) -> MarkingTask:
    task = session.scalars(select(MarkingTask).where(MarkingTask.token == token).with_for_update()).first()
    if task is None:
        raise NotFound(f"marking task {token!r} does not exist")
    return task


def _state(session: Session, task: MarkingTask) -> TaskState:
    rows = session.scalars(select(MarkingMark).where(MarkingMark.task_id == task.id, counting())
                           .order_by(MarkingMark.id))
    marks = tuple(Mark(m.marker_id, Round(m.round), float(m.score), tuple(m.criteria) if m.criteria else None)
                  for m in rows)
    return TaskState(status=TaskStatus(task.state), marks=marks, final=task.final_score, problem=task.problem,
                     resume=TaskStatus(task.resume_state) if task.resume_state else None)


def _check_not_sent_back(session: Session, task: MarkingTask, user: User) -> None:
    """A voided mark no longer counts, but its marker never marks the task again."""
    if session.scalar(select(MarkingMark.id).where(MarkingMark.task_id == task.id, MarkingMark.marker_id == user.id,
                                                   MarkingMark.id.in_(VOIDED))) is not None:
        raise MarkingRefused(f"marking task {task.token}: your mark on it was sent back by the lead marker; "
                             "another marker marks it")


def _check_holder(task: MarkingTask, user: User) -> None:
    if task.leased_by != user.id:
        raise TaskLeasedElsewhere("this task is not in your batch (your lease ran out and it went to another "
                                  "marker, or you never fetched it): fetch a new batch")


def submit_mark(session: Session, user: User, token: str, score: Any, criteria: list[Any] | None,
                seconds: int | None, now: datetime) -> dict[str, Any]:
    """A marker's mark for a task in their batch, or the lead's arbitration of a task waiting for it."""
    task = _lock_task(session, token)
    unit, exam = get_unit(session, task.unit_id)
    arbitrating = task.state in (TaskStatus.WAITING_ARBITRATION, TaskStatus.PROBLEM)
    _check_reach(session, user, unit, exam, "arbitration" if arbitrating else "marking")
    rules = rules_for(unit, unit_item(session, unit))
    before = _state(session, task)
    _check_not_sent_back(session, task, user)
    try:  # the pure move first: "you marked this already" says more than "not in your batch"
        after = (arbitrate if arbitrating else mark)(rules, before, user.id, score, criteria)
    except IllegalMove as exc:
        raise MarkingRefused(f"marking task {token}: {exc}") from exc
    except InvalidMark as exc:
        raise InvalidScore(f"marking task {token}: {exc}") from exc
    if not arbitrating:
        _check_holder(task, user)
    given = after.marks[-1]
    session.add(MarkingMark(task_id=task.id, marker_id=user.id, round=given.round, score=given.score,
                            criteria=list(given.criteria) if given.criteria is not None else None,
                            seconds_spent=seconds, created_at=now))
    task.state, task.final_score = after.status, after.final
    task.outcome = after.outcome.value if after.outcome is not None else None
    task.problem, task.resume_state = after.problem, after.resume
    task.leased_by, task.lease_expires_at, task.updated_at = None, None, now
    if arbitrating:
        audit.record(session, user.id, "marking.arbitrated", "marking_task", task.id,
                     {"unit_id": unit.id, "score": given.score, "from": before.status.value}, now)
    if after.status == TaskStatus.DONE and after.final is not None:
        write_final(session, task, unit, after.final, user.id, now)
    session.flush()
    return {"token": token, "round": given.round.value, "score": given.score}


def flag_problem(session: Session, user: User, token: str, reason: str, now: datetime) -> dict[str, Any]:
    task = _lock_task(session, token)
    unit, exam = get_unit(session, task.unit_id)
    _check_reach(session, user, unit, exam, "marking")
    if task.state in MARKING_STATES:
        _check_holder(task, user)
    try:
        after = flag_state(_state(session, task), reason[:300])
    except IllegalMove as exc:
        raise MarkingRefused(f"marking task {token}: {exc}") from exc
    task.state, task.problem, task.resume_state = after.status, after.problem, after.resume
    task.leased_by, task.lease_expires_at, task.updated_at = None, None, now
    audit.record(session, user.id, "marking.problem", "marking_task", task.id,
                 {"unit_id": unit.id, "reason": after.problem}, now)
    session.flush()
    return {"token": token, "state": task.state}


def release_problem(session: Session, user: User, token: str, now: datetime) -> dict[str, Any]:
    """The lead marker sends a problem script back to the queue it came from."""
    task = _lock_task(session, token)
    unit, exam = get_unit(session, task.unit_id)
    _check_reach(session, user, unit, exam, "problem")
    try:
        after = release_state(_state(session, task))
    except IllegalMove as exc:
        raise MarkingRefused(f"marking task {token}: {exc}") from exc
    reason = task.problem
    task.state, task.problem, task.resume_state, task.updated_at = after.status, None, None, now
    task.leased_by, task.lease_expires_at = None, None
    audit.record(session, user.id, "marking.problem_released", "marking_task", task.id,
                 {"unit_id": unit.id, "reason": reason, "to": after.status.value}, now)
    session.flush()
    return {"token": token, "state": task.state}


# ---- the final score into the attempt ---------------------------------------------------------------

def write_final(session: Session, task: MarkingTask, unit: MarkingUnit, final: float, actor_id: int,
                 now: datetime) -> None:
    attempt = lock_attempt(session, task.attempt_id)
    slot_id = slot_on_paper(session, unit, attempt)
    answer = session.get(AttemptAnswer, (attempt.id, slot_id))
    _audit_change(session, task, answer, final, actor_id, now)
    if answer is None:  # a scanned crop with no typed answer: the mark still needs a row to land in
        answer = AttemptAnswer(attempt_id=attempt.id, slot_id=slot_id, response=None, client_seq=0, saved_at=now)
        session.add(answer)
    answer.fraction = score_fraction(final, float(unit.points), float(unit.score_step))
    answer.grading_state = GradingState.GRADED
    answer.feedback = {"marked": {"score": final, "outcome": task.outcome}}
    session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.MANUALLY_GRADED, slot_id=slot_id, actor_id=actor_id,
                            created_at=now, data={"score": final, "fraction": answer.fraction,
                                                  "outcome": task.outcome, "marking_task_id": task.id}))
    session.flush()
    recompute_total(session, attempt)


def _audit_change(session: Session, task: MarkingTask, answer: AttemptAnswer | None, final: float, actor_id: int,
                  now: datetime) -> None:
    """A task marked again after a send-back: an audit record when its final score changes."""
    earlier = ((answer.feedback or {}).get("marked") or {}).get("score") if answer is not None else None
    if isinstance(earlier, int | float) and round(float(earlier) - final, 4) != 0:
        audit.record(session, actor_id, "marking.final_changed", "marking_task", task.id,
                     {"attempt_id": task.attempt_id, "unit_id": task.unit_id, "old": float(earlier), "new": final}, now)


def recompute_total(session: Session, attempt: Attempt) -> None:
    """The attempt's total from its answers' fractions, as :func:`attempts.grade` sums them: every
    slot of the paper is one group floored at 0 once no answer waits for a human; then graded."""
    rows = session.execute(
        select(AttemptAnswer.fraction, AttemptAnswer.grading_state, PaperSlot.points)
        .join(PaperSlot, PaperSlot.id == AttemptAnswer.slot_id)
        .where(AttemptAnswer.attempt_id == attempt.id)).all()
    pending = any(state == GradingState.NEEDS_MANUAL for _, state, _ in rows)
    total = round(sum(round(f * float(p), 4) for f, _, p in rows if f is not None), 4)
    if not pending:
        total = max(total, 0.0)
    attempt.score, attempt.needs_manual_grading = total + 0.0, pending
    if not pending and attempt.state == AttemptState.SUBMITTED:
        attempt.state = AttemptState.GRADED
    session.flush()


# ---- progress ------------------------------------------------------------------------------------

def progress(session: Session, user: User, exam: Exam) -> list[dict[str, Any]]:
    """Per unit: tasks by state; the exam's managers also see marks per marker, a marker their own."""
    manager = may_manage_exam(session, user, exam)
    marker = is_exam_marker(session, user, exam)
    if not (manager or marker):
        raise NotFound(f"exam {exam.id} does not exist")
    out = []
    for unit in session.scalars(select(MarkingUnit).where(MarkingUnit.exam_id == exam.id).order_by(MarkingUnit.id)):
        if not manager and not (_may_mark_unit(session, user, unit, exam)
                                or may_lead_marking(session, user, exam, unit.lead_marker_id)):
            continue
        states: dict[str, int] = {state: count for state, count in session.execute(
            select(MarkingTask.state, func.count()).where(MarkingTask.unit_id == unit.id).group_by(MarkingTask.state))}
        per_marker: dict[int, int] = {marker: count for marker, count in session.execute(
            select(MarkingMark.marker_id, func.count()).join(MarkingTask)
            .where(MarkingTask.unit_id == unit.id, counting()).group_by(MarkingMark.marker_id))}
        row: dict[str, Any] = {
            "id": unit.id, "name": unit.name, "slot_ids": unit.slot_ids, "points": unit.points, "mode": unit.mode,
            "tolerance": unit.tolerance, "score_step": unit.score_step, "lead_marker_id": unit.lead_marker_id,
            "tasks": sum(states.values()), "done": states.get(TaskStatus.DONE, 0),
            "by_state": {s.value: states.get(s, 0) for s in TaskStatus}, "my_marks": per_marker.get(user.id, 0)}
        quotas: dict[int, int | None] = {u: q for u, q in session.execute(
            select(MarkingAssignment.user_id, MarkingAssignment.quota).where(MarkingAssignment.unit_id == unit.id))}
        row["my_quota"] = quotas.get(user.id)
        if manager or may_lead_marking(session, user, exam, unit.lead_marker_id):
            row["marks_by_marker"] = {str(k): v for k, v in sorted(per_marker.items())}
            row["markers"] = _marker_rows(session, quotas, per_marker)
        out.append(row)
    return out


def _marker_rows(session: Session, quotas: dict[int, int | None], done: dict[int, int]) -> list[dict[str, Any]]:
    """Progress per marker: the assigned ones (with their quota) and anyone else who marked."""
    ids = sorted(set(quotas) | set(done))
    names = {i: n for i, n in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
    return [{"user_id": i, "name": names.get(i), "assigned": i in quotas, "quota": quotas.get(i),
             "done": done.get(i, 0)} for i in ids]
