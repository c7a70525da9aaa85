"""Interpret: fill ratios -> bubble states, field values and statuses, the admission number, the
absent mark, and the issues that send a page or a field to a person. Never a silent guess: a faint
mark that decides an answer is AMBIGUOUS; a doubtful admission digit makes the number unreadable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.layout import BlockKind
from omr.measure import BlockMeasure, Levels
from omr.reading import BubbleState, FieldReading, FieldStatus, Issue, IssueCode

MARKED = 0.5  # fill ratio (0 = the sheet's blank level, 1 = its mark level) from which a bubble is marked
FAINT = 0.2  # ... from which it is more than paper: light pencil, a partial mark, an erasure's ghost
ERASED_GAP = 0.3  # a faint bubble this much lighter than a clear mark in the same field is an erasure
# On a multiple-answer item a faint bubble may be one more answer: only a light ghost counts as erased.
ERASED_MAX_MULTIPLE = 0.35
ID_MIN_CONFIDENCE = 0.05  # an admission digit below this (a mark just over the line) goes to a person


def bubble_state(fill: float, faint_floor: float) -> BubbleState:
    if fill >= MARKED:
        return BubbleState.MARKED
    if fill >= max(FAINT, faint_floor):
        return BubbleState.FAINT
    return BubbleState.BLANK


def _margin(fill: float, faint_floor: float) -> float:
    """0..1: how far a fill is from the nearest decision boundary."""
    low = max(FAINT, faint_floor)
    if fill >= MARKED:
        return min(1.0, (fill - MARKED) / 0.3)
    if fill < low:
        return min(1.0, (low - fill) / low)
    return 0.0


def _confidence(fills: np.ndarray, states: list[BubbleState], strongest: float, faint_floor: float) -> float:
    """0..1, the weakest link of the decision: each mark's distance above the marked line, and each
    other bubble's distance below the faint line (or, next to a clear mark, how clearly it is
    lighter than that mark, as an erasure would be)."""
    margins = [1.0]
    for fill, state in zip((float(f) for f in fills), states, strict=True):
        if state == BubbleState.MARKED:
            margins.append(_margin(fill, faint_floor))
        elif strongest > 0:
            margins.append(min(1.0, max(0.0, (strongest - fill - ERASED_GAP) / 0.4)))
        else:
            margins.append(_margin(fill, faint_floor))
    return max(0.0, min(margins))


def interpret_field(block_id: str, kind: BlockKind, name: str, labels: list[str], fills: np.ndarray,
                    faint_floor: float) -> FieldReading:
    states = [bubble_state(float(f), faint_floor) for f in fills]
    marked = [i for i, s in enumerate(states) if s == BubbleState.MARKED]
    faint = [i for i, s in enumerate(states) if s == BubbleState.FAINT]
    strongest = max((float(fills[i]) for i in marked), default=0.0)
    undecided = []
    for i in faint:
        light_enough = kind != BlockKind.MULTIPLE or float(fills[i]) < ERASED_MAX_MULTIPLE
        if marked and strongest - float(fills[i]) >= ERASED_GAP and light_enough:
            states[i] = BubbleState.ERASED  # erased and re-marked: the clear mark is the answer
        else:
            undecided.append(i)
    one_only = kind in (BlockKind.SINGLE, BlockKind.DIGITS, BlockKind.ABSENT)
    if undecided:
        status = FieldStatus.AMBIGUOUS
    elif not marked:
        status = FieldStatus.BLANK
    elif one_only and len(marked) > 1:
        status = FieldStatus.MULTIPLE
    else:
        status = FieldStatus.OK
    confidence = _confidence(fills, states, strongest, faint_floor)
    if status == FieldStatus.AMBIGUOUS:
        confidence = min(confidence, 0.3)
    elif status == FieldStatus.MULTIPLE:
        confidence = min(confidence, 0.5)
    elif BubbleState.ERASED in states:
        confidence = min(confidence, 0.9)  # an erasure: a little less sure than a clean field
    value = "".join(labels[i] for i in marked)
    return FieldReading(block=block_id, field=name, value=value, status=status, confidence=round(confidence, 3),
                        fills={label: round(float(f), 3) for label, f in zip(labels, fills, strict=True)},
                        states=dict(zip(labels, states, strict=True)))


@dataclass
class Interpretation:
    fields: list[FieldReading]
    admission_no: str | None
    admission_confidence: float
    absent: bool
    issues: list[Issue]


def interpret(measures: list[BlockMeasure], fills: list[np.ndarray], lv: Levels) -> Interpretation:
    # A faint bubble must also stand clear of the blank bubbles' noise.
    faint_floor = min(MARKED - 0.05, 6 * lv.noise / max(0.05, lv.mark - lv.blank))
    fields: list[FieldReading] = []
    issues: list[Issue] = []
    digits: list[FieldReading] = []
    absent_fields: list[FieldReading] = []
    for measure, block_fills in zip(measures, fills, strict=True):
        bg = measure.geometry
        block = bg.block
        for f, name in enumerate(block.fields):
            sel = bg.field_index == f
            order = np.argsort(bg.option_index[sel])
            reading = interpret_field(block.id, block.kind, name, block.options_of(f), block_fills[sel][order],
                                      faint_floor)
            fields.append(reading)
            if block.kind == BlockKind.DIGITS:
                digits.append(reading)
            elif block.kind == BlockKind.ABSENT:
                absent_fields.append(reading)
            elif block.kind == BlockKind.SINGLE:
                if reading.status == FieldStatus.MULTIPLE:
                    issues.append(Issue(IssueCode.MULTIPLE_MARKS,
                                        f"question {name}: {len(reading.value)} marks ({reading.value})", name))
                elif reading.status == FieldStatus.AMBIGUOUS:
                    issues.append(Issue(IssueCode.AMBIGUOUS_MARK, f"question {name}: a faint mark decides the "
                                                                  f"answer ({_faint_labels(reading)})", name))
            elif block.kind == BlockKind.MULTIPLE and reading.status == FieldStatus.AMBIGUOUS:
                issues.append(Issue(IssueCode.AMBIGUOUS_MARK, f"question {name}: a faint mark changes the set "
                                                              f"({_faint_labels(reading)})", name))
    admission_no, admission_confidence = _admission(digits, issues)
    absent = False
    for reading in absent_fields:
        if reading.status == FieldStatus.OK:
            absent = True
        elif reading.status == FieldStatus.AMBIGUOUS:
            issues.append(Issue(IssueCode.AMBIGUOUS_MARK, "the absent mark is faint", reading.field))
    if absent:
        answered = [r.field for r in fields
                    if r.block not in {a.block for a in absent_fields} and r.block not in {d.block for d in digits}
                    and any(s in (BubbleState.MARKED, BubbleState.FAINT) for s in r.states.values())]
        if answered:
            shown = ", ".join(answered[:5]) + (" ..." if len(answered) > 5 else "")
            issues.append(Issue(IssueCode.ABSENT_WITH_ANSWERS,
                                f"marked absent, yet {len(answered)} questions are answered ({shown})"))
    return Interpretation(fields, admission_no, admission_confidence, absent, issues)


def _faint_labels(reading: FieldReading) -> str:
    return "faint " + ",".join(label for label, s in reading.states.items() if s == BubbleState.FAINT)


def _admission(digits: list[FieldReading], issues: list[Issue]) -> tuple[str | None, float]:
    if not digits:
        return None, 0.0
    problems = []
    for reading in digits:
        if reading.status == FieldStatus.BLANK:
            problems.append(f"{reading.field} is blank")
        elif reading.status == FieldStatus.MULTIPLE:
            problems.append(f"{reading.field} has {len(reading.value)} marks ({reading.value})")
        elif reading.status == FieldStatus.AMBIGUOUS:
            problems.append(f"{reading.field} has a faint mark")
        elif reading.confidence < ID_MIN_CONFIDENCE:
            problems.append(f"{reading.field} is uncertain (confidence {reading.confidence:.2f})")
    confidence = min(r.confidence for r in digits)
    if problems:
        issues.append(Issue(IssueCode.ID_UNREADABLE, "admission number unreadable: " + "; ".join(problems),
                            next(r.field for r in digits if r.status != FieldStatus.OK
                                 or r.confidence < ID_MIN_CONFIDENCE)))
        return None, confidence
    return "".join(r.value for r in digits), confidence
