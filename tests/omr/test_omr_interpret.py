"""The sheet's own levels and the interpretation of one field, without images."""

from __future__ import annotations

import numpy as np
import pytest

from omr.interpret import interpret_field
from omr.layout import BlockKind
from omr.measure import fill_ratios, levels
from omr.reading import BubbleState, FieldStatus

ABCD = ["A", "B", "C", "D", "E"]


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


@pytest.mark.parametrize("fills, kind, status, value", [
    # a light pencil mark (fill ~0.5 on a pen sheet) alone in its row or column is the answer
    ([0.0, 0.48, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.OK, "B"),
    ([0.0, 0.48, 0.02, 0.01], BlockKind.DIGITS, FieldStatus.OK, "B"),
    # ... also beside an erasure's ghost at about half its darkness
    ([0.27, 0.52, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.OK, "B"),
    ([0.25, 0.47, 0.02, 0.01], BlockKind.DIGITS, FieldStatus.OK, "B"),
    # a faint mark stays faint, alone or beside another light mark
    ([0.0, 0.40, 0.02, 0.01], BlockKind.DIGITS, FieldStatus.AMBIGUOUS, ""),
    ([0.0, 0.47, 0.46, 0.01], BlockKind.SINGLE, FieldStatus.AMBIGUOUS, ""),
    # a second bubble too dark for a ghost: a person decides
    ([0.38, 0.52, 0.02, 0.01], BlockKind.SINGLE, FieldStatus.AMBIGUOUS, "B"),
    # multiple response: a light mark as dark as the others (one pencil) is one more answer
    ([0.53, 0.02, 0.49, 0.72], BlockKind.MULTIPLE, FieldStatus.OK, "ACD"),
])
def test_relative_decisions(fills: list[float], kind: BlockKind, status: FieldStatus, value: str) -> None:
    got_status, got_value, _, _ = _field(fills, kind)
    assert (got_status, got_value) == (status, value)


def test_light_pencil_digit_is_confident_enough_for_the_admission_number() -> None:
    from omr.interpret import ID_MIN_CONFIDENCE

    _, _, _, light = _field([0.0, 0.50, 0.02, 0.01], BlockKind.DIGITS)
    _, _, _, just_over = _field([0.0, 0.455, 0.02, 0.01], BlockKind.DIGITS)
    assert light >= ID_MIN_CONFIDENCE > just_over


def test_lighter_tick_on_a_multiple_response_item_is_not_taken_for_a_ghost() -> None:
    # ticks B and E read ~0.55, ticks C and D ~0.32: C and D may be answers too -> a person decides
    status, value, states, _ = _field([0.003, 0.552, 0.317, 0.327, 0.525], BlockKind.MULTIPLE)
    assert status == FieldStatus.AMBIGUOUS and BubbleState.ERASED not in states
