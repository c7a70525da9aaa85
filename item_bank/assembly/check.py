"""Independent checker: re-verifies every blueprint requirement on a returned paper from scratch.

It deliberately shares no code with the formulation (plain loops over PoolItem objects, its own
tree walk, scalar IRT), so a modelling or solver bug cannot hide behind the same mistake twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from item_bank.assembly.irt import item_information
from item_bank.assembly.model import Blueprint, KnowledgeTree, Pool, PoolItem, Result

_TOL = 1e-6


def _items(bp: Blueprint, pool: Pool, result: Result, out: list[str]) -> list[tuple[int, PoolItem, float]]:
    by_id = {it.id: it for it in pool.items}
    chosen: list[tuple[int, PoolItem, float]] = []
    if len(result.sections) != len(bp.sections):
        out.append(f"paper has {len(result.sections)} sections, blueprint {len(bp.sections)}")
    for s, (sec, got) in enumerate(zip(bp.sections, result.sections, strict=False)):
        if got.name != sec.name:
            out.append(f"sections[{s}].name: {got.name!r} != {sec.name!r}")
        if len(got.items) != sec.count:
            out.append(f"sections[{s}].count: {len(got.items)} items, need {sec.count}")
        for pi in got.items:
            it = by_id.get(pi.item_id)
            if it is None:
                out.append(f"sections[{s}]: item {pi.item_id} is not in the pool")
                continue
            if sec.types and it.type not in sec.types:
                out.append(f"sections[{s}].types: item {it.id} is {it.type}")
            want = sec.item_points() if sec.item_points() is not None else it.default_points
            if abs(pi.points - (want or 0.0)) > _TOL:
                out.append(f"sections[{s}].points: item {it.id} has {pi.points}, should be {want}")
            chosen.append((s, it, pi.points))
    return chosen


def _filters(bp: Blueprint, chosen: Sequence[tuple[int, PoolItem, float]], out: list[str]) -> None:
    ids = [it.id for _, it, _ in chosen]
    if len(set(ids)) != len(ids):
        out.append("items.once: an item appears twice")
    for _, it, _ in chosen:
        if it.status not in bp.statuses:
            out.append(f"statuses: item {it.id} is {it.status}")
        if bp.max_exposure is not None and it.exposure > bp.max_exposure:
            out.append(f"max_exposure: item {it.id} used {it.exposure} times")
        if bp.exclude_seen_recently and it.seen_recently_by_class:
            out.append(f"exclude_seen_recently: item {it.id} seen recently by this class")
    for k, fid in enumerate(bp.fixed_items):
        if fid not in ids:
            out.append(f"fixed_items[{k}]: item {fid} missing")
    seen: dict[str, int] = {}
    for _, it, _ in chosen:
        for e in it.enemy_sets:
            if e in seen:
                out.append(f"enemy_sets: items {seen[e]} and {it.id} share enemy set {e}")
            seen[e] = it.id
    for k, group in enumerate(bp.enemy_sets):
        if len(set(group) & set(ids)) > 1:
            out.append(f"enemy_sets[{k}]: more than one of {list(group)}")


def _bounded(out: list[str], field: str, value: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and value < lo - _TOL:
        out.append(f"{field}: {value:g} is below {lo:g}")
    if hi is not None and value > hi + _TOL:
        out.append(f"{field}: {value:g} is above {hi:g}")


Chosen = Sequence[tuple[int, PoolItem, float]]


def _knowledge(bp: Blueprint, tree: KnowledgeTree, chosen: Chosen, out: list[str]) -> None:
    total = sum(p for _, _, p in chosen)
    for k, kc in enumerate(bp.knowledge_points):
        n, pts = 0, 0.0
        for _, it, p in chosen:
            under = any(kc.node in tree.ancestors(kp) for kp in it.knowledge_points)
            if under and (not kc.types or it.type in kc.types):
                n, pts = n + 1, pts + p
        _bounded(out, f"knowledge_points[{k}].count", n, kc.min_count, kc.max_count)
        if kc.min_share is not None or kc.max_share is not None:
            share = pts / total if total else 0.0
            _bounded(out, f"knowledge_points[{k}].share", share, kc.min_share, kc.max_share)


def _types_time_score(bp: Blueprint, chosen: Sequence[tuple[int, PoolItem, float]], out: list[str]) -> None:
    for k, tc in enumerate(bp.types):
        sel = [p for _, it, p in chosen if it.type == tc.type]
        _bounded(out, f"types[{k}].count", len(sel), tc.min_count, tc.max_count)
        _bounded(out, f"types[{k}].points", sum(sel), tc.min_points, tc.max_points)
    if bp.total_items is not None:
        _bounded(out, "total_items", len(chosen), bp.total_items, bp.total_items)
    if bp.total_score is not None:
        total = sum(p for _, _, p in chosen)
        _bounded(out, "total_score", total, bp.total_score, bp.total_score)
    if bp.max_time_seconds is not None:
        _bounded(out, "max_time_seconds", sum(it.time_seconds for _, it, _ in chosen), None, bp.max_time_seconds)


def _difficulty(bp: Blueprint, chosen: Sequence[tuple[int, PoolItem, float]], out: list[str]) -> None:
    d = bp.difficulty
    if d is None:
        return
    ps = [it.difficulty for _, it, _ in chosen]
    if any(p is None for p in ps):
        out.append("difficulty: an item has no difficulty estimate")
        return
    vals = [float(p) for p in ps if p is not None]
    if d.mean is not None and vals:
        mean = sum(vals) / len(vals)
        _bounded(out, "difficulty.mean", mean, d.mean - d.tolerance, d.mean + d.tolerance)
    for b, band in enumerate(d.bands):
        n = sum(1 for p in vals if band.low <= p and (p < band.high or band.high >= 1.0))
        _bounded(out, f"difficulty.bands[{b}].count", n, band.min_count, band.max_count)


def information_at(chosen: Sequence[PoolItem], theta: float) -> float:
    return sum(item_information(float(it.irt_a or 0.0), float(it.irt_b or 0.0), theta) for it in chosen)


def _information(bp: Blueprint, chosen: Sequence[tuple[int, PoolItem, float]], result: Result, out: list[str]) -> None:
    info = bp.information
    if info is None:
        return
    items = [it for _, it, _ in chosen]
    if any(it.irt_a is None or it.irt_b is None for it in items):
        out.append("information: an item has no IRT parameters")
        return
    dev = max(abs(information_at(items, th) - t) for th, t in zip(info.thetas, info.targets, strict=True))
    if info.max_deviation is not None:
        _bounded(out, "information.max_deviation", dev, None, info.max_deviation)
    if result.objective_kind == "information" and abs(max(dev, info.tolerance) - result.objective) > 1e-6:
        out.append(f"objective: reported {result.objective:g}, actual deviation {max(dev, info.tolerance):g}")
    if result.bound > result.objective + 1e-6:
        out.append(f"bound: {result.bound:g} above the objective {result.objective:g}")


def check(bp: Blueprint, pool: Pool, tree: KnowledgeTree, result: Result) -> list[str]:
    """Every violated requirement as a message starting with the blueprint field; [] when clean."""
    out: list[str] = []
    chosen = _items(bp, pool, result, out)
    _filters(bp, chosen, out)
    _knowledge(bp, tree, chosen, out)
    _types_time_score(bp, chosen, out)
    _difficulty(bp, chosen, out)
    _information(bp, chosen, result, out)
    return out


def overlap(results: Sequence[Result], exempt: Sequence[int] = ()) -> int:
    """Largest number of shared (non-exempt) items between any two forms."""
    sets = [set(r.item_ids()) - set(exempt) for r in results]
    return max((len(a & b) for i, a in enumerate(sets) for b in sets[i + 1 :]), default=0)
