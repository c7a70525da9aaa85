"""Units over a group of blanks (grading/marking_groups.py) and the machine's check of a blank mark
(grading/ocr/checks.py): pure table tests, wrong inputs of every kind."""

import pytest

from grading.marking import MarkingMode, Outcome, TaskState, UnitRules, mark
from grading.marking_groups import GroupSlot, blank_criteria, deciding_marks, per_blank, slot_scores
from grading.ocr.checks import check_blank_mark, machine_blank_score

SLOTS = [GroupSlot(11, "4", 3.0, 1), GroupSlot(12, "5", 2.0, 3)]


def rules(mode: MarkingMode, tolerance: float = 0.5) -> UnitRules:
    return UnitRules(mode, 5.0, tolerance, criteria=blank_criteria(SLOTS))


def test_blank_criteria_share_each_slots_points_and_add_up() -> None:
    criteria = blank_criteria(SLOTS)
    assert [c.name for c in criteria] == ["4", "5.1", "5.2", "5.3"]
    assert [c.max_points for c in criteria] == [3.0, 0.6667, 0.6667, 0.6666]
    assert round(sum(c.max_points for c in criteria), 4) == 5.0


def test_slot_scores_sum_blanks_and_refuse_a_wrong_count() -> None:
    assert slot_scores(SLOTS, [3, 0.5, 0, 0.6666]) == {11: 3.0, 12: 1.1666}
    with pytest.raises(ValueError, match="expected 4 blank marks, got 3"):
        slot_scores(SLOTS, [3, 0, 0])


@pytest.mark.parametrize(("mode", "marks", "outcome", "blanks"), [
    (MarkingMode.SINGLE, [[3, 0.5, 0.5, 0]], Outcome.SINGLE, (3, 0.5, 0.5, 0)),
    (MarkingMode.DOUBLE, [[3, 0.5, 0.5, 0], [3, 0.6667, 0.5, 0]], Outcome.AGREED, (3, 0.5834, 0.5, 0)),
    # 1 vs 4: a third mark of 4 sides with the second marker.
    (MarkingMode.DOUBLE, [[1, 0, 0, 0], [3, 0.5, 0.5, 0], [3, 0.5, 0.5, 0]], Outcome.RESOLVED, (3, 0.5, 0.5, 0)),
    # Triple mode, a == b == 1, c == 1.25: both equally close -> c with the mean of a and b.
    (MarkingMode.TRIPLE, [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0.25, 0, 0]], Outcome.RESOLVED, (1, 0.125, 0, 0)),
])
def test_per_blank_follows_the_marks_that_made_the_final(mode: MarkingMode, marks: list[list[float]],
                                                         outcome: Outcome, blanks: tuple[float, ...]) -> None:
    r = rules(mode)
    state = TaskState()
    for marker, given in enumerate(marks, start=1):
        state = mark(r, state, marker, None, given)
    assert state.outcome == outcome
    assert per_blank(r, state) == pytest.approx(blanks)
    assert sum(w for _, w in deciding_marks(r, state)) == 1.0


def test_per_blank_of_an_unfinished_task_is_refused() -> None:
    r = rules(MarkingMode.DOUBLE)
    state = mark(r, TaskState(), 1, None, [3, 0, 0, 0])
    with pytest.raises(ValueError, match="no final score"):
        per_blank(r, state)


@pytest.mark.parametrize(("decision", "reason", "fraction", "machine"), [
    ("scored", None, 1.0, 3.0), ("scored", None, 0.5, 1.5), ("blank", "blank", 0.0, 0.0),
    ("person", "no_match", None, 0.0), ("person", "low_confidence", None, None),
    ("person", "corrupt_crop", None, None), ("person", "model_failure", None, None), ("check", None, None, None),
])
def test_machine_blank_score(decision: str, reason: str | None, fraction: float | None, machine: float | None) -> None:
    assert machine_blank_score(decision, reason, fraction, 3.0) == machine


@pytest.mark.parametrize(("human", "machine", "tolerance", "flagged"), [
    (3.0, 3.0, 0.0, False), (2.5, 3.0, 0.5, False), (2.0, 3.0, 0.5, True),  # more than the tolerance apart
    (0.0, 3.0, 5.0, True),  # the machine accepted the answer, the human gave 0: flagged whatever the tolerance
    (3.0, 0.0, 0.0, True),  # an empty box or a confident non-match given full marks
    (0.0, 0.0, 0.0, False), (1.0, None, 0.0, False),  # no confident reading: nothing to check against
])
def test_check_blank_mark(human: float, machine: float | None, tolerance: float, flagged: bool) -> None:
    result = check_blank_mark(human, machine, tolerance, "low_confidence" if machine is None else None)
    assert result.flagged is flagged and result.machine == machine


@pytest.mark.parametrize(("human", "tolerance"), [(float("nan"), 0.0), (1.0, -0.5), (1.0, float("inf"))])
def test_check_blank_mark_refuses_bad_numbers(human: float, tolerance: float) -> None:
    with pytest.raises(ValueError, match="must be finite"):
        check_blank_mark(human, 1.0, tolerance)
