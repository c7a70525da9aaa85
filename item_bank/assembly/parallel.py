"""Parallel forms (A/B卷 and more) by sequential big-shadow-test assembly, then swap improvement.

Joint models of F forms grow as F x pool and were measured to hit 60 s limits at 8 forms
(RESEARCH.md). Instead form k is solved together with a *shadow* z standing for all R = F-k-1
forms still to come (every count and target scaled by R, x + z <= remaining uses per item), so
early forms cannot eat the items later forms need; only form k's x is kept. Each step is one
single-form-sized MIP over a spread subset of the pool, so cost grows linearly with F. Afterwards
any form above the gap target is re-solved against the pool minus the other forms (swapping its
items for unused ones). Fixed items are anchors: they appear on every form and are not counted
as overlap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from item_bank.assembly.diagnose import precheck
from item_bank.assembly.engine import DEFAULT_SOLVER, SolverName, _global_bound, run_solver, solve_model, verified
from item_bank.assembly.errors import Infeasible, SolverFailed
from item_bank.assembly.formulate import Formulation, Row, build
from item_bank.assembly.index import BoolArr, IntArr, pool_index
from item_bank.assembly.model import Blueprint, KnowledgeTree, Pool, Result, relative_gap
from item_bank.assembly.reduce import restrict, spread_subset
from item_bank.assembly.result import to_result
from item_bank.assembly.solution import RawSolution, deviation
from item_bank.assembly.validate import validate

SHADOW_SLACK = 4


@dataclass(frozen=True)
class ParallelResult:
    forms: tuple[Result, ...]
    seconds: float
    max_overlap: int
    max_gap: float


def _shadow(f: Formulation, copies: int, uses_left: IntArr, fixed: BoolArr) -> Formulation:
    """Columns [0, n) are this form, [n, 2n) the shadow of `copies` further forms."""
    n = f.n_cols
    rows: list[Row] = []
    for r in f.rows:
        rows.append(r)
        if r.scale == "count":
            rows.append(Row(r.group, r.idx + n, r.val, r.lo * copies, r.hi * copies, "count"))
        elif r.scale == "enemy":
            rows.append(Row(r.group, r.idx + n, r.val, r.lo, r.hi * copies, "enemy"))
        elif r.lo >= 1:  # fixed item: on every shadow form too
            rows.append(Row(r.group, r.idx + n, r.val, r.lo * copies, r.hi * copies, "item"))
    order = np.argsort(f.col_pos, kind="stable")
    uniq, start, count = np.unique(f.col_pos[order], return_index=True, return_counts=True)
    g_once = f.groups.index(next(g for g in f.groups if g.key == "items.once")) if any(
        g.key == "items.once" for g in f.groups) else 0
    for p, st, c in zip(uniq.tolist(), start.tolist(), count.tolist(), strict=True):
        if fixed[p]:
            continue
        cols = order[st : st + c]
        rows.append(Row(g_once, np.concatenate([cols, cols + n]), np.ones(2 * c), -np.inf, float(uses_left[p]), "item"))
    z_ub = np.where(fixed[f.col_pos], copies, np.minimum(copies, uses_left[f.col_pos])).astype(np.float64)
    # the shadow only has to stay near its targets (SHADOW_SLACK x looser), so the MIP does not spend
    # its time polishing forms that will be re-solved anyway
    dev = list(f.dev) + [replace(d, idx=d.idx + n, target=d.target * copies, weight=d.weight * copies * SHADOW_SLACK)
                         for d in f.dev]
    return replace(
        f, col_pos=np.concatenate([f.col_pos, f.col_pos]), col_sec=np.concatenate([f.col_sec, f.col_sec]),
        col_points=np.concatenate([f.col_points, f.col_points]), col_ub=np.concatenate([f.col_ub, z_ub]),
        rows=rows, dev=dev, n_x=n,
    )


def _form_step(f: Formulation, avail: BoolArr, copies: int, uses_left: IntArr, fixed: BoolArr,
               solver: SolverName, budget: float, rel_gap: float) -> tuple[RawSolution, Formulation]:
    """One form: shadow MIP over a spread subset; plain single-form solve if that fails."""
    g = restrict(f, avail)
    if copies > 0:
        keep = spread_subset(g, cap=12 * min(copies + 1, 3), max_cols=4000 * min(copies + 1, 3), seed=copies)
        sub = restrict(g, keep)
        raw = run_solver(_shadow(sub, copies, uses_left, fixed), solver, 0.6 * budget, rel_gap)
        if raw.x is not None:
            x = np.zeros(g.n_cols, dtype=np.int64)
            x[keep] = raw.x[: sub.n_cols]
            obj = deviation(g, x.astype(np.float64))
            bound = _global_bound(g, obj, 0.3 * budget)
            return replace(raw, x=x, objective=obj, bound=min(bound, obj)), g
    return solve_model(g, solver, budget, rel_gap), g


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
    fixed = np.zeros(len(ix.ids), dtype=bool)
    fixed[[ix.pos_of_id[i] for i in bp.fixed_items if i in ix.pos_of_id]] = True
    uses = np.zeros(len(ix.ids), dtype=np.int64)
    chosen: list[tuple[Formulation, RawSolution]] = []
    for k in range(forms):
        budget = (time_limit - (time.perf_counter() - t0)) / (forms - k) * 0.8
        avail = fixed[f.col_pos] | (uses[f.col_pos] < max_uses)
        raw, g = _form_step(f, avail, forms - k - 1, max_uses - uses, fixed, solver, budget, rel_gap)
        if raw.x is None:  # shadow and plain step both failed in their share: try once more, no shadow
            left = time_limit - (time.perf_counter() - t0)
            raw, g = _form_step(f, avail, 0, max_uses - uses, fixed, solver, max(1.0, left / 2), rel_gap)
        if raw.x is None:
            raise SolverFailed(f"form {k + 1} of {forms}: no paper ({raw.status}); the bank may be too small")
        uses[g.col_pos[raw.x[: g.n_x] > 0]] += 1
        chosen.append((g, raw))
    chosen = _improve(f, chosen, uses, fixed, max_uses, solver, t0 + time_limit, rel_gap)
    results = tuple(verified(bp, pool, tree, to_result(g, raw.x, raw, raw.seconds))  # type: ignore[arg-type]
                    for g, raw in chosen)
    from item_bank.assembly.check import overlap

    return ParallelResult(results, time.perf_counter() - t0, overlap(results, bp.fixed_items),
                          max((r.gap for r in results), default=0.0))


Chosen = list[tuple[Formulation, RawSolution]]


def _improve(f: Formulation, chosen: Chosen, uses: IntArr, fixed: BoolArr,
             max_uses: int, solver: SolverName, deadline: float, rel_gap: float) -> Chosen:
    """Re-solve each form above the gap target against the items the other forms left free."""
    out = list(chosen)
    for k, (g, raw) in enumerate(out):
        left = deadline - time.perf_counter()
        if relative_gap(raw.objective, raw.bound) <= rel_gap or left < 1.0 or raw.x is None:
            continue
        mine = g.col_pos[raw.x[: g.n_x] > 0]
        uses[mine] -= 1
        avail = fixed[f.col_pos] | (uses[f.col_pos] < max_uses)
        better = solve_model(restrict(f, avail), solver, min(left, 10.0), rel_gap)
        gg = restrict(f, avail)
        if better.x is not None and better.objective < raw.objective - 1e-9:
            out[k] = (gg, better)
            mine = gg.col_pos[better.x[: gg.n_x] > 0]
        uses[mine] += 1
    return out
