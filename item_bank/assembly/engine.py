"""assemble(): blueprint + pool -> one verified paper.

Default solver: HiGHS. Measured (bench/assembly.py blueprint: 50 items, 46 constraints,
100,000-item bank, 2 cores, restricted candidate set of ~4,000 columns, times per paper):
bank seed 20240601: HiGHS 3.6-4.2 s, CP-SAT (2 workers) 1.7-2.0 s; bank seed 7: HiGHS 1.0 s,
CP-SAT 4.3-5.3 s. Both reached the tolerance (gap 0) and checker-clean papers every time; mean
HiGHS 2.4 s vs CP-SAT 3.4 s, and HiGHS needs no integer scaling of coefficients, so it is the
default. CP-SAT is one switch away (solver="cpsat"); running both as a portfolio on the two
cores is the obvious next step given how instance-dependent the winner is.

Flow: validate -> counting pre-checks (fast, exact explanations) -> build the MIP -> solve over
a spread subset of the pool, fall back to the full pool if that misses the gap -> if infeasible,
diagnose -> build the Result -> re-verify it with the independent checker (never trust "optimal").
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Literal

import numpy as np

from item_bank.assembly.check import check
from item_bank.assembly.diagnose import explain, precheck
from item_bank.assembly.errors import Infeasible, SolverFailed
from item_bank.assembly.formulate import Formulation, build
from item_bank.assembly.index import pool_index
from item_bank.assembly.model import Blueprint, KnowledgeTree, Pool, Result, relative_gap
from item_bank.assembly.reduce import restrict, spread_subset
from item_bank.assembly.result import to_result
from item_bank.assembly.solution import RawSolution
from item_bank.assembly.solve_cpsat import solve_cpsat
from item_bank.assembly.solve_highs import solve_highs
from item_bank.assembly.validate import validate

SolverName = Literal["highs", "cpsat"]
DEFAULT_SOLVER: SolverName = "highs"
REDUCE_ABOVE = 4000  # columns; below this the full model is small enough to solve directly


def run_solver(f: Formulation, solver: SolverName, time_limit: float, rel_gap: float) -> RawSolution:
    if solver == "cpsat":
        return solve_cpsat(f, time_limit, rel_gap)
    return solve_highs(f, time_limit, rel_gap)


def _global_bound(f: Formulation, objective: float, time_limit: float) -> float:
    """A bound valid for the full pool: the tolerance if reached, else the full LP relaxation."""
    if objective <= f.y_lo + 1e-9:
        return f.y_lo
    lp = solve_highs(f, max(0.5, time_limit), relax=True)
    return lp.objective if lp.status == "optimal" else f.y_lo


def solve_model(
    f: Formulation, solver: SolverName, time_limit: float, rel_gap: float, reduce: bool = True
) -> RawSolution:
    """Best paper over f's columns, with a bound valid for all of f (not just the subset tried)."""
    t0 = time.perf_counter()
    best: RawSolution | None = None
    if reduce and f.n_cols > REDUCE_ABOVE:
        keep = spread_subset(f)
        raw = run_solver(restrict(f, keep), solver, 0.4 * time_limit, rel_gap)
        if raw.x is not None:
            x = np.zeros(f.n_cols, dtype=np.int64)
            x[keep] = raw.x
            left = time_limit - (time.perf_counter() - t0)
            bound = _global_bound(f, raw.objective, left)
            best = replace(raw, x=x, bound=bound)
            if relative_gap(raw.objective, bound) <= rel_gap:
                return _finish(best, rel_gap, t0)
    left = time_limit - (time.perf_counter() - t0)
    if left <= 0.05 and best is not None:
        return _finish(best, rel_gap, t0, timed_out=True)
    full = run_solver(f, solver, max(0.1, left), rel_gap)
    if best is None or (full.x is not None and full.objective < best.objective):
        if full.x is None and best is None:
            return replace(full, seconds=time.perf_counter() - t0)
        best = full if full.x is not None else best
    assert best is not None
    bound = max(best.bound, full.bound) if full.status != "infeasible" else best.bound
    return _finish(replace(best, bound=min(bound, best.objective)), rel_gap, t0, full.status == "time_limit")


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


