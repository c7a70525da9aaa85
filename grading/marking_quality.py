"""Marker quality (阅卷质量) on one marking unit, without a database.

The service hands in the unit's rules, its marks that still count (voided marks left out) in the
order they were given, the re-marks of re-sent scripts and who the lead markers are; out comes one
:class:`MarkerQuality` per marker. Every figure is defined here and in ``docs/marking.md``
("Marker quality"); a figure with nothing to measure is ``None``, never 0.

* **Regular marks** are the first, second and third marks. Arbitration marks are the lead's
  decisions: they are the reference, never the marker's own figures.
* **Speed:** the median of ``seconds`` over the marker's timed regular marks, and scripts per hour
  ``3600 · n_timed / Σ seconds`` (throughput over the time actually spent).
* **Against the group:** the marker's mean and population standard deviation of scores, the same
  over every regular mark of the unit (the group, the marker included), and ``mean − group mean``.
* **Agreement with the lead:** on every task where the marker gave a regular mark and a reference
  mark exists (the task's last arbitration mark, else the last regular mark by a lead marker, a
  "check mark"), the share with ``|s − r| <= tolerance`` and the mean signed ``s − r``.
* **Self-consistency:** over re-sent scripts, the mean ``|again − original|`` and the share within
  tolerance.
* **Safe middle:** the share of regular marks with ``|s − points/2| <= 10% of points``: a marker
  who avoids the ends of the scale piles up there (趋中).
* **Third marks caused (double mode):** among the marker's first or second marks on tasks whose
  first two marks are both in, the share more than the tolerance apart. In single and triple mode
  (where every task takes three marks) it is ``None``.
* **Arbitration caused:** among the marker's regular marks on tasks with three regular marks, the
  share where neither earlier mark is within tolerance of the third (the task went to arbitration).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grading.marking import MarkingMode, Round, UnitRules, third_mark_final

_DIGITS = 4
SAFE_MIDDLE_BAND = 0.10  # of the unit's points, either side of points / 2
REGULAR = frozenset({Round.FIRST, Round.SECOND, Round.THIRD})


@dataclass(frozen=True)
class QMark:
    """One mark that counts (not voided), in the order the marks were given."""

    task_id: int
    marker_id: int
    round: Round
    score: float
    seconds: int | None = None


@dataclass(frozen=True)
class Remark:
    """A re-sent script marked again by the marker who marked it first."""

    marker_id: int
    original: float
    again: float


@dataclass(frozen=True)
class MarkerQuality:
    marker_id: int
    marks: int
    median_seconds: float | None
    scripts_per_hour: float | None
    mean: float | None
    sd: float | None
    group_mean: float | None
    group_sd: float | None
    mean_vs_group: float | None
    lead_compared: int
    lead_agreement: float | None
    lead_mean_diff: float | None
    remarks: int
    self_mean_abs_diff: float | None
    self_within: float | None
    safe_middle: float | None
    third_pairs: int
    third_rate: float | None
    arbitration_triples: int
    arbitration_rate: float | None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, _DIGITS) + 0.0


def _share(hits: int, total: int) -> float | None:
    return None if total == 0 else _r(hits / total)


def _mean(values: Sequence[float]) -> float | None:
    return _r(statistics.fmean(values)) if values else None


def _sd(values: Sequence[float]) -> float | None:
    return _r(statistics.pstdev(values)) if values else None


def within(a: float, b: float, tolerance: float) -> bool:
    """Inclusive, after rounding to the stored precision (as :mod:`grading.marking` compares)."""
    return round(abs(a - b), _DIGITS) <= round(tolerance, _DIGITS)


def safe_middle(score: float, points: float) -> bool:
    return round(abs(score - points / 2), _DIGITS) <= round(SAFE_MIDDLE_BAND * points, _DIGITS)


def _speed(seconds: Sequence[int]) -> tuple[float | None, float | None]:
    if not seconds:
        return None, None
    total = sum(seconds)
    return _r(float(statistics.median(seconds))), (_r(3600 * len(seconds) / total) if total > 0 else None)


def _reference(marks: Sequence[QMark], leads: frozenset[int]) -> QMark | None:
    """The task's last arbitration mark, else the last regular mark by a lead marker."""
    arbitrations = [m for m in marks if m.round == Round.ARBITRATION]
    if arbitrations:
        return arbitrations[-1]
    checks = [m for m in marks if m.marker_id in leads]
    return checks[-1] if checks else None


@dataclass
class _Acc:
    scores: list[float]
    seconds: list[int]
    lead_diffs: list[float]
    pairs: int = 0
    thirds: int = 0
    triples: int = 0
    arbitrations: int = 0


def _per_task(rules: UnitRules, task: Sequence[QMark], leads: frozenset[int], acc: dict[int, _Acc]) -> None:
    regular = [m for m in task if m.round in REGULAR]
    reference = _reference(task, leads)
    for m in regular:
        a = acc[m.marker_id]
        a.scores.append(m.score)
        if m.seconds is not None:
            a.seconds.append(m.seconds)
        if reference is not None and reference.marker_id != m.marker_id:
            a.lead_diffs.append(m.score - reference.score)
    if rules.mode == MarkingMode.DOUBLE and len(regular) >= 2:
        disagree = not within(regular[0].score, regular[1].score, rules.tolerance)
        for m in regular[:2]:
            acc[m.marker_id].pairs += 1
            acc[m.marker_id].thirds += disagree
    if len(regular) >= 3:
        escalated = third_mark_final(regular[0].score, regular[1].score, regular[2].score, rules) is None
        for m in regular[:3]:
            acc[m.marker_id].triples += 1
            acc[m.marker_id].arbitrations += escalated


def unit_quality(rules: UnitRules, marks: Sequence[QMark], remarks: Sequence[Remark] = (),
                 leads: Iterable[int] = (), marker_ids: Iterable[int] = ()) -> list[MarkerQuality]:
    """One row per marker with a regular mark or a re-mark, plus ``marker_ids`` (rows of ``None``)."""
    lead_set = frozenset(leads)
    by_task: dict[int, list[QMark]] = defaultdict(list)
    for m in marks:
        by_task[m.task_id].append(m)
    acc: dict[int, _Acc] = defaultdict(lambda: _Acc([], [], []))
    for task in by_task.values():
        _per_task(rules, task, lead_set, acc)
    by_marker: dict[int, list[Remark]] = defaultdict(list)
    for r in remarks:
        by_marker[r.marker_id].append(r)
    group = [s for a in acc.values() for s in a.scores]
    ids = sorted(set(acc) | set(by_marker) | set(marker_ids))
    return [_row(rules, i, acc.get(i) or _Acc([], [], []), by_marker.get(i, []), group) for i in ids]


def _row(rules: UnitRules, marker_id: int, a: _Acc, remarks: Sequence[Remark], group: Sequence[float]
         ) -> MarkerQuality:
    median, per_hour = _speed(a.seconds)
    mean, group_mean = _mean(a.scores), _mean(group)
    gaps = [abs(r.again - r.original) for r in remarks]
    double = rules.mode == MarkingMode.DOUBLE
    return MarkerQuality(
        marker_id=marker_id, marks=len(a.scores), median_seconds=median, scripts_per_hour=per_hour,
        mean=mean, sd=_sd(a.scores), group_mean=group_mean, group_sd=_sd(group),
        mean_vs_group=None if mean is None or group_mean is None else _r(mean - group_mean),
        lead_compared=len(a.lead_diffs),
        lead_agreement=_share(sum(within(d, 0.0, rules.tolerance) for d in a.lead_diffs), len(a.lead_diffs)),
        lead_mean_diff=_mean(a.lead_diffs), remarks=len(remarks), self_mean_abs_diff=_mean(gaps),
        self_within=_share(sum(within(g, 0.0, rules.tolerance) for g in gaps), len(gaps)),
        safe_middle=_share(sum(safe_middle(s, rules.points) for s in a.scores), len(a.scores)),
        third_pairs=a.pairs if double else 0, third_rate=_share(a.thirds, a.pairs) if double else None,
        arbitration_triples=a.triples, arbitration_rate=_share(a.arbitrations, a.triples))

