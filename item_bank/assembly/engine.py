"""assemble(): blueprint + pool -> one verified paper.

Solvers (race.py): "highs" (default) races two HiGHS runs with different seeds on the two cores,
"cpsat" is CP-SAT with two workers, "portfolio" races HiGHS against a one-worker CP-SAT. Measured
on bench/assembly.py (50 items, 46 constraints, 100,000-item bank, 2 cores): HiGHS's time on the
restricted model depends mostly on its random seed (0.5-4.8 s over seeds 0-3 at 4,000 columns),
so racing two seeds beats racing HiGHS against CP-SAT (one-worker CP-SAT was the slower of the two
on all three banks tried). Restricted models of 2,000 columns took 0.2-0.7 s per HiGHS run and
still reached the tolerance; 4,000 took 0.5-4.8 s, 8,000 1.5-4.6 s. One paper: 0.6-1.0 s in all.

Flow: validate -> counting pre-checks (fast, exact explanations) -> build the MIP -> solve over
a 2,000-column spread subset, then an 8,000-column one, then the full pool, stopping as soon as
the paper is within the gap of a bound valid for the full pool (the tolerance, or the full LP
relaxation, computed at most once and only when needed; it also floors the objective so later
solves stop early) -> if infeasible (an infeasible subset triggers the full LP relaxation, which
usually proves it in ~2 s where the full MIP took 4-9 s), diagnose -> build the Result ->
re-verify it with the independent checker (never trust "optimal").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import numpy as np

from item_bank.assembly.check import check
from item_bank.assembly.diagnose import explain, precheck
from item_bank.assembly.errors import Infeasible, SolverFailed
from item_bank.assembly.formulate import Formulation, build
from item_bank.assembly.index import pool_index
from item_bank.assembly.model import Blueprint, KnowledgeTree, Pool, Result, relative_gap
from item_bank.assembly.race import SolverName, race
from item_bank.assembly.reduce import restrict, spread_subset
from item_bank.assembly.result import to_result
from item_bank.assembly.solution import RawSolution
from item_bank.assembly.solve_highs import solve_highs
from item_bank.assembly.validate import validate

DEFAULT_SOLVER: SolverName = "highs"
REDUCE_ABOVE = 4000  # columns; below this the full model is small enough to solve directly
SUBSET_COLS = (2000, 8000)  # restricted models tried before the full pool (2,000: 0.3-0.7 s per HiGHS run)
BoundFn = Callable[[float], float]


def run_solver(f: Formulation, solver: SolverName, time_limit: float, rel_gap: float) -> RawSolution:
    """The portfolio race for ``solver`` (see race.py)."""
    return race(f, solver, time_limit, rel_gap)


def lp_bound(f: Formulation, time_limit: float) -> float | None:
    """The LP relaxation over all of f: a bound valid for f and for any subset of its columns
    (None when the LP did not finish in time)."""
    lp = solve_highs(f, max(0.5, time_limit), relax=True)
    return max(lp.objective, f.y_lo) if lp.status == "optimal" else None


def _global_bound(f: Formulation, objective: float, time_limit: float) -> float:
    """A bound valid for the full pool: the tolerance if reached, else the full LP relaxation."""
    if objective <= f.y_lo + 1e-9:
        return f.y_lo
    b = lp_bound(f, time_limit)
    return f.y_lo if b is None else b


def solve_model(
    f: Formulation, solver: SolverName, time_limit: float, rel_gap: float, reduce: bool = True,
    bound: BoundFn | None = None, seed: int = 0,
) -> RawSolution:
    """Best paper over f's columns, with a bound valid for all of f (not just the subsets tried).
    ``bound(time_left)`` supplies that bound (default: f's own LP relaxation, computed at most once)."""
    t0 = time.perf_counter()
    memo: list[float] = []

    def get_bound(left: float) -> float:
        if not memo:
            memo.append(bound(left) if bound is not None else _global_bound(f, np.inf, left))
        return memo[0]

    best: RawSolution | None = None
    stages = [c for c in SUBSET_COLS if reduce and f.n_cols > max(REDUCE_ABOVE, 2 * c)]
    for k, cols in enumerate(stages):
        keep = spread_subset(f, cap=12 * (k + 1), max_cols=cols, seed=seed)
        sub = restrict(f, keep)
        if memo:
            sub.y_floor = memo[0] * (1 - 1e-7)
        raw = run_solver(sub, solver, 0.3 * time_limit, rel_gap)
        if raw.status == "infeasible" and not memo:
            # an infeasible subset proves nothing, but the full LP relaxation may (and is the bound
            # otherwise): measured 1.5-2.3 s on 80k columns, against 4-9 s for the full MIP to say so
            lp = solve_highs(f, max(0.5, 0.5 * (time_limit - (time.perf_counter() - t0))), relax=True)
            if lp.status == "infeasible":
                return replace(lp, solver=raw.solver, seconds=time.perf_counter() - t0)
            if lp.status == "optimal":
                memo.append(max(lp.objective, f.y_lo))
        if raw.x is None:
            continue  # widen
        x = np.zeros(f.n_cols, dtype=np.int64)
        x[keep] = raw.x
        b = f.y_lo if raw.objective <= f.y_lo + 1e-9 else memo[0] if memo else -np.inf
        if best is None or raw.objective < best.objective:
            best = replace(raw, x=x, bound=min(b, raw.objective))
        if relative_gap(best.objective, best.bound) > rel_gap and raw.status == "optimal":
            # the subset is solved: only now is the full-pool bound worth its LP (a subset that timed
            # out goes straight to a wider one)
            b = get_bound(time_limit - (time.perf_counter() - t0))
            best = replace(best, bound=min(max(best.bound, b), best.objective))
        if relative_gap(best.objective, best.bound) <= rel_gap:
            return _finish(best, rel_gap, t0)
    left = time_limit - (time.perf_counter() - t0)
    if best is not None and not memo and left > 1.0:
        best = replace(best, bound=min(max(best.bound, get_bound(0.5 * left)), best.objective))
        if relative_gap(best.objective, best.bound) <= rel_gap:
            return _finish(best, rel_gap, t0)
        left = time_limit - (time.perf_counter() - t0)
    if left <= 0.05 and best is not None:
        return _finish(best, rel_gap, t0, timed_out=True)
    full_f = replace(f, y_floor=memo[0] * (1 - 1e-7)) if memo else f
    full = run_solver(full_f, solver, max(0.1, left), rel_gap)
    if best is None or (full.x is not None and full.objective < best.objective):
        if full.x is None and best is None:
            return replace(full, seconds=time.perf_counter() - t0)
        best = full if full.x is not None else best
    assert best is not None
    bound_v = max(best.bound, full.bound) if full.status != "infeasible" else best.bound
    return _finish(replace(best, bound=min(bound_v, best.objective)), rel_gap, t0, full.status == "time_limit")


def _finish(raw: RawSolution, rel_gap: float, t0: float, timed_out: bool = False) -> RawSolution:
    gap = relative_gap(raw.objective, raw.bound)
    status: Literal["optimal", "feasible", "time_limit"] = (
        "optimal" if gap <= rel_gap else "time_limit" if timed_out else "feasible"
    )
    return replace(raw, status=status, seconds=time.perf_counter() - t0)


def assemble(
    bp: Blueprint,
    pool: Pool,
    tree: KnowledgeTree,
    *,
    solver: SolverName = DEFAULT_SOLVER,
    time_limit: float = 10.0,
    rel_gap: float = 0.005,
    reduce: bool = True,
    exclude_ids: tuple[int, ...] = (),
) -> Result:
    """One paper. Raises BlueprintInvalid, Infeasible (with explanations) or SolverFailed."""
    t0 = time.perf_counter()
    validate(bp, tree)
    ix = pool_index(pool, tree)
    exclude = np.asarray([ix.pos_of_id[i] for i in exclude_ids if i in ix.pos_of_id], dtype=np.int64)
    problems = precheck(bp, ix, exclude)
    if problems:
        raise Infeasible(problems)
    f = build(bp, ix, exclude)
    raw = solve_model(f, solver, time_limit, rel_gap, reduce)
    if raw.status == "infeasible":
        raise Infeasible(explain(f, max(1.0, time_limit - (time.perf_counter() - t0))))
    if raw.x is None:
        raise SolverFailed(f"{raw.solver} found no paper within {time_limit:g} s (status {raw.status})")
    result = to_result(f, raw.x, raw, time.perf_counter() - t0)
    return verified(bp, pool, tree, result)


def verified(bp: Blueprint, pool: Pool, tree: KnowledgeTree, result: Result) -> Result:
    problems = check(bp, pool, tree, result)
    if problems:
        raise SolverFailed(f"{result.solver} returned a paper that fails the checker: {problems[:5]}")
    return result


