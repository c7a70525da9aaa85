"""Bench baselines over the same formulation: random-then-repair and a simple genetic algorithm.

Both minimise penalty * 1000 + deviation, where the penalty sums each requirement's violation
(normalised by its bound) plus enemy-set and duplicate clashes. They return chosen columns; the
caller turns them into a Result and runs the independent checker like for the MIP.
"""

from __future__ import annotations

import time

import numpy as np

from item_bank.assembly.formulate import Formulation
from item_bank.assembly.index import FloatArr, IntArr

_PENALTY = 1000.0


class Scorer:
    """Dense activity matrix for the aggregate rows, so a swap updates the score in O(rows)."""

    def __init__(self, f: Formulation) -> None:
        self.f = f
        agg = [r for r in f.rows if r.scale == "count"]
        self.m = np.zeros((len(agg) + len(f.dev), f.n_cols))
        for i, r in enumerate(agg):
            self.m[i, r.idx] = r.val
        for j, d in enumerate(f.dev):
            self.m[len(agg) + j, d.idx] = d.val
        self.lo = np.asarray([r.lo for r in agg])
        self.hi = np.asarray([r.hi for r in agg])
        self.norm = np.maximum(1.0, np.minimum(np.abs(np.nan_to_num(self.lo, posinf=0, neginf=0))
                                               + np.abs(np.nan_to_num(self.hi, posinf=0, neginf=0)), 1e9))
        self.n_agg = len(agg)
        self.target = np.asarray([d.target for d in f.dev])
        self.weight = np.asarray([d.weight for d in f.dev])
        self.enemy = {c: set(f.index.pool.items[p].enemy_sets) for c, p in enumerate(f.col_pos.tolist())
                      if f.index.pool.items[p].enemy_sets}

    def score(self, act: FloatArr, cols: IntArr) -> float:
        a = act[: self.n_agg]
        viol = (np.maximum(0.0, self.lo - a) + np.maximum(0.0, a - self.hi)) / self.norm
        pen = float(viol.sum()) + self._clashes(cols)
        dev = float(np.max(np.abs(act[self.n_agg :] - self.target) / self.weight)) if len(self.target) else 0.0
        return pen * _PENALTY + max(dev, self.f.y_lo)

    def _clashes(self, cols: IntArr) -> float:
        pos = self.f.col_pos[cols]
        n = len(pos) - len(set(pos.tolist()))
        seen: set[str] = set()
        for c in cols.tolist():
            for e in self.enemy.get(c, ()):
                n += e in seen
                seen.add(e)
        return float(n)

    def activity(self, cols: IntArr) -> FloatArr:
        out: FloatArr = self.m[:, cols].sum(axis=1)
        return out


def _random_paper(f: Formulation, rng: np.random.Generator, by_sec: list[IntArr]) -> IntArr:
    parts = [rng.choice(c, size=min(s.count, len(c)), replace=False) for s, c in zip(f.blueprint.sections, by_sec,
                                                                                     strict=True)]
    return np.concatenate(parts).astype(np.int64)


def _sections(f: Formulation) -> list[IntArr]:
    return [np.flatnonzero(f.col_sec == s) for s in range(len(f.blueprint.sections))]


def random_repair(f: Formulation, seconds: float, seed: int = 0) -> IntArr:
    """Random paper, then first-improvement swaps (same section) until the time budget is used."""
    rng, sc, by_sec = np.random.default_rng(seed), Scorer(f), _sections(f)
    cols = _random_paper(f, rng, by_sec)
    act = sc.activity(cols)
    cur = sc.score(act, cols)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        i = int(rng.integers(len(cols)))
        new = int(rng.choice(by_sec[int(f.col_sec[cols[i]])]))
        trial_act = act - sc.m[:, cols[i]] + sc.m[:, new]
        trial = cols.copy()
        trial[i] = new
        val = sc.score(trial_act, trial)
        if val < cur:
            cols, act, cur = trial, trial_act, val
    return cols


def genetic(f: Formulation, seconds: float, seed: int = 0, population: int = 40) -> IntArr:
    """Section-wise uniform crossover, slot mutation, tournament selection, elitism of two."""
    rng, sc, by_sec = np.random.default_rng(seed), Scorer(f), _sections(f)
    pop = [_random_paper(f, rng, by_sec) for _ in range(population)]
    fit = [sc.score(sc.activity(p), p) for p in pop]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        order = np.argsort(fit)
        nxt, nfit = [pop[order[0]], pop[order[1]]], [fit[order[0]], fit[order[1]]]
        while len(nxt) < population:
            a, b = (pop[min(rng.integers(population, size=2), key=lambda k: fit[k])] for _ in range(2))
            child = np.where(rng.random(len(a)) < 0.5, a, b)
            for i in np.flatnonzero(rng.random(len(child)) < 1.0 / len(child)):
                child[i] = rng.choice(by_sec[int(f.col_sec[child[i]])])
            nxt.append(child)
            nfit.append(sc.score(sc.activity(child), child))
        pop, fit = nxt, nfit
    return pop[int(np.argmin(fit))]


def columns_to_x(f: Formulation, cols: IntArr) -> IntArr:
    x = np.zeros(f.n_cols, dtype=np.int64)
    x[cols] = 1
    return x
