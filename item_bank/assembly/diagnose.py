"""Why a blueprint cannot be met, computed rather than guessed.

1. precheck(): counting arguments per requirement on the filtered bank (milliseconds), each with
   the numbers a teacher needs ("only 3 reviewed fill_blank items on 二次函数; you asked for 5").
2. explain(): when each requirement is satisfiable alone but not together, a deletion filter over
   requirement groups finds a minimal conflicting set: drop a group (or a block of groups, halving
   the block size), keep it dropped if the rest is still infeasible. Every test is an exact MIP
   feasibility solve with only the remaining groups' rows, so the models shrink as it proceeds.
"""

from __future__ import annotations

import time
from dataclasses import replace

import highspy
import numpy as np

from item_bank.assembly.errors import Explanation
from item_bank.assembly.formulate import Formulation, eligible
from item_bank.assembly.index import BoolArr, IntArr, PoolIndex
from item_bank.assembly.model import Blueprint
from item_bank.assembly.precheck import precheck_items, precheck_sums
from item_bank.assembly.solve_highs import _lp, solve_highs


def precheck(bp: Blueprint, ix: PoolIndex, exclude: IntArr | None = None) -> list[Explanation]:
    ok = eligible(bp, ix, exclude)
    return precheck_items(bp, ix, ok, exclude) + precheck_sums(bp, ix, ok)


def _feasible(f: Formulation, active: set[int], deadline: float) -> bool | None:
    """True/False, or None when the solver could not decide in time."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    raw = solve_highs(f, left, 1.0, active=active)
    if raw.status == "infeasible":
        return False
    return True if raw.x is not None else None


def _deletion_filter(f: Formulation, groups: list[int], deadline: float) -> list[int]:
    conflict = list(groups)
    block = max(1, len(conflict) // 2)
    while True:
        i = 0
        while i < len(conflict):
            trial = conflict[:i] + conflict[i + block :]
            if trial and _feasible(f, set(trial), deadline) is False:
                conflict = trial
            else:
                i += block
        if block == 1:
            return conflict
        block = max(1, block // 2)


def _available(f: Formulation, g: int) -> int | None:
    rows = [r for r in f.rows if r.group == g and r.scale == "count"]
    if not rows:
        return None
    cols = np.concatenate([r.idx[r.val > 0] for r in rows])
    return len(np.unique(f.col_pos[cols]))


def elastic_support(f: Formulation) -> list[int] | None:
    """Groups whose rows carry a dual value in the elastic LP (every row may be violated at a
    cost): the LP's own certificate of which requirements fight. None if the LP is feasible."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    # threads=1 like every other solve here: HiGHS's scheduler is global and fixed by the first run,
    # so a default (all-core) run here made every later threads=1 solve fail with kNotset
    h.setOptionValue("threads", 1)
    h.passModel(_lp(f, None))
    lo, hi = np.asarray(h.getLp().row_lower_), np.asarray(h.getLp().row_upper_)
    rows = np.concatenate([np.flatnonzero(lo > -highspy.kHighsInf), np.flatnonzero(hi < highspy.kHighsInf)])
    n_lo = int((lo > -highspy.kHighsInf).sum())
    signs = np.concatenate([np.ones(n_lo), -np.ones(len(rows) - n_lo)])
    n = len(rows)
    h.addCols(n, np.ones(n), np.zeros(n), np.full(n, highspy.kHighsInf), n,
              np.arange(n, dtype=np.int32), rows.astype(np.int32), signs)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or h.getInfo().objective_function_value < 1e-7:
        return None
    duals = np.abs(np.asarray(h.getSolution().row_dual))
    return sorted({f.rows[i].group for i in np.flatnonzero(duals > 1e-9).tolist()})


def explain(f: Formulation, time_limit: float = 10.0) -> list[Explanation]:
    deadline = time.perf_counter() + time_limit
    plain = replace(f, dev=[], kind="none")  # feasibility only: the objective cannot conflict
    support = elastic_support(plain)
    groups = support if support else list(range(len(f.groups)))
    conflict = _deletion_filter(plain, groups, deadline)
    return [_conflict_explanation(f, conflict, time.perf_counter() < deadline)]


def _conflict_explanation(f: Formulation, conflict: list[int], minimal: bool) -> Explanation:
    en_parts, zh_parts = [], []
    for g in conflict:
        grp = f.groups[g]
        avail = _available(f, g)
        en_extra = f" ({avail} suitable items in the bank)" if avail is not None else ""
        zh_extra = f"（题库中符合条件的题目 {avail} 道）" if avail is not None else ""
        en_parts.append(f"{grp.en}{en_extra}")
        zh_parts.append(f"{grp.zh}{zh_extra}")
    tail_en = " Dropping or loosening any one of them makes a paper possible." if minimal else ""
    tail_zh = "放宽其中任何一条即可组卷。" if minimal else ""
    return Explanation(
        constraint=",".join(f.groups[g].key for g in conflict),
        en="These requirements cannot all be met together: " + "; ".join(en_parts) + "." + tail_en,
        zh="以下要求无法同时满足：" + "；".join(zh_parts) + "。" + tail_zh,
    )


__all__ = ["BoolArr", "explain", "precheck"]
