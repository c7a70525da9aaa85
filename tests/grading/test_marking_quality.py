"""Marker quality (grading.marking_quality): table tests whose figures were worked out by hand; and
the send-back replay of grading.marking."""

import pytest

from grading.marking import IllegalMove, Mark, MarkingMode, Round, TaskStatus, UnitRules, send_back
from grading.marking_quality import MarkerQuality, QMark, Remark, safe_middle, unit_quality, within

F, S, T, A = Round.FIRST, Round.SECOND, Round.THIRD, Round.ARBITRATION
DOUBLE = UnitRules(MarkingMode.DOUBLE, points=10, tolerance=2, step=0.5)
LEAD = 9
# T1 agreed (6, 7); T2 2 vs 8 -> third 5 (3 from each) -> arbitration 4; T3 agreed (5, 5);
# T4 m1 4.5 and the lead's own regular mark 6 (a check mark) agree.
MARKS = [
    QMark(1, 1, F, 6, 30), QMark(1, 2, S, 7, 60),
    QMark(2, 1, F, 2, 40), QMark(2, 2, S, 8, 20), QMark(2, 3, T, 5, 50), QMark(2, LEAD, A, 4, 10),
    QMark(3, 2, F, 5, None), QMark(3, 3, S, 5, 30),
    QMark(4, 1, F, 4.5, 90), QMark(4, LEAD, S, 6, None),
]
REMARKS = [Remark(1, original=6, again=7), Remark(1, original=2, again=5)]
GROUP = [6, 7, 2, 8, 5, 5, 5, 4.5, 6]  # every regular mark; the arbitration 4 is not one


def rows() -> dict[int, MarkerQuality]:
    return {q.marker_id: q for q in unit_quality(DOUBLE, MARKS, REMARKS, leads=[LEAD], marker_ids=[7])}


def test_speed_median_and_scripts_per_hour() -> None:
    q = rows()
    # m1: 30, 40, 90 s -> median 40; 3 scripts in 160 s -> 67.5 an hour
    assert (q[1].median_seconds, q[1].scripts_per_hour) == (40, 67.5)
    # m2: one untimed mark; 60 and 20 s -> median 40, 2 in 80 s -> 90 an hour
    assert (q[2].marks, q[2].median_seconds, q[2].scripts_per_hour) == (3, 40, 90)
    assert (q[LEAD].median_seconds, q[LEAD].scripts_per_hour) == (None, None)  # never timed


def test_mean_and_spread_against_the_group() -> None:
    q = rows()
    # m1: 6, 2, 4.5 -> mean 12.5/3 = 4.1667; variance (1.8333² + 2.1667² + 0.3333²)/3 = 8.1667/3 -> sd 1.6499
    assert (q[1].mean, q[1].sd) == (4.1667, 1.6499)
    # group: 48.5 / 9 = 5.3889; m1 is 1.2222 below it
    assert q[1].group_mean == 5.3889 and q[1].mean_vs_group == -1.2222
    assert q[3].mean == 5 and q[3].sd == 0 and q[3].group_mean == q[1].group_mean
    # squared gaps from 5.3889: .3735 + 2.5957 + 11.4846 + 6.8179 + 3 × .1512 + .7901 + .3735 = 22.889; / 9 -> 1.5947
    assert q[1].group_sd == round((sum((g - 48.5 / 9) ** 2 for g in GROUP) / 9) ** 0.5, 4) == 1.5947


def test_agreement_with_the_lead() -> None:
    q = rows()
    # m1: T2 2 vs arbitration 4 (-2, inclusive), T4 4.5 vs check mark 6 (-1.5): both within 2
    assert (q[1].lead_compared, q[1].lead_agreement, q[1].lead_mean_diff) == (2, 1.0, -1.75)
    assert (q[2].lead_compared, q[2].lead_agreement, q[2].lead_mean_diff) == (1, 0.0, 4.0)  # 8 vs 4
    assert (q[3].lead_compared, q[3].lead_agreement, q[3].lead_mean_diff) == (1, 1.0, 1.0)  # 5 vs 4
    assert (q[LEAD].lead_compared, q[LEAD].lead_agreement) == (0, None), "never compared with itself"


def test_self_consistency_from_re_sent_scripts() -> None:
    q = rows()
    assert (q[1].remarks, q[1].self_mean_abs_diff, q[1].self_within) == (2, 2.0, 0.5)  # gaps 1 and 3
    assert (q[2].remarks, q[2].self_mean_abs_diff, q[2].self_within) == (0, None, None)


def test_safe_middle_share() -> None:
    q = rows()
    assert q[1].safe_middle == 0.6667  # 6 and 4.5 are within 5 ± 1; 2 is not
    assert q[2].safe_middle == 0.3333 and q[3].safe_middle == 1.0
    assert [safe_middle(s, 10) for s in (3.9, 4, 6, 6.1)] == [False, True, True, False]
    assert safe_middle(1.2, 3) and not safe_middle(1.1, 3)  # 1.5 ± 0.3


def test_third_marks_and_arbitration_caused() -> None:
    q = rows()
    assert (q[1].third_pairs, q[1].third_rate) == (3, 0.3333)  # T1, T2 (2 vs 8), T4
    assert (q[2].third_pairs, q[2].third_rate) == (3, 0.3333)  # T1, T2, T3
    assert (q[3].third_pairs, q[3].third_rate) == (1, 0.0)  # T3 only: its third mark on T2 is no pair
    for m in (1, 2, 3):
        assert (q[m].arbitration_triples, q[m].arbitration_rate) == (1, 1.0)
    assert (q[LEAD].marks, q[LEAD].third_pairs, q[LEAD].arbitration_triples) == (1, 1, 0)


def test_a_listed_marker_with_nothing_gets_none_not_zero() -> None:
    empty = rows()[7]
    assert empty.marks == 0 and empty.mean is None and empty.safe_middle is None
    assert empty.lead_agreement is None and empty.third_rate is None and empty.scripts_per_hour is None


@pytest.mark.parametrize(("mode", "third_rate"), [(MarkingMode.TRIPLE, None), (MarkingMode.SINGLE, None),
                                                  (MarkingMode.DOUBLE, 1.0)])
def test_third_rate_only_in_double_mode(mode: MarkingMode, third_rate: float | None) -> None:
    rules = UnitRules(mode, points=10, tolerance=1)
    marks = [QMark(1, 1, F, 2), QMark(1, 2, S, 8), QMark(1, 3, T, 7)]  # 7 is within 1 of 8: resolved
    q = {r.marker_id: r for r in unit_quality(rules, marks)}
    assert q[1].third_rate == third_rate
    assert q[1].arbitration_rate == 0.0


def test_tolerance_is_inclusive_after_rounding() -> None:
    assert within(0.1 + 0.2, 0.6, 0.3) and not within(0.3, 0.6001, 0.3)
    rules = UnitRules(MarkingMode.DOUBLE, points=1, tolerance=0.3, step=0.1)
    q = {r.marker_id: r for r in unit_quality(rules, [QMark(1, 1, F, 0.1 + 0.2), QMark(1, 2, S, 0.6)])}
    assert q[1].third_rate == 0.0


def test_all_zero_seconds_have_no_rate() -> None:
    q = unit_quality(DOUBLE, [QMark(1, 1, F, 3, 0), QMark(2, 1, F, 4, 0)])[0]
    assert (q.median_seconds, q.scripts_per_hour) == (0, None)


def _marks(*given: tuple[int, Round, float]) -> list[Mark]:
    return [Mark(marker, rnd, score) for marker, rnd, score in given]


@pytest.mark.parametrize(("given", "sent_back", "voided", "status", "final"), [
    # single: the only mark goes, the task waits for a first mark again
    ([(1, F, 4)], 1, (0,), TaskStatus.WAITING_FIRST, None),
    # double, agreed 7/8: either marker sent back leaves the other's mark waiting for a second
    ([(1, F, 7), (2, S, 8)], 1, (0,), TaskStatus.WAITING_SECOND, None),
    ([(1, F, 7), (2, S, 8)], 2, (1,), TaskStatus.WAITING_SECOND, None),
    # 7 vs 1, third 2 resolved with 1: sending back the outlier 7 leaves 1 and 2 agreeing -> 1.5 at once
    ([(1, F, 7), (2, S, 1), (3, T, 2)], 1, (0,), TaskStatus.DONE, 1.5),
    # 2 vs 9, third 5 (3 and 4 away), arbitrated 5.5: m1 and the arbitration go; 9 and 5 disagree -> third
    ([(1, F, 2), (2, S, 9), (3, T, 5), (9, A, 5.5)], 1, (0, 3), TaskStatus.WAITING_THIRD, None),
    # the third marker sent back: 2 and 9 wait for a third mark again
    ([(1, F, 2), (2, S, 9), (3, T, 5), (9, A, 5.5)], 3, (2, 3), TaskStatus.WAITING_THIRD, None),
])
def test_send_back_voids_and_replays(given: list[tuple[int, Round, float]], sent_back: int,
                                     voided: tuple[int, ...], status: TaskStatus, final: float | None) -> None:
    rules = UnitRules(MarkingMode.SINGLE, points=10, tolerance=2, step=0.5) if len(given) == 1 else DOUBLE
    got_voided, state = send_back(rules, _marks(*given), sent_back)
    assert (got_voided, state.status, state.final) == (voided, status, final)
    assert sent_back not in state.markers


def test_send_back_of_a_marker_without_a_mark_is_illegal() -> None:
    with pytest.raises(IllegalMove, match="no mark"):
        send_back(DOUBLE, _marks((1, F, 7), (9, A, 5)), 9)
