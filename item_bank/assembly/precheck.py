"""Counting pre-checks: each requirement alone against the filtered bank, with the numbers."""

from __future__ import annotations

import numpy as np

from item_bank.assembly import texts
from item_bank.assembly.errors import Explanation
from item_bank.assembly.index import BoolArr, IntArr, PoolIndex
from item_bank.assembly.model import Blueprint


def _filters_en(bp: Blueprint) -> tuple[str, str]:
    return "/".join(bp.statuses), "/".join({"reviewed": "已审核", "draft": "草稿", "retired": "已停用"}.get(s, s)
                                           for s in bp.statuses)


def _why_not(bp: Blueprint, ix: PoolIndex, pos: int, exclude: IntArr | None) -> tuple[str, str] | None:
    it = ix.pool.items[pos]
    if it.status not in bp.statuses:
        return f"it is {it.status}", f"其状态为“{it.status}”"
    if bp.max_exposure is not None and it.exposure > bp.max_exposure:
        return (f"it has been used {it.exposure} times (limit {bp.max_exposure})",
                f"已使用 {it.exposure} 次（上限 {bp.max_exposure}）")
    if bp.exclude_seen_recently and it.seen_recently_by_class:
        return "this class has seen it recently", "本班最近做过此题"
    if exclude is not None and pos in set(exclude.tolist()):
        return "it is already used on another form", "已用于另一套试卷"
    types = {t for s in bp.sections for t in s.types}
    if all(s.types for s in bp.sections) and it.type not in types:
        return f"no section takes {it.type} items", f"没有大题接受{texts.type_zh(it.type)}"
    if bp.information is not None and (it.irt_a is None or it.irt_b is None):
        return "it has no IRT parameters", "缺少 IRT 参数"
    if bp.difficulty is not None and it.difficulty is None:
        return "it has no difficulty estimate", "缺少难度估计"
    return None


def precheck_items(bp: Blueprint, ix: PoolIndex, ok: BoolArr, exclude: IntArr | None) -> list[Explanation]:
    out: list[Explanation] = []
    enemy_seen: dict[str, int] = {}
    for k, fid in enumerate(bp.fixed_items):
        key = f"fixed_items[{k}]"
        pos = ix.pos_of_id.get(fid)
        if pos is None:
            out.append(Explanation(key, f"item {fid} must be included but is not in the bank",
                                   f"必须包含第 {fid} 题，但题库中没有这道题"))
            continue
        why = _why_not(bp, ix, pos, exclude)
        if why is not None:
            out.append(Explanation(key, f"item {fid} must be included but {why[0]}",
                                   f"必须包含第 {fid} 题，但{why[1]}"))
        for e in ix.pool.items[pos].enemy_sets:
            if e in enemy_seen:
                out.append(Explanation(key, f"fixed items {enemy_seen[e]} and {fid} are in the same enemy set {e}",
                                       f"必选题 {enemy_seen[e]} 和 {fid} 属于同一互斥组 {e}"))
            enemy_seen[e] = fid
    return out


def _short(key: str, what: tuple[str, str], have: int, need: float, bp: Blueprint) -> Explanation:
    st_en, st_zh = _filters_en(bp)
    return Explanation(
        key,
        f"the bank has only {have} usable {st_en} {what[0]}; you asked for {need:g}",
        f"题库中只有 {have} 道可用的{st_zh}{what[1]}，而要求 {need:g} 道",
        needed=float(need), available=float(have),
    )


def _section_checks(bp: Blueprint, ix: PoolIndex, ok: BoolArr) -> list[Explanation]:
    out = []
    for s, sec in enumerate(bp.sections):
        have = int((ok & ix.type_mask(sec.types)).sum())
        if have < sec.count:
            en_t, zh_t = texts.types_label(sec.types)
            what = (f"{en_t.strip() or 'any-type'} items for section “{sec.name}”",
                    f"{zh_t or ''}题（大题“{sec.name}”）")
            out.append(_short(f"sections[{s}].count", what, have, sec.count, bp))
    return out


def _count_checks(bp: Blueprint, ix: PoolIndex, ok: BoolArr) -> list[Explanation]:
    out = []
    usable = ok & (np.ones(len(ok), bool) if any(not s.types for s in bp.sections)
                   else ix.type_mask(tuple(t for s in bp.sections for t in s.types)))
    for k, kc in enumerate(bp.knowledge_points):
        if kc.min_count:
            m = np.zeros(len(ok), bool)
            m[ix.covered(kc.node)] = True
            have = int((m & usable & ix.type_mask(kc.types)).sum())
            if have < kc.min_count:
                what = texts.kp_label(ix.tree.name(kc.node), kc.types)
                out.append(_short(f"knowledge_points[{k}].min_count", what, have, kc.min_count, bp))
    for k, tc in enumerate(bp.types):
        have = int((usable & ix.type_mask((tc.type,))).sum())
        if tc.min_count and have < tc.min_count:
            out.append(_short(f"types[{k}].min_count", texts.type_label(tc.type), have, tc.min_count, bp))
    d = bp.difficulty
    for b, band in enumerate(d.bands if d else ()):
        p = ix.difficulty
        have = int((usable & (p >= band.low) & ((p < band.high) | (band.high >= 1.0))).sum())
        if band.min_count and have < band.min_count:
            what = texts.band_label(band.name, band.low, band.high)
            out.append(_short(f"difficulty.bands[{b}].min_count", what, have, band.min_count, bp))
    return out


def _extreme_sum(bp: Blueprint, ix: PoolIndex, ok: BoolArr, values: np.ndarray, largest: bool) -> float:
    """Sum over sections of the `count` smallest (largest) values: a relaxation, valid as a bound."""
    total = 0.0
    for sec in bp.sections:
        v = np.sort(values[ok & ix.type_mask(sec.types)])
        total += float((v[::-1] if largest else v)[: sec.count].sum())
    return total


def _sum_checks(bp: Blueprint, ix: PoolIndex, ok: BoolArr) -> list[Explanation]:
    out = []
    if bp.max_time_seconds is not None:
        fastest = _extreme_sum(bp, ix, ok, ix.time, largest=False)
        if fastest > bp.max_time_seconds + 1e-9:
            out.append(Explanation(
                "max_time_seconds",
                f"even the quickest usable items take {fastest / 60:g} minutes; the time budget is "
                f"{bp.max_time_seconds / 60:g} minutes",
                f"即使选用最省时的题目也需要 {fastest / 60:g} 分钟，而限时为 {bp.max_time_seconds / 60:g} 分钟",
                needed=fastest, available=bp.max_time_seconds))
    d, n = bp.difficulty, bp.n_items()
    if d is not None and d.mean is not None and n:
        lo = _extreme_sum(bp, ix, ok, ix.difficulty, largest=False) / n
        hi = _extreme_sum(bp, ix, ok, ix.difficulty, largest=True) / n
        if hi < d.mean - d.tolerance - 1e-9 or lo > d.mean + d.tolerance + 1e-9:
            out.append(Explanation(
                "difficulty.mean",
                f"the usable items can only give a mean difficulty between {lo:.3f} and {hi:.3f}; "
                f"you asked for {d.mean:g} ± {d.tolerance:g}",
                f"可用题目的平均难度只能在 {lo:.3f} 到 {hi:.3f} 之间，而要求 {d.mean:g} ± {d.tolerance:g}"))
    return out


def precheck_sums(bp: Blueprint, ix: PoolIndex, ok: BoolArr) -> list[Explanation]:
    return _section_checks(bp, ix, ok) + _count_checks(bp, ix, ok) + _sum_checks(bp, ix, ok)
