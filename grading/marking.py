"""The marking workflow of one task (one candidate's answer to one marking unit), without a database.

A task is marked by one, two or three markers, and an arbitrator when they disagree (网上阅卷:
单评, 双评, 三评, 仲裁). Every move is a pure function from a :class:`TaskState` to a new one;
an illegal move raises :class:`IllegalMove` and leaves nothing changed. The service stores the
state and appends every mark it accepts (``marking_marks`` is append-only).

States::

    waiting_first --mark--> waiting_second                       (double mode)
    waiting_first --mark--> done(single)                         (single mode)
    waiting_second --mark, |a-b| <= tol--> done(agreed: mean of a and b)
    waiting_second --mark, |a-b| >  tol--> waiting_third
    waiting_third --mark c--> done(resolved: mean of c and the earlier mark within tol of c)
    waiting_third --mark c, neither within tol--> waiting_arbitration
    waiting_arbitration --arbitrate--> done(arbitrated: the arbitrator's score)
    any open state --flag--> problem --resolve_problem--> (back where it was) or done(arbitrated)

Rules:

* The tolerance (误差阈值) is in points and inclusive: ``|a - b| <= tolerance`` agrees. Points are
  compared after rounding to the stored precision (0.0001), so 0.1 + 0.2 vs 0.3 is exact.
* In **triple** mode there is no tolerance shortcut: three marks are always taken, and the final
  score follows the third-mark rule below (or arbitration).
* The **third mark** c is averaged with whichever of a and b is within tolerance of it. If both
  are, the closer one. A tie (both equally close) favours neither marker: c is averaged with the
  mean of a and b. Since a tie between two different marks means c lies halfway between them,
  that final is c itself; in triple mode with a == b it is the mean of a and c.
* **Arbitration** is by a lead marker who gave none of the earlier marks of this task; the
  arbitrated score is final as given.
* A marker never marks the same task twice (first, second and third markers are all different).
* **Problem** scripts (unreadable, off-topic, suspected copying, …) leave the normal queue; a lead
  marker either sends them back to where they were or scores them directly (arbitrated).
* Every score is checked by :mod:`grading.marks` against the unit's points and score step, or
  per criterion against the rubric; a final average is rounded to the step (halves up), since the
  mean of two steps may fall between steps (2.5 and 3 on a 0.5 step average 2.75 -> 3.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from grading.errors import GradingError, InvalidMark
from grading.marks import STORED_STEP, Criterion, check_points, mark_rubric, round_to_step, validate_score

_DIGITS = 4


class MarkingMode(StrEnum):
    SINGLE = "single"
    DOUBLE = "double"
    TRIPLE = "triple"


class TaskStatus(StrEnum):
    WAITING_FIRST = "waiting_first"
    WAITING_SECOND = "waiting_second"
    WAITING_THIRD = "waiting_third"
    WAITING_ARBITRATION = "waiting_arbitration"
    PROBLEM = "problem"
    DONE = "done"


class Outcome(StrEnum):
    """How a finished task got its final score."""

    SINGLE = "single"  # one mark, single mode
    AGREED = "agreed"  # two marks within tolerance: their mean
    RESOLVED = "resolved"  # a third mark and the earlier one within tolerance: their mean
    ARBITRATED = "arbitrated"  # the lead marker's score


class Round(StrEnum):
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    ARBITRATION = "arbitration"


OPEN = frozenset({TaskStatus.WAITING_FIRST, TaskStatus.WAITING_SECOND, TaskStatus.WAITING_THIRD,
                  TaskStatus.WAITING_ARBITRATION})
_ROUND_OF = {TaskStatus.WAITING_FIRST: Round.FIRST, TaskStatus.WAITING_SECOND: Round.SECOND,
             TaskStatus.WAITING_THIRD: Round.THIRD, TaskStatus.WAITING_ARBITRATION: Round.ARBITRATION}


class IllegalMove(GradingError):
    """A move the task's state does not allow (wrong round, same marker twice, finished task)."""


@dataclass(frozen=True)
class UnitRules:
    """What a marking unit fixes for all of its tasks."""

    mode: MarkingMode
    points: float
    tolerance: float = 0.0
    step: float = STORED_STEP
    criteria: tuple[Criterion, ...] = ()

    def __post_init__(self) -> None:
        check_points(self.points, self.step)
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, int | float) or self.tolerance < 0:
            raise GradingError(f"tolerance: must be a number of points >= 0, got {self.tolerance!r}")
        if self.tolerance > self.points:
            raise GradingError(f"tolerance: {self.tolerance} is above the unit's {self.points} points")


@dataclass(frozen=True)
class Mark:
    marker_id: int
    round: Round
    score: float
    criteria: tuple[float, ...] | None = None


@dataclass(frozen=True)
class TaskState:
    status: TaskStatus = TaskStatus.WAITING_FIRST
    marks: tuple[Mark, ...] = ()
    final: float | None = None
    outcome: Outcome | None = None
    problem: str | None = None  # the reason, while flagged
    resume: TaskStatus | None = None  # where a problem task goes back to

    @property
    def markers(self) -> frozenset[int]:
        return frozenset(m.marker_id for m in self.marks)

    @property
    def round(self) -> Round | None:
        return _ROUND_OF.get(self.status)


def check_score(rules: UnitRules, score: Any, criteria: Sequence[Any] | None = None
                ) -> tuple[float, tuple[float, ...] | None]:
    """A human's mark for this unit: a total on the step, or one mark per rubric criterion."""
    if rules.criteria:
        if criteria is None:
            raise InvalidMark("criteria: this unit is marked per criterion; send one mark per criterion")
        rubric = mark_rubric(rules.criteria, list(criteria), rules.step)
        total = round(rubric.fraction * rules.points, _DIGITS)
        if score is not None and abs(validate_score(score, rules.points, rules.step) - total) > 1e-9:
            raise InvalidMark(f"score: {score} is not the sum of the criterion marks ({total})")
        return total, rubric.marks
    if criteria is not None:
        raise InvalidMark("criteria: this unit has no rubric criteria; send a single score")
    return validate_score(score, rules.points, rules.step), None


def _mean(a: float, b: float, rules: UnitRules) -> float:
    return round_to_step((a + b) / 2, rules.points, rules.step)


def _within(a: float, b: float, rules: UnitRules) -> bool:
    return round(abs(a - b), _DIGITS) <= round(rules.tolerance, _DIGITS)


def mark(rules: UnitRules, state: TaskState, marker_id: int, score: Any,
         criteria: Sequence[Any] | None = None) -> TaskState:
    """A first, second or third mark (arbitration is :func:`arbitrate`)."""
    if state.status not in (TaskStatus.WAITING_FIRST, TaskStatus.WAITING_SECOND, TaskStatus.WAITING_THIRD):
        if state.status == TaskStatus.WAITING_ARBITRATION:
            raise IllegalMove("task waits for arbitration by a lead marker; it takes no more marks")
        raise IllegalMove(f"task is {state.status}: it takes no marks now")
    if marker_id in state.markers:
        raise IllegalMove(f"marker {marker_id} already marked this task; a marker never marks a task twice")
    value, per_criterion = check_score(rules, score, criteria)
    this = Mark(marker_id, _ROUND_OF[state.status], value, per_criterion)
    marks = (*state.marks, this)
    if state.status == TaskStatus.WAITING_FIRST:
        if rules.mode == MarkingMode.SINGLE:
            return replace(state, status=TaskStatus.DONE, marks=marks, final=value, outcome=Outcome.SINGLE)
        return replace(state, status=TaskStatus.WAITING_SECOND, marks=marks)
    if state.status == TaskStatus.WAITING_SECOND:
        a = state.marks[0].score
        if rules.mode == MarkingMode.DOUBLE and _within(a, value, rules):
            return replace(state, status=TaskStatus.DONE, marks=marks, final=_mean(a, value, rules),
                           outcome=Outcome.AGREED)
        return replace(state, status=TaskStatus.WAITING_THIRD, marks=marks)
    final = third_mark_final(state.marks[0].score, state.marks[1].score, value, rules)
    if final is None:
        return replace(state, status=TaskStatus.WAITING_ARBITRATION, marks=marks)
    return replace(state, status=TaskStatus.DONE, marks=marks, final=final, outcome=Outcome.RESOLVED)


def third_mark_final(a: float, b: float, c: float, rules: UnitRules) -> float | None:
    """The final score from a third mark c, or None when neither a nor b is within tolerance of c.

    Both within: the closer one; exactly equidistant: c averaged with the mean of a and b."""
    near_a, near_b = _within(a, c, rules), _within(b, c, rules)
    if not (near_a or near_b):
        return None
    if near_a and near_b:
        da, db = round(abs(a - c), _DIGITS), round(abs(b - c), _DIGITS)
        if da == db:
            return round_to_step((c + (a + b) / 2) / 2, rules.points, rules.step)
        return _mean(a if da < db else b, c, rules)
    return _mean(a if near_a else b, c, rules)


def arbitrate(rules: UnitRules, state: TaskState, lead_id: int, score: Any,
              criteria: Sequence[Any] | None = None) -> TaskState:
    """The lead marker's final score for a task waiting for arbitration (or a problem task)."""
    if state.status not in (TaskStatus.WAITING_ARBITRATION, TaskStatus.PROBLEM):
        raise IllegalMove(f"task is {state.status}: only a task waiting for arbitration or flagged as a "
                          "problem can be arbitrated")
    if lead_id in state.markers:
        raise IllegalMove(f"marker {lead_id} gave one of this task's marks and cannot arbitrate it")
    value, per_criterion = check_score(rules, score, criteria)
    marks = (*state.marks, Mark(lead_id, Round.ARBITRATION, value, per_criterion))
    return replace(state, status=TaskStatus.DONE, marks=marks, final=value, outcome=Outcome.ARBITRATED,
                   problem=None, resume=None)


def flag_problem(state: TaskState, reason: str) -> TaskState:
    """Send an open task to the problem queue (unreadable, off-topic, suspected copying …)."""
    if state.status not in OPEN:
        raise IllegalMove(f"task is {state.status}: only a task waiting for a mark can be flagged")
    if not reason.strip():
        raise IllegalMove("reason: say why the script is a problem (unreadable, off-topic, copying …)")
    return replace(state, status=TaskStatus.PROBLEM, problem=reason.strip(), resume=state.status)


def release_problem(state: TaskState) -> TaskState:
    """A lead marker sends a problem task back to the queue it came from."""
    if state.status != TaskStatus.PROBLEM or state.resume is None:
        raise IllegalMove(f"task is {state.status}: only a problem task can be sent back")
    return replace(state, status=state.resume, problem=None, resume=None)


def replay(rules: UnitRules, marks: Sequence[Mark]) -> TaskState:
    """Rebuild a task's state from its append-only marks (problem flags aside)."""
    state = TaskState()
    for m in marks:
        if m.round == Round.ARBITRATION:
            if state.status != TaskStatus.WAITING_ARBITRATION:
                state = replace(state, status=TaskStatus.PROBLEM, resume=state.status)
            state = arbitrate(rules, state, m.marker_id, m.score, m.criteria)
        else:
            state = mark(rules, state, m.marker_id, m.score, m.criteria)
    return state


def send_back(rules: UnitRules, marks: Sequence[Mark], marker_id: int) -> tuple[tuple[int, ...], TaskState]:
    """A lead sends back ``marker_id``'s mark: which of ``marks`` (the ones that still count, in
    order) are voided, by index, and the state replayed from the rest.

    Voided: the marker's regular mark and any arbitration mark (it decided between marks that
    included the voided one). The other markers' marks stay and are replayed in order, so at most
    two remain: the task waits for a mark again, or is done at once when two agree (double mode).
    Raises :class:`IllegalMove` when the marker has no regular mark among ``marks``."""
    if not any(m.marker_id == marker_id and m.round != Round.ARBITRATION for m in marks):
        raise IllegalMove(f"marker {marker_id} has no mark on this task that counts")
    voided = tuple(i for i, m in enumerate(marks) if m.marker_id == marker_id or m.round == Round.ARBITRATION)
    return voided, replay(rules, [m for i, m in enumerate(marks) if i not in voided])
