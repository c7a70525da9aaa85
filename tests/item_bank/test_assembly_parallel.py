from __future__ import annotations

from item_bank.assembly import (
    Blueprint,
    DifficultyTarget,
    InformationTarget,
    KnowledgeConstraint,
    Section,
    assemble,
    check,
    overlap,
)
from item_bank.assembly.baselines import genetic, random_repair
from item_bank.assembly.formulate import build
from item_bank.assembly.index import pool_index
from item_bank.assembly.parallel import assemble_parallel
from item_bank.assembly.synthetic import small_bank

POOL, TREE = small_bank(1500, seed=5)
BP = Blueprint(
    sections=(Section("选择题", 8, ("single_choice",), 3.0), Section("填空题", 4, ("fill_blank",), 4.0)),
    knowledge_points=(KnowledgeConstraint("0", min_count=3),),
    difficulty=DifficultyTarget(mean=0.62, tolerance=0.04),
    information=InformationTarget(thetas=(-0.5, 0.5), targets=(2.4, 2.4), tolerance=0.05),
)


def test_parallel_forms_disjoint_and_clean() -> None:
    pr = assemble_parallel(BP, POOL, TREE, 4, time_limit=40)
    assert len(pr.forms) == 4 and pr.max_overlap == 0
    assert overlap(pr.forms) == 0
    for r in pr.forms:
        assert check(BP, POOL, TREE, r) == []
        assert r.gap <= 0.05


def test_parallel_fixed_items_are_anchors() -> None:
    anchor = next(it.id for it in POOL.items if it.type == "fill_blank" and it.status == "reviewed"
                  and not it.seen_recently_by_class and not it.enemy_sets)
    bp = Blueprint(sections=BP.sections, information=BP.information, fixed_items=(anchor,))
    pr = assemble_parallel(bp, POOL, TREE, 3, time_limit=30)
    assert all(anchor in r.item_ids() for r in pr.forms)
    assert overlap(pr.forms, exempt=(anchor,)) == 0
    assert all(check(bp, POOL, TREE, r) == [] for r in pr.forms)


def test_baselines_return_full_papers_no_better_than_mip() -> None:
    f = build(BP, pool_index(POOL, TREE))
    best = assemble(BP, POOL, TREE)
    for cols in (random_repair(f, 0.5), genetic(f, 0.5)):
        assert len(cols) == 12
        assert all(0 <= c < f.n_cols for c in cols.tolist())
    assert best.objective <= 0.05 + 1e-9


def test_lazy_shadow_test_sees_a_pool_that_cannot_carry_more_forms() -> None:
    import numpy as np

    from item_bank.assembly.parallel import _shadow_ok

    f = build(BP, pool_index(POOL, TREE))
    raw = assemble(BP, POOL, TREE)
    x = np.zeros(f.n_cols, dtype=np.int64)
    x[np.isin(f.index.ids[f.col_pos], raw.item_ids())] = 1
    uses_left = np.ones(len(f.index.ids), dtype=np.int64)
    fixed = np.zeros(len(f.index.ids), dtype=bool)
    assert _shadow_ok(f, x, 1, uses_left, fixed, raw.objective, 0, 5.0)
    assert not _shadow_ok(f, x, 400, uses_left, fixed, raw.objective, 0, 5.0)  # 400 x 12 items > bank
