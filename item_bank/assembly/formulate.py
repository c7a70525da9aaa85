"""Blueprint + pool -> one linear model shared by every solver (HiGHS, CP-SAT, diagnosis, baselines).

Columns are (item, section) pairs an item may fill; x = 1 puts the item in that section. Each row
belongs to a *group* = one blueprint requirement, so diagnosis can switch requirements off and
name them. The objective is a minimax deviation y >= tolerance over "deviation rows":
|sum(val * x) - target| <= weight * y (information at each theta, or the mean difficulty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from item_bank.assembly import texts
from item_bank.assembly.index import BoolArr, FloatArr, IntArr, PoolIndex
from item_bank.assembly.irt import information_matrix
from item_bank.assembly.model import Blueprint

INF = math.inf
Scale = Literal["count", "enemy", "item"]


@dataclass(frozen=True)
class Group:
    key: str  # blueprint field path
    en: str
    zh: str


@dataclass(frozen=True)
class Row:
    group: int
    idx: IntArr  # column indices
    val: FloatArr
    lo: float
    hi: float
    scale: Scale = "count"  # how the row grows when it describes several forms at once (shadow test)


@dataclass(frozen=True)
class DevRow:
    idx: IntArr
    val: FloatArr
    target: float
    weight: float


@dataclass
class Formulation:
    blueprint: Blueprint
    index: PoolIndex
    col_pos: IntArr  # pool position of each column
    col_sec: IntArr
    col_points: FloatArr
    col_ub: FloatArr
    rows: list[Row] = field(default_factory=list)
    dev: list[DevRow] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    kind: str = "none"
    y_lo: float = 0.0
    y_hi: float = INF
    n_x: int = 0  # leading columns that are the paper itself (the rest: shadow forms)
    relax_tail: bool = False  # columns from n_x on may be fractional (a relaxed shadow; HiGHS only)
    y_floor: float = 0.0  # a known lower bound on the objective (solver hint only; never reported)

    @property
    def n_cols(self) -> int:
        return len(self.col_pos)

    def group(self, key: str, en: str, zh: str) -> int:
        self.groups.append(Group(key, en, zh))
        return len(self.groups) - 1

    def add(self, g: int, mask: BoolArr, val: FloatArr | float, lo: float, hi: float, scale: Scale = "count") -> None:
        idx = np.flatnonzero(mask)
        v = np.full(len(idx), float(val)) if isinstance(val, float) else np.asarray(val, dtype=np.float64)[idx]
        self.rows.append(Row(g, idx, v, lo, hi, scale))


def eligible(bp: Blueprint, ix: PoolIndex, exclude: IntArr | None = None) -> BoolArr:
    """Items the blueprint may use at all: status, exposure, recency, needed parameters, type."""
    m = np.isin(np.asarray(ix.status, dtype=object), list(bp.statuses))
    if bp.max_exposure is not None:
        m &= ix.exposure <= bp.max_exposure
    if bp.exclude_seen_recently:
        m &= ~ix.recent
    d = bp.difficulty
    if d is not None and (d.mean is not None or d.bands):
        m &= ~np.isnan(ix.difficulty)
    if bp.information is not None:
        m &= ~(np.isnan(ix.irt_a) | np.isnan(ix.irt_b))
    any_type = any(not s.types for s in bp.sections)
    if not any_type:
        m &= ix.type_mask(tuple(t for s in bp.sections for t in s.types))
    if exclude is not None and len(exclude):
        m[exclude] = False
    return m


def build(bp: Blueprint, ix: PoolIndex, exclude: IntArr | None = None) -> Formulation:
    ok = eligible(bp, ix, exclude)
    pos_l, sec_l, pts_l = [], [], []
    for s, sec in enumerate(bp.sections):
        pos = np.flatnonzero(ok & ix.type_mask(sec.types))
        pts = sec.item_points()
        pos_l.append(pos)
        sec_l.append(np.full(len(pos), s, dtype=np.int64))
        pts_l.append(ix.points[pos] if pts is None else np.full(len(pos), pts))
    col_pos = np.concatenate(pos_l).astype(np.int64)
    f = Formulation(bp, ix, col_pos, np.concatenate(sec_l), np.concatenate(pts_l), np.ones(len(col_pos)))
    f.n_x = f.n_cols
    for add in (_sections, _items, _totals, _knowledge, _types, _difficulty, _time, _enemies, _information):
        add(f)
    return f


def _sections(f: Formulation) -> None:
    for s, sec in enumerate(f.blueprint.sections):
        g = f.group(f"sections[{s}].count", *texts.section_count(sec))
        f.add(g, f.col_sec == s, 1.0, sec.count, sec.count)


def _cols_by_item(f: Formulation) -> tuple[IntArr, IntArr, IntArr]:
    order = np.argsort(f.col_pos, kind="stable")
    uniq, start, counts = np.unique(f.col_pos[order], return_index=True, return_counts=True)
    return order, uniq, np.stack([start, counts], axis=1)


def _items(f: Formulation) -> None:
    """Each item at most once; fixed items exactly once."""
    bp, ix = f.blueprint, f.index
    order, uniq, span = _cols_by_item(f)
    fixed_pos = {ix.pos_of_id[i]: k for k, i in enumerate(bp.fixed_items) if i in ix.pos_of_id}
    g_once = f.group("items.once", *texts.once())
    fixed_w = np.flatnonzero(np.isin(uniq, np.fromiter(fixed_pos, dtype=np.int64, count=len(fixed_pos))))
    # only items with several columns (or fixed ones) need a row: a vectorised filter, then a short loop
    for w in np.union1d(np.flatnonzero(span[:, 1] >= 2), fixed_w).tolist():
        st, n = int(span[w, 0]), int(span[w, 1])
        cols = order[st : st + n]
        k = fixed_pos.get(int(uniq[w]))
        if k is None:
            f.rows.append(Row(g_once, cols, np.ones(n), -INF, 1.0, "item"))
        else:
            g = f.group(f"fixed_items[{k}]", *texts.fixed(bp.fixed_items[k]))
            f.rows.append(Row(g, cols, np.ones(n), 1.0, 1.0, "item"))


def _totals(f: Formulation) -> None:
    bp = f.blueprint
    if bp.total_score is not None and any(s.item_points() is None for s in bp.sections):
        g = f.group("total_score", *texts.total_score(bp.total_score))
        f.add(g, np.ones(f.n_cols, dtype=bool), f.col_points, bp.total_score, bp.total_score)


def _share_rows(f: Formulation, g_key: str, member: BoolArr, lo: float | None, hi: float | None,
                what: texts.Pair) -> None:
    for bound, share in (("min", lo), ("max", hi)):
        if share is None:
            continue
        g = f.group(f"{g_key}.{bound}_share", *texts.share(what, bound, share))
        val = f.col_points * (member.astype(np.float64) - share)
        keep = val != 0
        f.add(g, keep, val, 0.0 if bound == "min" else -INF, INF if bound == "min" else 0.0)


def _count_rows(f: Formulation, key: str, member: BoolArr, lo: float | None, hi: float | None,
                what: texts.Pair) -> None:
    if lo is not None and lo > 0:
        f.add(f.group(f"{key}.min_count", *texts.count(what, "min", lo)), member, 1.0, lo, INF)
    if hi is not None:
        f.add(f.group(f"{key}.max_count", *texts.count(what, "max", hi)), member, 1.0, -INF, hi)


def _knowledge(f: Formulation) -> None:
    ix = f.index
    for k, kc in enumerate(f.blueprint.knowledge_points):
        in_node = np.zeros(len(ix.ids), dtype=bool)
        in_node[ix.covered(kc.node)] = True
        member = in_node[f.col_pos] & ix.type_mask(kc.types)[f.col_pos]
        what = texts.kp_label(ix.tree.name(kc.node), kc.types)
        _count_rows(f, f"knowledge_points[{k}]", member, kc.min_count, kc.max_count, what)
        _share_rows(f, f"knowledge_points[{k}]", member, kc.min_share, kc.max_share, what)


def _types(f: Formulation) -> None:
    ix = f.index
    for k, tc in enumerate(f.blueprint.types):
        member = ix.type_mask((tc.type,))[f.col_pos]
        what = texts.type_label(tc.type)
        _count_rows(f, f"types[{k}]", member, tc.min_count, tc.max_count, what)
        if tc.min_points is not None:
            g = f.group(f"types[{k}].min_points", *texts.points(what, "min", tc.min_points))
            f.add(g, member, f.col_points, tc.min_points, INF)
        if tc.max_points is not None:
            g = f.group(f"types[{k}].max_points", *texts.points(what, "max", tc.max_points))
            f.add(g, member, f.col_points, -INF, tc.max_points)


def _difficulty(f: Formulation) -> None:
    d, n = f.blueprint.difficulty, f.blueprint.n_items()
    if d is None:
        return
    p = f.index.difficulty[f.col_pos]
    if d.mean is not None:
        g = f.group("difficulty.mean", *texts.mean(d.mean, d.tolerance))
        f.add(g, np.ones(f.n_cols, dtype=bool), p, (d.mean - d.tolerance) * n, (d.mean + d.tolerance) * n)
        if f.blueprint.objective_kind() == "difficulty":
            f.kind = "difficulty"
            f.dev.append(DevRow(np.arange(f.n_cols), p, d.mean * n, float(n)))
    for b, band in enumerate(d.bands):
        member = (p >= band.low) & ((p < band.high) | (band.high >= 1.0))
        what = texts.band_label(band.name, band.low, band.high)
        _count_rows(f, f"difficulty.bands[{b}]", member, band.min_count, band.max_count, what)


def _time(f: Formulation) -> None:
    t = f.blueprint.max_time_seconds
    if t is not None:
        g = f.group("max_time_seconds", *texts.time_budget(t))
        f.add(g, np.ones(f.n_cols, dtype=bool), f.index.time[f.col_pos], -INF, t)


def _enemies(f: Formulation) -> None:
    ix, bp = f.index, f.blueprint
    order, uniq, span = _cols_by_item(f)
    sets: list[tuple[int | None, IntArr]] = [(None, v) for v in ix.enemy_items.values()]
    sets += [(k, np.asarray([ix.pos_of_id[i] for i in s if i in ix.pos_of_id], dtype=np.int64))
             for k, s in enumerate(bp.enemy_sets)]
    g_bank = f.group("enemy_sets", *texts.enemies(None))
    for k, positions in sets:
        where = np.searchsorted(uniq, positions)
        where = where[(where < len(uniq)) & (uniq[np.minimum(where, len(uniq) - 1)] == positions)]
        if len(where) < 2:
            continue
        cols = np.concatenate([order[span[w, 0] : span[w, 0] + span[w, 1]] for w in where])
        g = g_bank if k is None else f.group(f"enemy_sets[{k}]", *texts.enemies(bp.enemy_sets[k]))
        f.rows.append(Row(g, cols, np.ones(len(cols)), -INF, 1.0, "enemy"))


def _information(f: Formulation) -> None:
    info, ix = f.blueprint.information, f.index
    if info is None:
        return
    mat = information_matrix(ix.irt_a[f.col_pos], ix.irt_b[f.col_pos], info.thetas)
    allc = np.arange(f.n_cols)
    if f.blueprint.objective_kind() == "information":
        f.kind = "information"
        f.y_lo = info.tolerance
        f.y_hi = INF if info.max_deviation is None else info.max_deviation
        f.dev.extend(DevRow(allc, mat[k], t, 1.0) for k, t in enumerate(info.targets))
    elif info.max_deviation is not None:
        for k, t in enumerate(info.targets):
            g = f.group(f"information.targets[{k}]", *texts.info(info.thetas[k], t, info.max_deviation))
            f.add(g, np.ones(f.n_cols, dtype=bool), mat[k], t - info.max_deviation, t + info.max_deviation)
