from __future__ import annotations

import dataclasses

import pytest

from item_bank.assembly import (
    Blueprint,
    DifficultyBand,
    DifficultyTarget,
    InformationTarget,
    KnowledgeConstraint,
    KnowledgeTree,
    PaperItem,
    PaperSection,
    Pool,
    PoolItem,
    Result,
    Section,
    TypeConstraint,
    assemble,
    check,
)
from item_bank.assembly.synthetic import small_bank

POOL, TREE = small_bank()


def basic_blueprint(**kw: object) -> Blueprint:
    base: dict[str, object] = {
        "sections": (
            Section("选择题", 8, ("single_choice",), 3.0),
            Section("填空题", 4, ("fill_blank",), 4.0),
            Section("解答题", 2, ("short_answer",), 10.0),
        ),
    }
    base.update(kw)
    return Blueprint(**base)  # type: ignore[arg-type]


def assert_clean(bp: Blueprint, pool: Pool, tree: KnowledgeTree, r: Result) -> None:
    problems = check(bp, pool, tree, r)
    assert problems == [], problems


def test_basic_paper_sections_points_and_filters() -> None:
    bp = basic_blueprint(max_exposure=4)
    r = assemble(bp, POOL, TREE)
    assert_clean(bp, POOL, TREE, r)
    assert [len(s.items) for s in r.sections] == [8, 4, 2]
    assert r.stats.total_score == 8 * 3 + 4 * 4 + 2 * 10
    by_id = {it.id: it for it in POOL.items}
    for it in (by_id[i] for i in r.item_ids()):
        assert it.status == "reviewed" and it.exposure <= 4 and not it.seen_recently_by_class


def test_filters_leave_exactly_the_allowed_items() -> None:
    items = [PoolItem(i, "true_false", status="reviewed" if i <= 3 else "draft") for i in range(1, 7)]
    items += [PoolItem(10, "true_false", exposure=9), PoolItem(11, "true_false", seen_recently_by_class=True)]
    pool = Pool(tuple(items))
    tree = KnowledgeTree({})
    bp = basic_blueprint(sections=(Section("判断", 3, ("true_false",), 2.0),), max_exposure=5)
    r = assemble(bp, pool, tree)
    assert sorted(r.item_ids()) == [1, 2, 3]
    assert_clean(bp, pool, tree, r)


def test_knowledge_tree_parent_counts_children() -> None:
    tree = KnowledgeTree({"algebra": None, "quadratic": "algebra", "linear": "algebra", "geometry": None},
                         {"quadratic": "二次函数"})
    items = [PoolItem(i, "single_choice", knowledge_points=("quadratic",) if i % 2 else ("geometry",))
             for i in range(1, 21)]
    pool = Pool(tuple(items))
    bp = basic_blueprint(sections=(Section("A", 6, ("single_choice",), 2.0),),
                         knowledge_points=(KnowledgeConstraint("algebra", min_count=5),))
    r = assemble(bp, pool, tree)
    assert_clean(bp, pool, tree, r)
    assert r.stats.knowledge_counts["algebra"] >= 5  # only leaves are tagged; the parent counts them
    bad = dataclasses.replace(r, sections=(PaperSection("A", tuple(PaperItem(i, 2.0) for i in (2, 4, 6, 8, 1, 3))),))
    assert any(v.startswith("knowledge_points[0].count") for v in check(bp, pool, tree, bad))


def test_knowledge_counts_shares_and_types() -> None:
    bp = basic_blueprint(
        knowledge_points=(KnowledgeConstraint("0", min_count=6, max_count=9),
                          KnowledgeConstraint("1.1", min_count=2, types=("single_choice",)),
                          KnowledgeConstraint("2", max_share=0.2)),
        types=(TypeConstraint("single_choice", min_points=24, max_points=24),),
    )
    r = assemble(bp, POOL, TREE)
    assert_clean(bp, POOL, TREE, r)
    assert 6 <= r.stats.knowledge_counts["0"] <= 9


def test_fixed_items_included() -> None:
    eligible = [it.id for it in POOL.items if it.type == "fill_blank" and it.status == "reviewed"
                and not it.seen_recently_by_class and not it.enemy_sets][:2]
    bp = basic_blueprint(fixed_items=tuple(eligible))
    r = assemble(bp, POOL, TREE)
    assert set(eligible) <= set(r.item_ids())
    assert_clean(bp, POOL, TREE, r)


def test_enemy_sets_respected() -> None:
    items = [PoolItem(i, "single_choice", enemy_sets=(f"E{i % 4}",), difficulty=0.5) for i in range(1, 21)]
    pool = Pool(tuple(items))
    bp = basic_blueprint(sections=(Section("A", 4, ("single_choice",), 1.0),), enemy_sets=((1, 2),))
    r = assemble(bp, pool, KnowledgeTree({}))
    assert sorted(i % 4 for i in r.item_ids()) == [0, 1, 2, 3]
    assert_clean(bp, pool, KnowledgeTree({}), r)


def test_difficulty_mean_and_bands() -> None:
    bands = (DifficultyBand("hard", 0.0, 0.45, min_count=3), DifficultyBand("easy", 0.8, 1.0, max_count=2))
    bp = basic_blueprint(difficulty=DifficultyTarget(mean=0.6, tolerance=0.02, bands=bands))
    r = assemble(bp, POOL, TREE)
    assert_clean(bp, POOL, TREE, r)
    assert r.stats.mean_difficulty is not None and abs(r.stats.mean_difficulty - 0.6) <= 0.02 + 1e-9
    assert r.objective_kind == "difficulty" and r.objective <= 0.02


def test_time_budget_and_variable_points_total_score() -> None:
    bp = basic_blueprint(sections=(Section("客观", 10, ("single_choice", "true_false")),
                                   Section("主观", 2, ("short_answer", "essay"))),
                         total_score=50.0, max_time_seconds=30 * 60)
    r = assemble(bp, POOL, TREE)
    assert_clean(bp, POOL, TREE, r)
    assert r.stats.total_score == pytest.approx(50.0) and r.stats.time_seconds <= 1800


def test_information_target_minimax() -> None:
    info = InformationTarget(thetas=(-1.0, 0.0, 1.0), targets=(2.5, 3.0, 2.5), tolerance=0.05)
    bp = basic_blueprint(information=info)
    r = assemble(bp, POOL, TREE)
    assert_clean(bp, POOL, TREE, r)
    assert r.objective_kind == "information" and r.objective <= 0.1
    for got, want in zip(r.stats.information, info.targets, strict=True):
        assert abs(got - want) <= r.objective + 1e-6
    assert r.bound <= r.objective and r.gap <= 0.01


def test_highs_and_cpsat_agree() -> None:
    info = InformationTarget(thetas=(-0.5, 0.5), targets=(2.8, 2.8), tolerance=0.05)
    bp = basic_blueprint(information=info, difficulty=DifficultyTarget(mean=0.62, tolerance=0.04),
                         knowledge_points=(KnowledgeConstraint("0", min_count=4),), max_time_seconds=2400)
    a = assemble(bp, POOL, TREE, solver="highs")
    b = assemble(bp, POOL, TREE, solver="cpsat")
    assert_clean(bp, POOL, TREE, a)
    assert_clean(bp, POOL, TREE, b)
    assert (a.solver, b.solver) == ("highs", "cpsat")
    assert abs(a.objective - b.objective) <= 0.01


def test_checker_catches_tampering() -> None:
    bp = basic_blueprint(max_exposure=4)
    r = assemble(bp, POOL, TREE)
    retired = next(it for it in POOL.items if it.status == "retired" and it.type == "single_choice")
    first = r.sections[0]
    bad_items = (PaperItem(retired.id, 3.0),) + first.items[1:]
    bad = dataclasses.replace(r, sections=(PaperSection(first.name, bad_items),) + r.sections[1:])
    assert any(v.startswith("statuses") for v in check(bp, POOL, TREE, bad))
    short = dataclasses.replace(r, sections=(PaperSection(first.name, first.items[1:]),) + r.sections[1:])
    assert any(v.startswith("sections[0].count") for v in check(bp, POOL, TREE, short))


def test_portfolio_race_returns_clean_paper() -> None:
    info = InformationTarget(thetas=(-0.5, 0.5), targets=(2.8, 2.8), tolerance=0.05)
    bp = basic_blueprint(information=info, difficulty=DifficultyTarget(mean=0.62, tolerance=0.04))
    r = assemble(bp, POOL, TREE, solver="portfolio")  # type: ignore[arg-type]
    assert_clean(bp, POOL, TREE, r)
    assert r.solver in ("highs", "cpsat") and r.bound <= r.objective


def test_reduced_solve_bound_is_valid_for_the_full_pool() -> None:
    """Subset solves (restricted models) must never report a bound above the full pool's optimum;
    an unreachable target forces the full-LP bound path instead of the tolerance shortcut."""
    pool, tree = small_bank(10000, seed=11)  # 4,160 columns: the 2,000-column subset stage runs
    info = InformationTarget(thetas=(-1.0, 1.0), targets=(12.0, 0.3), tolerance=0.01)  # optimum ~0.132
    bp = basic_blueprint(information=info)
    reduced = assemble(bp, pool, tree, rel_gap=0.0, time_limit=20)
    full = assemble(bp, pool, tree, rel_gap=0.0, reduce=False, time_limit=20)
    assert_clean(bp, pool, tree, reduced)
    assert reduced.objective > 0.05  # the LP-bound path, not the tolerance shortcut
    assert reduced.bound <= full.objective + 1e-6 and full.bound <= reduced.objective + 1e-6


def test_model_check_and_race_agree_on_rows() -> None:
    import numpy as np

    from item_bank.assembly.formulate import build
    from item_bank.assembly.index import pool_index
    from item_bank.assembly.race import race
    from item_bank.assembly.solution import model_violations

    f = build(basic_blueprint(), pool_index(POOL, TREE))
    raw = race(f, "highs", 10.0, 0.0)
    assert raw.x is not None and model_violations(f, raw.x.astype(np.float64)) == 0
    assert model_violations(f, np.zeros(f.n_cols)) > 0  # empty paper breaks the section counts
