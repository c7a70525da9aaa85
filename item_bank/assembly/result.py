"""Chosen columns -> Result (ordered sections, statistics)."""

from __future__ import annotations

import math

import numpy as np

from item_bank.assembly.formulate import Formulation
from item_bank.assembly.index import IntArr
from item_bank.assembly.irt import information_matrix
from item_bank.assembly.model import NodeId, PaperItem, PaperSection, PaperStats, Result, relative_gap
from item_bank.assembly.solution import RawSolution


def _stats(f: Formulation, cols: IntArr) -> PaperStats:
    ix, bp = f.index, f.blueprint
    pos = f.col_pos[cols]
    p = ix.difficulty[pos]
    info: tuple[float, ...] = ()
    if bp.information is not None:
        mat = information_matrix(ix.irt_a[pos], ix.irt_b[pos], bp.information.thetas)
        info = tuple(float(v) for v in mat.sum(axis=1))
    counts: dict[NodeId, int] = {}
    chosen = set(pos.tolist())
    for kc in bp.knowledge_points:
        counts[kc.node] = len(chosen.intersection(ix.covered(kc.node).tolist()))
    known = p[~np.isnan(p)]
    return PaperStats(
        n_items=len(cols),
        total_score=float(f.col_points[cols].sum()),
        mean_difficulty=float(known.mean()) if len(known) else None,
        information=info,
        knowledge_counts=counts,
        time_seconds=float(ix.time[pos].sum()),
    )


def _section(f: Formulation, s: int, cols: IntArr) -> PaperSection:
    ix = f.index
    mine = [c for c in cols.tolist() if f.col_sec[c] == s]
    # easy first (higher p), unknown difficulty last, then by id for a stable order
    mine.sort(key=lambda c: (-(ix.difficulty[f.col_pos[c]] if not math.isnan(ix.difficulty[f.col_pos[c]]) else -1.0),
                             int(ix.ids[f.col_pos[c]])))
    items = tuple(PaperItem(int(ix.ids[f.col_pos[c]]), float(f.col_points[c])) for c in mine)
    return PaperSection(f.blueprint.sections[s].name, items)


def to_result(f: Formulation, x: IntArr, raw: RawSolution, seconds: float) -> Result:
    cols = np.flatnonzero(x[: f.n_x] > 0)
    return Result(
        sections=tuple(_section(f, s, cols) for s in range(len(f.blueprint.sections))),
        objective=raw.objective,
        bound=raw.bound,
        gap=relative_gap(raw.objective, raw.bound),
        solver=raw.solver,
        seconds=seconds,
        status="optimal" if raw.status == "optimal" else "time_limit" if raw.status == "time_limit" else "feasible",
        stats=_stats(f, cols),
        objective_kind=f.kind,
    )
