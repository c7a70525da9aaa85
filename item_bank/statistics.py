"""Classical item statistics from graded attempts: difficulty p (mean fraction) and the
corrected point-biserial (item vs. rest-of-paper score), with the sample size they came from.

Flags follow common practice: p < .2 (very hard) or > .9 (very easy), discrimination below .2.
A negatively marked wrong answer (a fraction below 0, see grading.types_choice) counts as 0 here:
p is the share of the item earned, not a net score after penalties.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Attempt, AttemptAnswer, AttemptState, Exam, Item, PaperSection, PaperSlot

MIN_SAMPLE = 5  # below this a correlation says nothing


@dataclass(frozen=True)
class ItemStatistics:
    item_id: int
    n: int
    p_value: float
    point_biserial: float | None
    flags: tuple[str, ...]


def classical_statistics(scores: np.ndarray, item_ids: list[int]) -> list[ItemStatistics]:
    """``scores``: candidates x items matrix of fractions (blank = 0); below 0 counts as 0."""
    scores = np.clip(scores, 0.0, 1.0)
    totals = scores.sum(axis=1)
    results = []
    for column, item_id in enumerate(item_ids):
        item = scores[:, column]
        p = float(item.mean()) if len(item) else 0.0
        rest = totals - item
        r = _correlation(item, rest) if len(item) >= MIN_SAMPLE else None
        results.append(ItemStatistics(item_id, len(item), p, r, _flags(p, r)))
    return results


def _correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    if float(x.std()) == 0.0 or float(y.std()) == 0.0:
        return None  # everyone scored the same: discrimination is undefined, not zero
    return float(np.corrcoef(x, y)[0, 1])


def _flags(p: float, r: float | None) -> tuple[str, ...]:
    flags = []
    if p < 0.2:
        flags.append("very_hard")
    if p > 0.9:
        flags.append("very_easy")
    if r is not None and r < 0.2:
        flags.append("low_discrimination")
    return tuple(flags)


def update_from_exam(session: Session, exam_id: int) -> list[ItemStatistics]:
    """Recompute statistics of the exam's items from its graded attempts and store them."""
    exam = session.get(Exam, exam_id)
    if exam is None:
        return []
    slots = list(session.execute(select(PaperSlot.id, PaperSlot.item_id).join(PaperSection)
                                 .where(PaperSection.paper_id == exam.paper_id).order_by(PaperSlot.id)))
    attempts = list(session.scalars(select(Attempt.id).where(Attempt.exam_id == exam_id,
                                                             Attempt.state == AttemptState.GRADED)))
    if not slots or not attempts:
        return []
    matrix = _score_matrix(session, attempts, [slot_id for slot_id, _ in slots])
    stats = classical_statistics(matrix, [item_id for _, item_id in slots])
    for stat in stats:
        item = session.get(Item, stat.item_id)
        if item is not None:
            item.p_value, item.point_biserial, item.classical_n = stat.p_value, stat.point_biserial, stat.n
    return stats


def _score_matrix(session: Session, attempt_ids: list[int], slot_ids: list[int]) -> np.ndarray:
    column = {slot_id: i for i, slot_id in enumerate(slot_ids)}
    row = {attempt_id: i for i, attempt_id in enumerate(attempt_ids)}
    matrix = np.zeros((len(attempt_ids), len(slot_ids)))
    fractions: dict[tuple[int, int], float] = defaultdict(float)
    answers = session.execute(select(AttemptAnswer.attempt_id, AttemptAnswer.slot_id, AttemptAnswer.fraction)
                              .where(AttemptAnswer.attempt_id.in_(attempt_ids)))
    for attempt_id, slot_id, fraction in answers:
        if slot_id in column and fraction is not None:
            fractions[(row[attempt_id], column[slot_id])] = float(fraction)
    for (r, c), value in fractions.items():
        matrix[r, c] = value
    return matrix
