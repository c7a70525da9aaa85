"""Blueprint validation: every error names the field it is about (BlueprintInvalid.field)."""

from __future__ import annotations

import math

from item_bank.assembly.errors import BlueprintInvalid
from item_bank.assembly.model import Blueprint, KnowledgeConstraint, KnowledgeTree, Section

_EPS = 1e-6


def _bad(field: str, message: str) -> BlueprintInvalid:
    return BlueprintInvalid(field, message)


def _check_min_max(field: str, lo: float | None, hi: float | None, upper: float | None = None) -> None:
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and (v < 0 or not math.isfinite(v) or (upper is not None and v > upper)):
            raise _bad(f"{field.replace('?', name)}", f"must be between 0 and {upper if upper else 'infinity'}")
    if lo is not None and hi is not None and lo > hi:
        raise _bad(field.replace("?", "min"), f"minimum {lo} is above maximum {hi}")


def _section(i: int, s: Section) -> None:
    f = f"sections[{i}]"
    if s.count < 0:
        raise _bad(f"{f}.count", "must not be negative")
    if s.points_per_item is not None and s.points_per_item < 0:
        raise _bad(f"{f}.points_per_item", "must not be negative")
    if s.total_points is not None and s.total_points < 0:
        raise _bad(f"{f}.total_points", "must not be negative")
    per, total = s.points_per_item, s.total_points
    if per is not None and total is not None and abs(per * s.count - total) > _EPS:
        raise _bad(f"{f}.total_points", f"{s.count} x {s.points_per_item} is not {s.total_points}")


def _knowledge(i: int, k: KnowledgeConstraint, tree: KnowledgeTree) -> None:
    f = f"knowledge_points[{i}]"
    if k.node not in tree.parents:
        raise _bad(f"{f}.node", f"unknown knowledge point {k.node!r}")
    if all(v is None for v in (k.min_count, k.max_count, k.min_share, k.max_share)):
        raise _bad(f"{f}.min_count", "give at least one of min_count, max_count, min_share, max_share")
    _check_min_max(f"{f}.?_count", k.min_count, k.max_count)
    _check_min_max(f"{f}.?_share", k.min_share, k.max_share, 1.0)


def _totals(bp: Blueprint) -> None:
    if bp.total_items is not None and bp.total_items != bp.n_items():
        raise _bad("total_items", f"sections add up to {bp.n_items()} items, not {bp.total_items}")
    fixed = [s.item_points() for s in bp.sections]
    if bp.total_score is not None and all(p is not None for p in fixed):
        total = sum((p or 0.0) * s.count for p, s in zip(fixed, bp.sections, strict=True))
        if abs(total - bp.total_score) > 1e-6:
            raise _bad("total_score", f"sections add up to {total:g} points, not {bp.total_score:g}")


def _difficulty(bp: Blueprint) -> None:
    d = bp.difficulty
    if d is None:
        return
    if d.mean is not None and not 0.0 <= d.mean <= 1.0:
        raise _bad("difficulty.mean", "must be a proportion correct between 0 and 1")
    if d.tolerance < 0:
        raise _bad("difficulty.tolerance", "must not be negative")
    for i, b in enumerate(d.bands):
        if not 0.0 <= b.low < b.high <= 1.0:
            raise _bad(f"difficulty.bands[{i}].low", "need 0 <= low < high <= 1")
        _check_min_max(f"difficulty.bands[{i}].?_count", b.min_count, b.max_count)


def _information(bp: Blueprint) -> None:
    info = bp.information
    if info is None:
        if bp.objective == "information":
            raise _bad("objective", "objective 'information' needs an information target")
        return
    if not info.thetas or len(info.thetas) != len(info.targets):
        raise _bad("information.targets", "give one target per theta (and at least one)")
    if any(t < 0 or not math.isfinite(t) for t in info.targets):
        raise _bad("information.targets", "targets must be finite and not negative")
    if info.tolerance < 0:
        raise _bad("information.tolerance", "must not be negative")
    if info.max_deviation is not None and info.max_deviation < info.tolerance:
        raise _bad("information.max_deviation", "must be at least the tolerance")


def validate(bp: Blueprint, tree: KnowledgeTree) -> None:
    if not bp.sections:
        raise _bad("sections", "a paper needs at least one section")
    if len({s.name for s in bp.sections}) != len(bp.sections):
        raise _bad("sections", "section names must be unique")
    for i, s in enumerate(bp.sections):
        _section(i, s)
    _totals(bp)
    for i, k in enumerate(bp.knowledge_points):
        _knowledge(i, k, tree)
    for i, t in enumerate(bp.types):
        _check_min_max(f"types[{i}].?_count", t.min_count, t.max_count)
        _check_min_max(f"types[{i}].?_points", t.min_points, t.max_points)
    _difficulty(bp)
    if bp.objective == "difficulty" and (bp.difficulty is None or bp.difficulty.mean is None):
        raise _bad("objective", "objective 'difficulty' needs difficulty.mean")
    _information(bp)
    if bp.max_time_seconds is not None and bp.max_time_seconds <= 0:
        raise _bad("max_time_seconds", "must be positive")
    if bp.max_exposure is not None and bp.max_exposure < 0:
        raise _bad("max_exposure", "must not be negative")
    if len(set(bp.fixed_items)) != len(bp.fixed_items):
        raise _bad("fixed_items", "an item is listed twice")
    if not bp.statuses:
        raise _bad("statuses", "allow at least one status")
