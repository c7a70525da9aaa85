"""Filling sheets from known answers: determinism, and the truth says what was drawn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omr.layout import BlockKind
from omr.synth.fill import (
    CLEAN,
    Answers,
    MarkMix,
    MarkStyle,
    SheetTruth,
    TruthClass,
    fill_sheet,
    measure_darkness,
    random_answers,
)
from omr.synth.render import render_blank
from omr.synth.sample import sample_code, sample_layout

DPI = 150.0


@pytest.fixture(scope="module")
def layout():  # type: ignore[no-untyped-def]
    return sample_layout(questions=20, digits=6, multiple=3, subjective=1)


@pytest.fixture(scope="module")
def blank(layout):  # type: ignore[no-untyped-def]
    return render_blank(layout, DPI, sample_code())


def _added(blank, filled, layout, block_id, field, label) -> float:  # type: ignore[no-untyped-def]
    """Darkness the marks added to one bubble's inner area (blank's own print subtracted)."""
    block = next(b for b in layout.bubble_blocks if b.id == block_id)
    f = block.fields.index(field)
    o = block.options_of(f).index(label)
    return measure_darkness(filled, block, f, o, DPI) - measure_darkness(blank, block, f, o, DPI)


def test_same_seed_same_sheet_and_truth(layout, blank) -> None:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(42)
        answers = random_answers(layout, rng)
        image, truth = fill_sheet(blank, layout, answers, DPI, rng)
        runs.append((image, truth.to_dict()))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    other, _ = fill_sheet(blank, layout, random_answers(layout, np.random.default_rng(43)), DPI,
                          np.random.default_rng(43))
    assert not np.array_equal(runs[0][0], other)


def test_blank_is_not_modified(layout, blank) -> None:  # type: ignore[no-untyped-def]
    before = blank.copy()
    fill_sheet(blank, layout, Answers(fields={"1": "A"}), DPI, np.random.default_rng(0))
    assert np.array_equal(before, blank)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_truth_matches_the_darkness_drawn(layout, blank, seed) -> None:  # type: ignore[no-untyped-def]
    """Measured on the undegraded page: every truth mark is there, with its kind of darkness, and
    every bubble the truth calls empty is empty."""
    mix = MarkMix(pen=0.3, pencil=0.3, partial=0.1, tick=0.06, cross=0.06, faint=0.06, erased_remarked=0.12,
                  erased_blank=0.3)
    rng = np.random.default_rng(seed)
    answers = random_answers(layout, rng, blank_rate=0.2)
    filled, truth = fill_sheet(blank, layout, answers, DPI, rng, mix)
    seen_styles = set()
    for ft in truth.fields:
        block = next(b for b in layout.bubble_blocks if b.id == ft.block)
        f = block.fields.index(ft.field)
        for label in block.options_of(f):
            added = _added(blank, filled, layout, ft.block, ft.field, label)
            style = ft.marks.get(label)
            seen_styles.add(style)
            if style is None:
                assert added < 0.02, (ft, label, added)
            elif style == "ghost":
                assert 0.04 < added < 0.3, (ft, label, added)
            elif style == MarkStyle.PEN:
                assert added > 0.55, (ft, label, added)
            elif style == MarkStyle.PENCIL:
                assert 0.3 < added < 0.75, (ft, label, added)
                assert abs(added - ft.darkness[label]) < 0.15
            elif style == MarkStyle.FAINT:
                assert 0.12 < added < 0.4, (ft, label, added)
            elif style == MarkStyle.PARTIAL:
                assert added > 0.25, (ft, label, added)
            elif style in (MarkStyle.TICK, MarkStyle.CROSS):
                assert 0.08 < added < 0.7, (ft, label, added)
            # a person reads the labels that carry a real mark
        real = "".join(label for label in block.options_of(f) if ft.marks.get(label, "ghost") != "ghost")
        assert ft.value == real
    assert {"pen", "pencil", "ghost"} <= seen_styles


def test_classes_and_ambiguity(layout, blank) -> None:  # type: ignore[no-untyped-def]
    answers = Answers(
        fields={"1": "A", "2": "B", "3": "C", "4": "D", "5": "AB", "6": "A", "7": "B", "8": "", "21": "ACD"},
        admission_no="123456",
        styles={"1": MarkStyle.PEN, "2": MarkStyle.PENCIL, "3": MarkStyle.TICK, "4": MarkStyle.FAINT,
                "6": MarkStyle.ERASED_REMARKED, "7": MarkStyle.CROSS, "8": MarkStyle.ERASED, "21": MarkStyle.PEN})
    _, truth = fill_sheet(blank, layout, answers, DPI, np.random.default_rng(5), CLEAN)
    by_field = {t.field: t for t in truth.fields}
    expect = {"1": (TruthClass.MARKED, False, "A"), "2": (TruthClass.MARKED, False, "B"),
              "3": (TruthClass.TICKED, True, "C"), "4": (TruthClass.FAINT, True, "D"),
              "5": (TruthClass.MULTIPLE, True, "AB"), "6": (TruthClass.ERASED_REMARKED, False, "A"),
              "7": (TruthClass.TICKED, True, "B"), "8": (TruthClass.ERASED, True, ""),
              "9": (TruthClass.BLANK, False, ""), "21": (TruthClass.MARKED, False, "ACD")}
    for name, (cls, ambiguous, value) in expect.items():
        t = by_field[name]
        assert (t.cls, t.ambiguous, t.value) == (cls, ambiguous, value), name
    assert by_field["6"].ghost is not None and by_field["6"].ghost != "A"
    assert truth.admission_no == "123456" and truth.id_readable and truth.expected_issues == []
    assert [t.value for t in truth.fields if t.kind == BlockKind.DIGITS] == list("123456")


def test_faulty_admission_number_and_absent_with_answers(layout, blank) -> None:  # type: ignore[no-untyped-def]
    answers = Answers(fields={"1": "A"}, admission_no="123456", absent=True, digit_marks={2: "37"})
    _, truth = fill_sheet(blank, layout, answers, DPI, np.random.default_rng(1), CLEAN)
    digit3 = truth.get_field("admission", "digit3")
    assert digit3.cls == TruthClass.MULTIPLE and digit3.value == "37"
    assert not truth.id_readable
    assert set(truth.expected_issues) == {"id_unreadable", "absent_with_answers"}
    assert truth.get_field("absent", "absent").value == "X"


def test_stray_marks_stay_between_bubbles(layout, blank) -> None:  # type: ignore[no-untyped-def]
    mix = MarkMix(pen=1, pencil=0, partial=0, tick=0, cross=0, faint=0, erased_remarked=0, erased_blank=0,
                  strays=(40, 40), scribbles=False)
    filled, truth = fill_sheet(blank, layout, Answers(), DPI, np.random.default_rng(9), mix)
    assert truth.strays > 20
    assert (filled < blank).sum() > 50  # something was drawn
    for block in layout.bubble_blocks:
        for f, name in enumerate(block.fields):
            for label in block.options_of(f):
                assert _added(blank, filled, layout, block.id, name, label) < 0.02


def test_scribbles_inside_subjective_regions_only(layout, blank) -> None:  # type: ignore[no-untyped-def]
    mix = MarkMix(strays=(0, 0), scribbles=True, erased_blank=0.0)
    for seed in range(5):
        filled, truth = fill_sheet(blank, layout, Answers(), DPI, np.random.default_rng(seed), mix)
        if truth.scribbled_regions:
            break
    region = next(r for r in layout.regions if r.id == truth.scribbled_regions[0])
    s = DPI / 25.4
    inside = np.zeros(filled.shape, bool)
    y0, y1 = int(region.y * s), int((region.y + region.height) * s)
    inside[y0:y1, int(region.x * s):int((region.x + region.width) * s)] = True
    changed = filled < blank
    assert changed[inside].sum() > 200
    assert changed[~inside].sum() == 0


def test_truth_round_trips_through_json(layout, blank) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    _, truth = fill_sheet(blank, layout, random_answers(layout, rng), DPI, rng)
    again = SheetTruth.from_dict(json.loads(json.dumps(truth.to_dict())))
    assert again == truth


def test_random_answers_cover_every_question(layout) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    answers = random_answers(layout, rng, blank_rate=0.0, absent_rate=0.0, id_fault_rate=0.0)
    questions = [name for b in layout.bubble_blocks if b.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE)
                 for name in b.fields]
    assert sorted(answers.fields) == sorted(questions)
    assert answers.admission_no is not None and len(answers.admission_no) == 6
