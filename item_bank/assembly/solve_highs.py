"""HiGHS (highspy) backend: the formulation as one rowwise sparse MIP, passed in bulk (passModel).

``stop`` (a threading.Event) lets a portfolio race cancel a running solve: HiGHS polls an
interrupt callback, and run() releases the GIL, so two solves use both cores.
"""

from __future__ import annotations

import math
import threading
import time

import highspy
import numpy as np

from item_bank.assembly.formulate import Formulation
from item_bank.assembly.solution import RawSolution, RawStatus, deviation, lin_rows, round_x

_MS = highspy.HighsModelStatus


def _lp(f: Formulation, active: set[int] | None) -> highspy.HighsLp:
    has_y = bool(f.dev)
    n = f.n_cols + (1 if has_y else 0)
    rows = list(lin_rows(f, active))
    lens = np.fromiter((len(r.idx) + (1 if r.y_coef else 0) for r in rows), dtype=np.int64, count=len(rows))
    idx: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for r in rows:
        idx.append(r.idx)
        val.append(r.val)
        if r.y_coef:
            idx.append(np.asarray([f.n_cols]))
            val.append(np.asarray([r.y_coef]))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rows)
    cost = np.zeros(n)
    assert len(f.col_ub) == f.n_cols
    col_lo, col_hi = np.zeros(f.n_cols), np.asarray(f.col_ub, dtype=np.float64)
    if has_y:
        cost[-1] = 1.0
        col_lo = np.append(col_lo, max(f.y_lo, f.y_floor))
        col_hi = np.append(col_hi, min(f.y_hi, 1e30))
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lo, col_hi
    inf = highspy.kHighsInf
    lp.row_lower_ = np.maximum(np.fromiter((r.lo for r in rows), dtype=np.float64, count=len(rows)), -inf)
    lp.row_upper_ = np.minimum(np.fromiter((r.hi for r in rows), dtype=np.float64, count=len(rows)), inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(idx).astype(np.int32) if idx else np.zeros(0, np.int32)
    lp.a_matrix_.value_ = np.concatenate(val).astype(np.float64) if val else np.zeros(0)
    return lp


def solve_highs(
    f: Formulation,
    time_limit: float = 10.0,
    rel_gap: float = 1e-4,
    active: set[int] | None = None,
    relax: bool = False,
    *,
    seed: int = 0,
    presolve: bool = True,
    stop: threading.Event | None = None,
) -> RawSolution:
    """Solve; ``active`` limits the rows to some groups (diagnosis), ``relax`` solves the LP only."""
    t0 = time.perf_counter()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-7)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", int(seed))
    if not presolve:
        h.setOptionValue("presolve", "off")
    if stop is not None:
        def interrupt(e: highspy.HighsCallbackEvent) -> None:
            if stop.is_set():
                e.interrupt()

        h.cbMipInterrupt += interrupt
        h.cbSimplexInterrupt += interrupt
    lp = _lp(f, active)
    if not relax:
        n_int = f.n_x if f.relax_tail else f.n_cols
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_int + [highspy.HighsVarType.kContinuous] * (
            lp.num_col_ - n_int
        )
    h.passModel(lp)
    h.run()
    return _result(h, f, relax, time.perf_counter() - t0)


def _result(h: highspy.Highs, f: Formulation, relax: bool, seconds: float) -> RawSolution:
    status = h.getModelStatus()
    info = h.getInfo()
    if status in (_MS.kInfeasible, _MS.kUnboundedOrInfeasible):
        return RawSolution(None, math.inf, math.inf, "infeasible", "highs", seconds)
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has:
        return RawSolution(None, math.inf, -math.inf, "no_solution", "highs", seconds)
    values = np.asarray(h.getSolution().col_value)[: f.n_cols]
    if relax:
        obj = float(info.objective_function_value) if f.dev else 0.0
        if status != _MS.kOptimal:  # an interrupted LP proves nothing
            return RawSolution(None, math.inf, -math.inf, "no_solution", "highs-lp", seconds)
        return RawSolution(None, obj, obj, "optimal", "highs-lp", seconds)
    x = round_x(values, f.col_ub)
    bound = float(info.mip_dual_bound) if f.dev else 0.0
    obj = deviation(f, x.astype(np.float64))
    state: RawStatus = (
        "optimal" if status == _MS.kOptimal else "time_limit" if status == _MS.kTimeLimit else "feasible"
    )
    return RawSolution(x, obj, min(bound, obj), state, "highs", seconds)
