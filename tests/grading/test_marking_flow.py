"""The marking state machine (grading.marking): modes, tolerance, third marks, arbitration, problems."""

from typing import Any

import pytest

from grading.errors import GradingError, InvalidMark
from grading.marking import (
    IllegalMove,
    Mark,
    MarkingMode,
    Outcome,
    Round,
    TaskState,
    TaskStatus,
    UnitRules,
    arbitrate,
    flag_problem,
    mark,
    release_problem,
    replay,
)
from grading.marks import Criterion

DOUBLE = UnitRules(MarkingMode.DOUBLE, points=10, tolerance=2, step=0.5)
TRIPLE = UnitRules(MarkingMode.TRIPLE, points=10, tolerance=2, step=0.5)


def run(rules: UnitRules, *scores: float) -> TaskState:
    state = TaskState()
    for marker, score in enumerate(scores, start=1):
        state = mark(rules, state, marker, score)
    return state


def test_single_mode_is_final_after_one_mark() -> None:
    state = run(UnitRules(MarkingMode.SINGLE, points=5, step=1), 3)
    assert (state.status, state.final, state.outcome) == (TaskStatus.DONE, 3, Outcome.SINGLE)
    with pytest.raises(IllegalMove, match="done"):
        mark(UnitRules(MarkingMode.SINGLE, points=5), state, 9, 1)


@pytest.mark.parametrize(("a", "b", "status", "final"), [
    (6, 6, TaskStatus.DONE, 6.0),
    (6, 8, TaskStatus.DONE, 7.0),  # exactly at tolerance: agreed
    (8, 6, TaskStatus.DONE, 7.0),
    (6, 8.5, TaskStatus.WAITING_THIRD, None),  # one step over
    (6, 7.5, TaskStatus.DONE, 7.0),  # mean 6.75 rounds to the 0.5 step, halves up
    (0, 0, TaskStatus.DONE, 0.0),
    (10, 8, TaskStatus.DONE, 9.0),
])
def test_double_marking_with_tolerance(a: float, b: float, status: TaskStatus, final: float | None) -> None:
    state = run(DOUBLE, a, b)
    assert (state.status, state.final) == (status, final)
    assert state.outcome == (Outcome.AGREED if final is not None else None)


def test_tolerance_is_compared_at_stored_precision() -> None:
    rules = UnitRules(MarkingMode.DOUBLE, points=1, tolerance=0.3, step=0.1)
    assert run(rules, 0.0, 0.30000000000000004).status == TaskStatus.DONE
    assert run(rules, 0.1, 0.4).status == TaskStatus.DONE  # 0.4 - 0.1 = 0.30000000000000004


@pytest.mark.parametrize(("a", "b", "c", "status", "final"), [
    (2, 7, 8, TaskStatus.DONE, 7.5),  # only b within tolerance of c
    (2, 7, 3, TaskStatus.DONE, 2.5),  # only a
    (2, 7, 4, TaskStatus.DONE, 3.0),  # a exactly at tolerance (|2-4| = 2)
    (3, 6, 5, TaskStatus.DONE, 5.5),  # both within (2 and 1): the closer, b
    (3, 7, 5, TaskStatus.DONE, 5.0),  # equidistant: c with the mean of a and b, (5 + 5) / 2
    (1, 6, 3.5, TaskStatus.WAITING_ARBITRATION, None),  # equidistant, but 2.5 > tolerance from both
    (2, 6.5, 4.5, TaskStatus.DONE, 5.5),  # b exactly at tolerance, a 2.5 away
    (0, 10, 5, TaskStatus.WAITING_ARBITRATION, None),  # neither within tolerance
])
def test_third_mark(a: float, b: float, c: float, status: TaskStatus, final: float | None) -> None:
    state = run(DOUBLE, a, b, c)
    assert (state.status, state.final) == (status, final)
    assert [m.round for m in state.marks] == [Round.FIRST, Round.SECOND, Round.THIRD]


def test_third_mark_equidistant_is_the_third_mark_itself() -> None:
    # Equidistant from two different marks means halfway between them: c averaged with (a + b) / 2 is c.
    assert run(DOUBLE, 4, 7, 5.5).final == 5.5
    state = run(UnitRules(MarkingMode.DOUBLE, points=10, tolerance=2, step=1), 1, 5, 3)
    assert (state.final, state.outcome) == (3.0, Outcome.RESOLVED)
    # In triple mode the first two may be equal: c is averaged with them.
    assert run(TRIPLE, 6, 6, 7).final == 6.5
    # An off-step third mark is refused, not rounded.
    with pytest.raises(InvalidMark, match="step"):
        run(DOUBLE, 4, 6.5, 5.25)
    assert run(UnitRules(MarkingMode.DOUBLE, points=10, tolerance=1, step=1), 2, 6, 4).status == (
        TaskStatus.WAITING_ARBITRATION)


def test_triple_mode_always_takes_three_marks() -> None:
    assert run(TRIPLE, 6, 6).status == TaskStatus.WAITING_THIRD
    state = run(TRIPLE, 6, 6, 6)
    assert (state.status, state.final, state.outcome) == (TaskStatus.DONE, 6.0, Outcome.RESOLVED)


def test_arbitration_by_a_lead_who_gave_no_mark() -> None:
    state = run(DOUBLE, 0, 10, 5)
    with pytest.raises(IllegalMove, match="arbitration"):
        mark(DOUBLE, state, 99, 5)
    for earlier in (1, 2, 3):
        with pytest.raises(IllegalMove, match="cannot arbitrate"):
            arbitrate(DOUBLE, state, earlier, 5)
    done = arbitrate(DOUBLE, state, 99, 4.5)
    assert (done.status, done.final, done.outcome) == (TaskStatus.DONE, 4.5, Outcome.ARBITRATED)
    assert done.marks[-1] == Mark(99, Round.ARBITRATION, 4.5)
    with pytest.raises(IllegalMove):
        arbitrate(DOUBLE, done, 98, 4)


def test_arbitration_only_when_waiting_for_it() -> None:
    with pytest.raises(IllegalMove, match="waiting_second"):
        arbitrate(DOUBLE, run(DOUBLE, 3), 99, 3)


def test_a_marker_never_marks_a_task_twice() -> None:
    state = run(DOUBLE, 3)
    with pytest.raises(IllegalMove, match="twice"):
        mark(DOUBLE, state, 1, 3)
    state = mark(DOUBLE, state, 2, 8)
    with pytest.raises(IllegalMove, match="twice"):
        mark(DOUBLE, state, 2, 5)
    with pytest.raises(IllegalMove, match="twice"):
        mark(DOUBLE, state, 1, 5)


@pytest.mark.parametrize("score", [-0.5, 10.5, 2.25, "3", None, float("nan"), True])
def test_bad_scores_are_refused_and_change_nothing(score: Any) -> None:
    state = run(DOUBLE, 3)
    with pytest.raises(InvalidMark):
        mark(DOUBLE, state, 2, score)
    assert state.status == TaskStatus.WAITING_SECOND and len(state.marks) == 1


def test_rubric_units_are_marked_per_criterion() -> None:
    rules = UnitRules(MarkingMode.DOUBLE, points=10, tolerance=1, step=0.5,
                      criteria=(Criterion("content", 6), Criterion("language", 4)))
    state = mark(rules, TaskState(), 1, None, [4, 3])
    assert state.marks[0] == Mark(1, Round.FIRST, 7.0, (4.0, 3.0))
    with pytest.raises(InvalidMark, match="per criterion"):
        mark(rules, state, 2, 7)
    with pytest.raises(InvalidMark, match="criterion 'language'"):
        mark(rules, state, 2, None, [4, 4.5])
    with pytest.raises(InvalidMark, match="sum"):
        mark(rules, state, 2, 6, [4, 3])
    done = mark(rules, state, 2, 7.5, [5, 2.5])
    assert (done.final, done.outcome) == (7.5, Outcome.AGREED)  # (7 + 7.5) / 2 = 7.25 -> 7.5


def test_rubric_scale_differs_from_unit_points() -> None:
    rules = UnitRules(MarkingMode.SINGLE, points=20, step=0.5, criteria=(Criterion("a", 5), Criterion("b", 5)))
    assert mark(rules, TaskState(), 1, None, [3, 2]).final == 10.0


def test_problem_scripts_leave_the_queue_and_come_back() -> None:
    state = run(DOUBLE, 3)
    flagged = flag_problem(state, "  unreadable 字迹无法辨认 ")
    assert (flagged.status, flagged.problem, flagged.resume) == (
        TaskStatus.PROBLEM, "unreadable 字迹无法辨认", TaskStatus.WAITING_SECOND)
    with pytest.raises(IllegalMove):
        mark(DOUBLE, flagged, 2, 3)
    with pytest.raises(IllegalMove):
        flag_problem(flagged, "again")
    back = release_problem(flagged)
    assert back.status == TaskStatus.WAITING_SECOND and back.problem is None
    assert mark(DOUBLE, back, 2, 3).final == 3.0
    # or the lead scores it directly; but not one of its markers
    with pytest.raises(IllegalMove, match="cannot arbitrate"):
        arbitrate(DOUBLE, flagged, 1, 0)
    done = arbitrate(DOUBLE, flagged, 50, 0)
    assert (done.status, done.final, done.outcome, done.problem) == (TaskStatus.DONE, 0, Outcome.ARBITRATED, None)
    with pytest.raises(IllegalMove, match="reason"):
        flag_problem(TaskState(), "  ")
    with pytest.raises(IllegalMove):
        flag_problem(done, "late")
    with pytest.raises(IllegalMove):
        release_problem(state)


def test_replay_rebuilds_the_state_from_marks() -> None:
    state = arbitrate(DOUBLE, run(DOUBLE, 0, 10, 5), 99, 4.5)
    assert replay(DOUBLE, state.marks) == state
    assert replay(DOUBLE, run(DOUBLE, 2, 3).marks) == run(DOUBLE, 2, 3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"points": 10, "tolerance": -1}, "tolerance"),
    ({"points": 10, "tolerance": 11}, "tolerance"),
    ({"points": 10.25, "step": 0.5}, "multiple"),
])
def test_unit_rules_are_checked(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(GradingError, match=match):
        UnitRules(MarkingMode.DOUBLE, **kwargs)
