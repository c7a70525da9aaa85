"""Interpret: fill ratios -> bubble states, field values and statuses, the admission number, the
absent mark, and the issues that send a page or a field to a person. Never a silent guess: a faint
mark that decides an answer is AMBIGUOUS; a doubtful admission digit makes the number unreadable.

Decisions are relative to the sheet (fill ratios: 0 at its blank level, 1 at its mark level) and
to the field: a light pencil mark (fill >= LIGHT_MARK) is a mark when it is the only non-blank
bubble of its row or digit column (or stands beside one ghost at most ERASED_RATIO of it), or when
it is as dark as the field's other marks; its confidence is its distance above the line it was
decided by. A faint mark (below LIGHT_MARK), two comparable marks, or a second bubble too dark for
a ghost still go to a person."""

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
ID_MIN_CONFIDENCE = 0.08  # an admission digit below this (a mark just over its line) goes to a person
# Relative decisions within one field (a digit column, a question row):
# a light mark (a soft pencil fill) counts as marked from this fill ratio when it stands alone, every
# other bubble of the field blank, or when it is as dark as the field's other marks (the same hand
# and pencil). Faint marks (0.2-0.35 darkness) read at most ~0.41, light pencil (0.45+) from ~0.49.
LIGHT_MARK = 0.45
SAME_HAND = 0.75  # ... "as dark as": at least this share of the weakest clear mark of the field
# A faint bubble next to a clear mark is an erasure's ghost when it is at most this share of the
# mark (and under ERASED_MAX): a rubbed-out mark keeps about half of the darkness of a fresh one.
ERASED_RATIO = 0.6
ERASED_MAX = 0.4


def bubble_state(fill: float, faint_floor: float) -> BubbleState:
    if fill >= MARKED:
        return BubbleState.MARKED
    if fill >= max(FAINT, faint_floor):
        return BubbleState.FAINT
    return BubbleState.BLANK


def _margin(fill: float, faint_floor: float, mark_line: float = MARKED) -> float:
    """0..1: how far a fill is from the nearest decision boundary (``mark_line``: the line the
    field's marks were decided by)."""
    low = max(FAINT, faint_floor)
    if fill >= mark_line:
        return min(1.0, (fill - mark_line) / 0.3)
    if fill < low:
        return min(1.0, (low - fill) / low)
    return 0.0


def _erased_margin(fill: float, strongest: float, by_ratio: bool = True) -> float:
    """0..1: how clearly a bubble next to a clear mark is lighter than it (an erasure's ghost, or
    paper): by the absolute gap or by the ratio, whichever is clearer."""
    by_gap = (strongest - fill - ERASED_GAP) / 0.4
    ratio = min(ERASED_RATIO * strongest - fill, ERASED_MAX - fill) / 0.2 if by_ratio else 0.0
    return min(1.0, max(0.0, by_gap, ratio))


def _is_ghost(fill: float, strongest: float, by_ratio: bool = True) -> bool:
    """A faint bubble beside a clear mark of ``strongest``: an erasure's ghost? By the gap always; by
    the ratio only on one-answer fields (on a multiple-response item a lighter tick may be one
    more answer)."""
    return strongest - fill >= ERASED_GAP or (by_ratio and fill <= ERASED_RATIO * strongest and fill < ERASED_MAX)


def _confidence(fills: list[float], states: list[BubbleState], strongest: float, faint_floor: float,
                mark_line: float = MARKED, by_ratio: bool = True) -> float:
    """0..1, the weakest link of the decision: each mark's distance above the line it was decided
    by, and each other bubble's distance below the faint line (or, next to a clear mark, how
    clearly it is lighter than that mark, as an erasure would be)."""
    margins = [1.0]
    for fill, state in zip(fills, states, strict=True):
        if state == BubbleState.MARKED:
            margins.append(_margin(fill, faint_floor, mark_line))
        elif strongest > 0:
            if state == BubbleState.BLANK and fill < max(FAINT, faint_floor):
                margins.append(max(_margin(fill, faint_floor), _erased_margin(fill, strongest, by_ratio)))
            else:
                margins.append(_erased_margin(fill, strongest, by_ratio))
        else:
            margins.append(_margin(fill, faint_floor))
    return max(0.0, min(margins))


def interpret_field(block_id: str, kind: BlockKind, name: str, labels: list[str], fills: np.ndarray,
                    faint_floor: float) -> FieldReading:
    values: list[float] = [float(f) for f in np.asarray(fills, dtype=np.float64).tolist()]
    states = [bubble_state(f, faint_floor) for f in values]
    mark_line = MARKED
    _promote_light_marks(values, states, faint_floor, kind != BlockKind.MULTIPLE)
    if any(s == BubbleState.MARKED and f < MARKED for f, s in zip(values, states, strict=True)):
        mark_line = LIGHT_MARK
    marked = [i for i, s in enumerate(states) if s == BubbleState.MARKED]
    faint = [i for i, s in enumerate(states) if s == BubbleState.FAINT]
    strongest = max((values[i] for i in marked), default=0.0)
    undecided = []
    for i in faint:
        light_enough = kind != BlockKind.MULTIPLE or values[i] < ERASED_MAX_MULTIPLE
        if marked and _is_ghost(values[i], strongest, kind != BlockKind.MULTIPLE) and light_enough:
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
    if status == FieldStatus.OK and len(marked) == 1:
        mark_line = LIGHT_MARK  # one mark, the rest blank or ghosts: decided relative to the field
    confidence = _confidence(values, states, strongest, faint_floor, mark_line, kind != BlockKind.MULTIPLE)
    if status == FieldStatus.AMBIGUOUS:
        confidence = min(confidence, 0.3)
    elif status == FieldStatus.MULTIPLE:
        confidence = min(confidence, 0.5)
    elif BubbleState.ERASED in states:
        confidence = min(confidence, 0.9)  # an erasure: a little less sure than a clean field
    value = "".join(labels[i] for i in marked)
    return FieldReading(block=block_id, field=name, value=value, status=status, confidence=round(confidence, 3),
                        fills={label: round(f, 3) for label, f in zip(labels, values, strict=True)},
                        states=dict(zip(labels, states, strict=True)))


def _promote_light_marks(values: list[float], states: list[BubbleState], faint_floor: float,
                         by_ratio: bool = True) -> None:
    """Relative decision within the field: a FAINT bubble of at least LIGHT_MARK is a mark when it
    is the only non-blank bubble (a soft pencil digit in a column of blanks), or when it is nearly
    as dark as the field's weakest clear mark (one hand, one pencil). Anything lighter stays faint."""
    clear = [v for v, s in zip(values, states, strict=True) if s == BubbleState.MARKED]
    light = [i for i, s in enumerate(states) if s == BubbleState.FAINT and values[i] >= LIGHT_MARK]
    if not light:
        return
    if not clear:
        top = values[light[0]]
        others = [v for i, v in enumerate(values) if i != light[0]]
        not_blank = [v for v in others if v >= max(FAINT, faint_floor)]
        # alone, or beside one erasure's ghost that is clearly lighter than it
        if len(light) == 1 and (not not_blank or (len(not_blank) == 1 and _is_ghost(not_blank[0], top, by_ratio))):
            states[light[0]] = BubbleState.MARKED
        return
    weakest = min(clear)
    for i in light:
        if values[i] >= SAME_HAND * weakest:
            states[i] = BubbleState.MARKED


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
                    and any(s == BubbleState.MARKED for s in r.states.values())]  # a ghost is no answer
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
