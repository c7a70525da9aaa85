"""score_attempt: points weighting, blanks, manual slots."""

from typing import Any

import pytest

from grading import AttemptScore, GradingError, GradingState, SlotToScore, score_attempt

OPTS = [{"id": i, "text": i} for i in "ABCD"]
SLOTS = [
    SlotToScore(1, "single_choice", {"options": OPTS, "correct": "A"}, 2.0),
    SlotToScore(2, "multiple_choice", {"options": OPTS, "correct": ["A", "B", "C"]}, 6.0),
    SlotToScore(3, "true_false", {"correct": False}, 1.0),
    SlotToScore(4, "essay", {"max_chars": 500}, 10.0),
    SlotToScore(5, "numeric", {"answers": [{"value": 1.0 / 3.0, "tolerance": 0.001}]}, 1.0),
]


def test_score_attempt_with_manual_slot() -> None:
    responses: dict[int, Any] = {1: "A", 2: ["A", "B"], 3: True, 4: "My essay", 5: 0.333}
    result = score_attempt(SLOTS, responses)
    assert isinstance(result, AttemptScore)
    assert [s.score for s in result.slots] == [2.0, 4.0, 0.0, None, 1.0]
    assert [s.slot_id for s in result.slots] == [1, 2, 3, 4, 5]
    assert result.slots[3].outcome.state is GradingState.NEEDS_MANUAL
    assert result.auto_score == 7.0
    assert result.max_score == 20.0
    assert result.needs_manual is True


def test_missing_responses_are_blank() -> None:
    result = score_attempt(SLOTS, {1: "A"})
    assert [s.score for s in result.slots] == [2.0, 0.0, 0.0, 0.0, 0.0]
    assert all(s.outcome.feedback == {"blank": True} for s in result.slots[1:])
    assert result.auto_score == 2.0
    assert result.needs_manual is False  # a blank essay is graded 0 at once


def test_scores_rounded_to_four_places() -> None:
    slot = SlotToScore(9, "multiple_choice", {"options": OPTS, "correct": ["A", "B", "C"]}, 1.0)
    result = score_attempt(
        [slot, SlotToScore(10, "true_false", {"correct": True}, 0.5)], {9: ["A"], 10: "true"}
    )
    assert result.slots[0].score == 0.3333
    assert result.auto_score == 0.8333
    assert result.max_score == 1.5


def test_empty_attempt() -> None:
    assert score_attempt([], {}) == AttemptScore((), 0.0, 0.0, False)


@pytest.mark.parametrize(
    ("slots", "fragment"),
    [
        (
            [SLOTS[0], SlotToScore(1, "true_false", {"correct": True}, 1.0)],
            "slots[1].slot_id: duplicate slot id 1",
        ),
        ([SlotToScore(1, "true_false", {"correct": True}, -1.0)], "slots[0].points"),
        ([SlotToScore(1, "true_false", {"correct": True}, float("nan"))], "slots[0].points"),
    ],
)
def test_invalid_slots(slots: list[SlotToScore], fragment: str) -> None:
    with pytest.raises(GradingError) as info:
        score_attempt(slots, {})
    assert fragment in str(info.value)
