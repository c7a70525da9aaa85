"""The sheet's own levels and the interpretation of one field, without images."""

from __future__ import annotations

import numpy as np
import pytest

from omr.interpret import interpret_field
from omr.layout import BlockKind
from omr.measure import fill_ratios, levels
from omr.reading import BubbleState, FieldStatus

ABCD = ["A", "B", "C", "D"]


def test_levels_come_from_the_sheet_not_a_constant() -> None:
    rng = np.random.default_rng(0)
    pen = np.concatenate([rng.normal(0.05, 0.01, 300), rng.normal(0.92, 0.02, 80)])
    pencil = np.concatenate([rng.normal(0.05, 0.01, 300), rng.normal(0.42, 0.02, 80)])
    lv_pen, lv_pencil = levels(pen), levels(pencil)
    assert lv_pen.marked_found and lv_pencil.marked_found
    assert abs(lv_pen.mark - 0.92) < 0.03 and abs(lv_pencil.mark - 0.42) < 0.03
    # A pencil mark is a full mark on a pencil sheet.
    assert fill_ratios(np.array([0.42]), lv_pencil)[0] > 0.9
    assert fill_ratios(np.array([0.42]), lv_pen)[0] < 0.5


def test_blank_sheet_has_no_mark_cluster() -> None:
    values = np.random.default_rng(1).normal(0.06, 0.01, 300)
    lv = levels(values)
    assert not lv.marked_found
    assert (fill_ratios(values, lv) < 0.2).all()


def _field(fills: list[float], kind: BlockKind = BlockKind.SINGLE) -> tuple[FieldStatus, str, list[BubbleState], float]:
    reading = interpret_field("b", kind, "7", ABCD[:len(fills)], np.array(fills), 0.1)
    return reading.status, reading.value, list(reading.states.values()), reading.confidence


@pytest.mark.parametrize("fills, kind, status, value", [
    ([0.0, 0.95, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.OK, "B"),
    ([0.0, 0.02, 0.03, 0.01], BlockKind.SINGLE, FieldStatus.BLANK, ""),
    ([0.9, 0.95, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.MULTIPLE, "AB"),
    ([0.9, 0.95, 0.02, 0.01], BlockKind.MULTIPLE, FieldStatus.OK, "AB"),
    ([0.0, 0.35, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.AMBIGUOUS, ""),
    ([0.25, 0.95, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.OK, "B"),  # erased and re-marked
    ([0.45, 0.95, 0.02, 0.01], BlockKind.MULTIPLE, FieldStatus.AMBIGUOUS, "B"),  # maybe a second answer
    ([0.25, 0.95, 0.02, 0.01], BlockKind.MULTIPLE, FieldStatus.OK, "B"),  # a light ghost: erased
    ([0.6, 0.62, 0.02, 0.01], BlockKind.DIGITS, FieldStatus.MULTIPLE, "AB"),
])
def test_field_statuses(fills: list[float], kind: BlockKind, status: FieldStatus, value: str) -> None:
    got_status, got_value, _, _ = _field(fills, kind)
    assert (got_status, got_value) == (status, value)


def test_states_and_confidence() -> None:
    status, _, states, confidence = _field([0.25, 0.95, 0.02, 0.01])
    assert states == [BubbleState.ERASED, BubbleState.MARKED, BubbleState.BLANK, BubbleState.BLANK]
    assert 0 < confidence < 1
    _, _, states, confidence = _field([0.0, 0.35, 0.02, 0.01])
    assert states[1] == BubbleState.FAINT and confidence <= 0.3
    _, _, _, clean = _field([0.0, 0.98, 0.02, 0.01])
    _, _, _, borderline = _field([0.0, 0.55, 0.02, 0.01])
    assert clean > borderline  # a mark just over the line is less certain
