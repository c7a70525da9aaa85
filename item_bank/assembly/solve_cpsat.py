"""OR-Tools CP-SAT backend. CP-SAT takes integer coefficients only, so each row is scaled by a power
of ten; when rounding is inexact the row's bounds are tightened by the worst rounding error the
paper's items could add up to, so every integer-feasible paper is also feasible in real numbers.
The deviation variable gets the tolerance as lower bound (TestDesign's obj_tol), else CP-SAT
spends its whole time limit trying to prove a zero bound.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
from ortools.sat.python import cp_model

from item_bank.assembly.formulate import Formulation
from item_bank.assembly.index import FloatArr
from item_bank.assembly.solution import RawSolution, RawStatus, deviation, lin_rows

_Y_SCALE = 10_000  # deviation in 1/10000 units of information (or of mean p)
_BIG = 10**12


def _row_scale(val: FloatArr) -> int:
    for s in (1, 10, 100, 1000, 10_000):
        if np.all(np.abs(val * s - np.rint(val * s)) < 1e-9):
            return s
    top = float(np.max(np.abs(val))) if len(val) else 1.0
    return int(10 ** max(0, math.floor(math.log10(1e6 / max(top, 1e-12)))))


def _int_bounds(val: FloatArr, scale: int, lo: float, hi: float, max_items: float) -> tuple[int, int, np.ndarray]:
    coef = np.rint(val * scale)
    err = float(np.max(np.abs(val * scale - coef))) * max_items if len(val) else 0.0
    err = err + 1e-6 if err > 1e-9 else 0.0
    ilo = -_BIG if lo == -math.inf else math.ceil(lo * scale + err - 1e-7)
    ihi = _BIG if hi == math.inf else math.floor(hi * scale - err + 1e-7)
    return ilo, ihi, coef.astype(np.int64)


Built = tuple[cp_model.CpModel, list[cp_model.IntVar], cp_model.IntVar | None]


def _build(f: Formulation, active: set[int] | None) -> Built:
    m = cp_model.CpModel()
    xs = [m.new_int_var(0, int(u), "") for u in f.col_ub.tolist()]
    y = None
    if f.dev:
        ylo = math.ceil(max(f.y_lo, f.y_floor) * _Y_SCALE - 1e-9)
        yhi = _BIG if f.y_hi == math.inf else math.floor(f.y_hi * _Y_SCALE)
        y = m.new_int_var(ylo, yhi, "y")
        m.minimize(y)
    max_items = float(f.blueprint.n_items()) * max(1.0, float(np.max(f.col_ub, initial=1.0)))
    for r in lin_rows(f, active):
        scale = _Y_SCALE if r.y_coef else _row_scale(r.val)
        ilo, ihi, coef = _int_bounds(r.val, scale, r.lo, r.hi, max_items)
        terms = [xs[i] for i in r.idx.tolist()]
        expr = cp_model.LinearExpr.weighted_sum(terms, coef.tolist())
        if r.y_coef and y is not None:  # y is already in _Y_SCALE units; weight scales it
            expr = expr + int(round(r.y_coef)) * y if float(r.y_coef).is_integer() else expr
        m.add_linear_constraint(expr, ilo, ihi)
    return m, xs, y


def solve_cpsat(
    f: Formulation, time_limit: float = 10.0, rel_gap: float = 1e-4, active: set[int] | None = None,
    workers: int = 2, seed: int = 0, stop: threading.Event | None = None,
) -> RawSolution:
    """``stop`` (set by a portfolio race) ends the search early from another thread."""
    t0 = time.perf_counter()
    if any(not float(d.weight).is_integer() for d in f.dev):
        raise ValueError("CP-SAT backend needs integer deviation weights")
    m, xs, y = _build(f, active)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = workers
    solver.parameters.relative_gap_limit = rel_gap
    solver.parameters.random_seed = seed
    done = threading.Event()
    if stop is not None:
        def watch() -> None:
            while not done.wait(0.02):
                if stop.is_set():
                    solver.stop_search()
                    return

        threading.Thread(target=watch, daemon=True).start()
    try:
        code = solver.solve(m)
    finally:
        done.set()
    secs = time.perf_counter() - t0
    if code == cp_model.INFEASIBLE:
        return RawSolution(None, math.inf, math.inf, "infeasible", "cpsat", secs)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return RawSolution(None, math.inf, -math.inf, "no_solution", "cpsat", secs)
    x = np.asarray([solver.value(v) for v in xs], dtype=np.int64)
    obj = deviation(f, x.astype(np.float64))
    bound = solver.best_objective_bound / _Y_SCALE if y is not None else 0.0
    state: RawStatus = "optimal" if code == cp_model.OPTIMAL else "time_limit"
    return RawSolution(x, obj, min(bound, obj), state, "cpsat", secs)
