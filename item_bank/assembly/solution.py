"""Solver-neutral pieces: the raw solution, the row list a solver sees, objective evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from item_bank.assembly.formulate import INF, Formulation
from item_bank.assembly.index import FloatArr, IntArr

RawStatus = Literal["optimal", "feasible", "time_limit", "infeasible", "no_solution"]


@dataclass(frozen=True)
class RawSolution:
    x: IntArr | None  # one value per column; None when the solver found nothing
    objective: float
    bound: float
    status: RawStatus
    solver: str
    seconds: float

    def has_solution(self) -> bool:
        return self.x is not None


@dataclass(frozen=True)
class LinRow:
    idx: IntArr
    val: FloatArr
    y_coef: float  # coefficient of the deviation variable (0 for ordinary rows)
    lo: float
    hi: float


def lin_rows(f: Formulation, active: set[int] | None = None) -> Iterator[LinRow]:
    """Every row of the model, deviation rows split into their two one-sided halves."""
    for r in f.rows:
        if active is None or r.group in active:
            yield LinRow(r.idx, r.val, 0.0, r.lo, r.hi)
    for d in f.dev:
        yield LinRow(d.idx, d.val, -d.weight, -INF, d.target)
        yield LinRow(d.idx, d.val, d.weight, d.target, INF)


def deviation(f: Formulation, x: FloatArr) -> float:
    """The objective recomputed from the chosen columns (never taken from the solver)."""
    if not f.dev:
        return 0.0
    worst = max(abs(float(d.val @ x[d.idx]) - d.target) / d.weight for d in f.dev)
    return max(worst, f.y_lo)


def round_x(values: FloatArr, ub: FloatArr) -> IntArr:
    return np.clip(np.rint(values), 0, ub).astype(np.int64)


def model_violations(f: Formulation, x: FloatArr, tol: float = 1e-6) -> int:
    """Rows of f (deviation rows excluded) that x breaks by more than tol: a cheap re-check of a
    solver's answer before a race accepts it (the independent checker still runs afterwards)."""
    bad = 0
    for r in f.rows:
        if f.relax_tail and len(r.idx) and int(r.idx.max()) >= f.n_x:
            continue  # touches the fractional shadow: nothing to check on a rounded copy
        act = float(r.val @ x[r.idx])
        slack = tol * max(1.0, abs(act))
        if act < r.lo - slack or act > r.hi + slack:
            bad += 1
    return bad
