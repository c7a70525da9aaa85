"""Candidate reduction: solve the MIP over a spread subset of the pool, bound it over the whole pool.

Columns that share every *discrete* coefficient (section, knowledge-point memberships, type,
difficulty band, enemy membership, points) are interchangeable except for their continuous
attributes (information, difficulty, time). From each such class we keep a few columns spread
evenly along each continuous attribute; a class can never contribute more than its section's
item count, so that caps what we keep. This is a heuristic restriction, so the engine never
reports its bound: the bound is the LP relaxation over the full filtered pool (always valid),
and if the restricted model fails or misses the gap target the engine falls back to the full pool.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from item_bank.assembly.formulate import Formulation, Row
from item_bank.assembly.index import BoolArr, FloatArr

_DISCRETE_MAX = 12  # a row with at most this many distinct coefficients counts as discrete


def restrict(f: Formulation, keep: BoolArr) -> Formulation:
    """The same model over a subset of columns (rows re-indexed, empty rows kept for their bounds)."""
    new_of_old = np.cumsum(keep) - 1
    rows = []
    for r in f.rows:
        m = keep[r.idx]
        rows.append(Row(r.group, new_of_old[r.idx[m]], r.val[m], r.lo, r.hi, r.scale))
    dev = [replace(d, idx=new_of_old[d.idx[keep[d.idx]]], val=d.val[keep[d.idx]]) for d in f.dev]
    return replace(
        f, col_pos=f.col_pos[keep], col_sec=f.col_sec[keep], col_points=f.col_points[keep],
        col_ub=f.col_ub[keep], rows=rows, dev=dev, n_x=int(keep[: f.n_x].sum()),
    )


def _signature(f: Formulation) -> tuple[np.ndarray, list[FloatArr]]:
    rng = np.random.default_rng(12345)
    sig = rng.integers(0, 2**62, len(f.blueprint.sections))[f.col_sec].astype(np.uint64)
    sig ^= rng.integers(0, 2**62, 1).astype(np.uint64)[0] * (f.col_points * 1000).astype(np.uint64)
    continuous: list[FloatArr] = []
    for r in f.rows:
        if r.scale != "count":
            if r.scale == "enemy":
                sig[r.idx] ^= np.uint64(0x9E3779B97F4A7C15)
            continue
        uniq, inv = np.unique(r.val, return_inverse=True)
        if len(uniq) <= _DISCRETE_MAX:
            keys = rng.integers(1, 2**62, len(uniq)).astype(np.uint64)
            sig[r.idx] ^= keys[inv]
        else:
            col = np.zeros(f.n_cols)
            col[r.idx] = r.val
            continuous.append(col)
    for d in f.dev:
        col = np.zeros(f.n_cols)
        col[d.idx] = d.val
        continuous.append(col)
    return sig, continuous


def spread_subset(f: Formulation, cap: int = 12, max_cols: int = 4000, seed: int = 0) -> BoolArr:
    """Keep mask: per class, up to min(section count, cap) columns spread along each attribute;
    when many small classes still leave more than ``max_cols``, thin them uniformly (seeded)."""
    sig, attrs = _signature(f)
    _, cls, size = np.unique(sig, return_inverse=True, return_counts=True)
    counts = np.asarray([s.count for s in f.blueprint.sections])
    q = np.minimum(counts[f.col_sec], cap)
    keep = np.zeros(f.n_cols, dtype=bool)
    for a in attrs or [np.zeros(f.n_cols)]:
        order = np.lexsort((a, cls))
        start = np.concatenate([[0], np.cumsum(size)[:-1]])
        rank = np.empty(f.n_cols, dtype=np.int64)
        rank[order] = np.arange(f.n_cols) - start[cls[order]]
        bucket = rank * q // size[cls]
        prev = np.empty_like(bucket)
        prev[order[1:]] = bucket[order[:-1]]
        first = (rank == 0) | (bucket != prev) | (rank == size[cls] - 1)
        keep |= first
    if keep.sum() > max_cols:
        rng = np.random.default_rng(seed)
        keep &= rng.random(f.n_cols) < max_cols / keep.sum()
    for r in f.rows:  # fixed items must stay available
        if r.scale == "item" and r.lo >= 1:
            keep[r.idx] = True
    return keep
