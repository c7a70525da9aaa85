"""Classical item statistics against hand-computed values."""

import numpy as np
import pytest

from item_bank.statistics import classical_statistics


def test_p_value_and_corrected_point_biserial() -> None:
    # 6 candidates x 3 items; item 2 discriminates perfectly with the rest score, item 3 is constant.
    scores = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [0, 0, 1], [0, 0, 1], [1, 1, 1]], dtype=float)
    stats = classical_statistics(scores, [10, 20, 30])
    assert [s.item_id for s in stats] == [10, 20, 30]
    assert stats[0].p_value == pytest.approx(4 / 6)
    rest = scores.sum(axis=1) - scores[:, 1]
    assert stats[1].point_biserial == pytest.approx(np.corrcoef(scores[:, 1], rest)[0, 1])
    assert stats[2].p_value == 1.0 and stats[2].point_biserial is None
    assert "very_easy" in stats[2].flags


def test_flags_and_small_samples() -> None:
    hard = np.array([[0, 1], [0, 1], [1, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 1], [0, 1], [0, 1]], dtype=float)
    stats = classical_statistics(hard, [1, 2])
    assert "very_hard" in stats[0].flags
    tiny = classical_statistics(np.array([[1.0], [0.0]]), [5])[0]
    assert tiny.n == 2 and tiny.point_biserial is None


def test_penalties_count_as_zero() -> None:
    """Negative marking: a wrong answer's -1/3 is 0 for difficulty and discrimination."""
    net = np.array([[1.0, 1.0], [-1 / 3, 1.0], [1.0, 0.0], [-1 / 3, 0.0], [1.0, 1.0], [-1 / 3, 0.0]])
    zeroed = np.clip(net, 0.0, None)
    assert classical_statistics(net, [1, 2]) == classical_statistics(zeroed, [1, 2])
    assert classical_statistics(net, [1, 2])[0].p_value == 0.5
