"""Parallel forms (A/B卷 and more) by sequential shadow-test assembly, then swap improvement.

Joint models of F forms grow as F x pool and were measured to hit 60 s limits at 8 forms
(RESEARCH.md). Instead form k is solved together with a *shadow* z standing for all R = F-k-1
forms still to come (every count and target scaled by R, x + z <= remaining uses per item), so
early forms cannot eat the items later forms need; only form k's x is kept. x ranges over a
2,000-column spread subset of the items still free (the single-paper size that HiGHS solves in
well under a second) and z over a larger spread subset, relaxed to continuous values (HiGHS; CP-SAT
keeps it integer): an LP shadow still reserves what later forms need but costs little branching.
The formulation is built once; each form only restricts it. One LP relaxation over the whole
pool bounds every form (each form's pool is a subset of it), computed only if some form misses
the tolerance, and handed to the solver as a floor on the objective so it stops as soon as the
form is within the gap. Afterwards a form above the gap target is re-solved against the pool
minus the other forms. Fixed items are anchors: on every form and not counted as overlap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from item_bank.assembly.diagnose import precheck
from item_bank.assembly.engine import (
    DEFAULT_SOLVER,
    REDUCE_ABOVE,
    SUBSET_COLS,
    lp_bound,
    run_solver,
    solve_model,
    verified,
)
from item_bank.assembly.errors import Infeasible, SolverFailed
from item_bank.assembly.formulate import Formulation, Row, build
from item_bank.assembly.index import BoolArr, IntArr, pool_index
from item_bank.assembly.model import Blueprint, KnowledgeTree, Pool, Result, relative_gap
from item_bank.assembly.race import SolverName
from item_bank.assembly.reduce import restrict, spread_subset
from item_bank.assembly.result import to_result
from item_bank.assembly.solution import RawSolution, deviation
from item_bank.assembly.solve_highs import solve_highs
from item_bank.assembly.validate import validate

SHADOW_SLACK = 4


@dataclass(frozen=True)
class ParallelResult:
    forms: tuple[Result, ...]
    seconds: float
    max_overlap: int
    max_gap: float


class SharedBound:
    """The full-pool LP bound, computed at most once and valid for every form."""

    def __init__(self, f: Formulation) -> None:
        self.f = f
        self.value: float | None = None if f.dev else 0.0

    def __call__(self, time_limit: float) -> float:
        if self.value is None:
            self.value = lp_bound(self.f, time_limit)  # stays None (retried later) if the LP timed out
        return self.f.y_lo if self.value is None else self.value

    def floor(self) -> float:
        return 0.0 if self.value is None else self.value * (1 - 1e-7)


def _shadow(fx: Formulation, fz: Formulation, copies: int, uses_left: IntArr, fixed: BoolArr,
            relax: bool) -> Formulation:
    """Columns [0, nx) are this form (fx's columns), [nx, nx + nz) the shadow of `copies` forms."""
    n = fx.n_cols
    rows: list[Row] = list(fx.rows)
    for r in fz.rows:
        if r.scale == "count":
            rows.append(Row(r.group, r.idx + n, r.val, r.lo * copies, r.hi * copies, "count"))
        elif r.scale == "enemy":
            rows.append(Row(r.group, r.idx + n, r.val, r.lo, r.hi * copies, "enemy"))
        elif r.lo >= 1:  # fixed item: on every shadow form too
            rows.append(Row(r.group, r.idx + n, r.val, r.lo * copies, r.hi * copies, "item"))
    pos = np.concatenate([fx.col_pos, fz.col_pos])
    order = np.argsort(pos, kind="stable")
    uniq, start, count = np.unique(pos[order], return_index=True, return_counts=True)
    g_once = next((k for k, g in enumerate(fx.groups) if g.key == "items.once"), 0)
    for w in np.flatnonzero((count >= 2) & ~fixed[uniq]).tolist():
        cols = order[start[w] : start[w] + count[w]]
        rows.append(Row(g_once, cols, np.ones(len(cols)), -np.inf, float(uses_left[uniq[w]]), "item"))
    z_ub = np.where(fixed[fz.col_pos], copies, np.minimum(copies, uses_left[fz.col_pos])).astype(np.float64)
    # the shadow only has to stay near its targets (SHADOW_SLACK x looser), so the MIP does not spend
    # its time polishing forms that will be re-solved anyway
    dev = list(fx.dev) + [replace(d, idx=d.idx + n, target=d.target * copies, weight=d.weight * copies * SHADOW_SLACK)
                          for d in fz.dev]
    return replace(
        fx, col_pos=pos, col_sec=np.concatenate([fx.col_sec, fz.col_sec]),
        col_points=np.concatenate([fx.col_points, fz.col_points]), col_ub=np.concatenate([fx.col_ub, z_ub]),
        rows=rows, dev=dev, n_x=n, relax_tail=relax,
    )


def _scaled(fz: Formulation, copies: int, uses_left: IntArr, fixed: BoolArr) -> Formulation:
    """fz's columns standing for `copies` forms at once (the shadow alone)."""
    rows: list[Row] = []
    for r in fz.rows:
        if r.scale == "count" or r.lo >= 1:  # aggregate counts and fixed items scale with the forms
            rows.append(replace(r, lo=r.lo * copies, hi=r.hi * copies))
        elif r.scale == "enemy":
            rows.append(replace(r, hi=r.hi * copies))
        elif len(r.idx):  # one item in several sections: its uses left
            rows.append(replace(r, hi=float(uses_left[fz.col_pos[r.idx[0]]])))
    z_ub = np.where(fixed[fz.col_pos], copies, np.minimum(copies, uses_left[fz.col_pos])).astype(np.float64)
    dev = [replace(d, target=d.target * copies, weight=d.weight * copies) for d in fz.dev]
    return replace(fz, rows=rows, dev=dev, col_ub=z_ub)


def _z_keep(g: Formulation, copies: int, seed: int) -> BoolArr:
    wide = min(copies + 1, 3)
    if g.n_cols <= REDUCE_ABOVE * wide:
        return np.ones(g.n_cols, dtype=bool)
    return spread_subset(g, cap=12 * wide, max_cols=SUBSET_COLS[0] * wide, seed=seed + 1000)


def _shadow_ok(g: Formulation, x: IntArr, copies: int, uses_left: IntArr, fixed: BoolArr, obj: float,
               seed: int, time_limit: float) -> bool:
    """Lazy shadow test: can the items this form leaves still carry `copies` more forms (LP relaxation
    over a spread subset) within SHADOW_SLACK x this form's deviation? Cheap (one small LP)."""
    left = uses_left.copy()
    left[g.col_pos[x[: g.n_x] > 0]] -= 1
    h = restrict(g, fixed[g.col_pos] | (left[g.col_pos] > 0))
    z = _scaled(restrict(h, _z_keep(h, copies, seed)), copies, left, fixed)
    lp = solve_highs(z, max(0.2, time_limit), relax=True)
    return lp.status == "optimal" and lp.objective <= SHADOW_SLACK * max(obj, g.y_lo) + 1e-9


def _coupled(g: Formulation, copies: int, uses_left: IntArr, fixed: BoolArr, solver: SolverName,
             budget: float, rel_gap: float, bound: SharedBound, seed: int) -> RawSolution | None:
    """The full shadow test: this form's x and the shadow z in one MIP over spread subsets."""
    keep_x = spread_subset(g, max_cols=SUBSET_COLS[0], seed=seed) if g.n_cols > REDUCE_ABOVE else (
        np.ones(g.n_cols, dtype=bool))
    model = _shadow(restrict(g, keep_x), restrict(g, _z_keep(g, copies, seed)), copies, uses_left, fixed,
                    solver != "cpsat")
    model.y_floor = bound.floor()
    raw = run_solver(model, solver, budget, rel_gap)
    if raw.x is None:
        return None
    x = np.zeros(g.n_cols, dtype=np.int64)
    x[keep_x] = raw.x[: model.n_x]
    obj = deviation(g, x.astype(np.float64))
    b = min(g.y_lo if obj <= g.y_lo + 1e-9 else bound(0.3 * budget), obj)
    ok = relative_gap(obj, b) <= rel_gap
    return replace(raw, x=x, objective=obj, bound=b,
                   status="optimal" if ok else "time_limit" if raw.status == "time_limit" else "feasible")


def _form_step(f: Formulation, avail: BoolArr, copies: int, uses_left: IntArr, fixed: BoolArr,
               solver: SolverName, budget: float, rel_gap: float, bound: SharedBound, seed: int,
               ) -> tuple[RawSolution, Formulation]:
    """One form: the single-form solve, kept if the lazy shadow test passes; else the coupled
    shadow MIP (falling back to the single-form paper if that finds nothing)."""
    t0 = time.perf_counter()
    g = restrict(f, avail)
    raw = solve_model(g, solver, (0.8 if copies else 1.0) * budget, rel_gap, bound=bound, seed=seed)
    if copies == 0 or raw.x is None or _shadow_ok(g, raw.x, copies, uses_left, fixed, raw.objective, seed,
                                                   0.1 * budget):
        return raw, g
    left = budget - (time.perf_counter() - t0)
    coupled = _coupled(g, copies, uses_left, fixed, solver, max(1.0, left), rel_gap, bound, seed)
    return (coupled if coupled is not None else raw), g


def assemble_parallel(
    bp: Blueprint, pool: Pool, tree: KnowledgeTree, forms: int, *, solver: SolverName = DEFAULT_SOLVER,
    time_limit: float = 60.0, rel_gap: float = 0.01, max_uses: int = 1,
) -> ParallelResult:
    """`forms` papers, each item (except fixed anchors) used on at most `max_uses` forms."""
    t0 = time.perf_counter()
    validate(bp, tree)
    ix = pool_index(pool, tree)
    problems = precheck(bp, ix)
    if problems:
        raise Infeasible(problems)
    f = build(bp, ix)
    bound = SharedBound(f)
    fixed = np.zeros(len(ix.ids), dtype=bool)
    fixed[[ix.pos_of_id[i] for i in bp.fixed_items if i in ix.pos_of_id]] = True
    uses = np.zeros(len(ix.ids), dtype=np.int64)
    chosen: list[tuple[Formulation, RawSolution]] = []
    for k in range(forms):
        budget = (time_limit - (time.perf_counter() - t0)) / (forms - k) * 0.8
        avail = fixed[f.col_pos] | (uses[f.col_pos] < max_uses)
        raw, g = _form_step(f, avail, forms - k - 1, max_uses - uses, fixed, solver, budget, rel_gap, bound, k)
        if raw.x is None:  # shadow and plain step both failed in their share: try once more, no shadow
            left = time_limit - (time.perf_counter() - t0)
            raw, g = _form_step(f, avail, 0, max_uses - uses, fixed, solver, max(1.0, left / 2), rel_gap, bound, k)
        if raw.x is None:
            raise SolverFailed(f"form {k + 1} of {forms}: no paper ({raw.status}); the bank may be too small")
        uses[g.col_pos[raw.x[: g.n_x] > 0]] += 1
        chosen.append((g, raw))
    chosen = _improve(f, chosen, uses, fixed, max_uses, solver, t0 + time_limit, rel_gap, bound)
    results = tuple(verified(bp, pool, tree, to_result(g, raw.x, raw, raw.seconds))  # type: ignore[arg-type]
                    for g, raw in chosen)
    from item_bank.assembly.check import overlap

    return ParallelResult(results, time.perf_counter() - t0, overlap(results, bp.fixed_items),
                          max((r.gap for r in results), default=0.0))


Chosen = list[tuple[Formulation, RawSolution]]


def _improve(f: Formulation, chosen: Chosen, uses: IntArr, fixed: BoolArr, max_uses: int,
             solver: SolverName, deadline: float, rel_gap: float, bound: SharedBound) -> Chosen:
    """Re-solve each form above the gap target against the items the other forms left free."""
    out = list(chosen)
    for k, (g, raw) in enumerate(out):
        left, x = deadline - time.perf_counter(), raw.x
        if x is None:
            continue
        if bound.value is not None:  # the shared bound may have risen since this form was solved
            b = min(max(raw.bound, bound.value), raw.objective)
            raw = replace(raw, bound=b, status="optimal" if relative_gap(raw.objective, b) <= rel_gap else raw.status)
            out[k] = (g, raw)
        if relative_gap(raw.objective, raw.bound) <= rel_gap or left < 1.0:
            continue
        mine = g.col_pos[x[: g.n_x] > 0]
        uses[mine] -= 1
        gg = restrict(f, fixed[f.col_pos] | (uses[f.col_pos] < max_uses))
        better = solve_model(gg, solver, min(left, 10.0), rel_gap, bound=bound, seed=100 + k)
        if better.x is not None and better.objective < raw.objective - 1e-9:
            out[k] = (gg, better)
            mine = gg.col_pos[better.x[: gg.n_x] > 0]
        uses[mine] += 1
    return out
