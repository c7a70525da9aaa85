from __future__ import annotations

import pytest

from item_bank.assembly import (
    Blueprint,
    BlueprintInvalid,
    DifficultyTarget,
    Infeasible,
    InformationTarget,
    KnowledgeConstraint,
    KnowledgeTree,
    Pool,
    PoolItem,
    Section,
    TypeConstraint,
    assemble,
)
from item_bank.assembly.synthetic import small_bank

POOL, TREE = small_bank()
QTREE = KnowledgeTree({"algebra": None, "quadratic": "algebra"}, {"quadratic": "二次函数", "algebra": "代数"})


def _quadratic_pool() -> Pool:
    items = [PoolItem(i, "fill_blank", ("quadratic",), status="reviewed" if i <= 3 else "draft") for i in range(1, 7)]
    items += [PoolItem(i, "single_choice", ("quadratic",)) for i in range(10, 30)]
    return Pool(tuple(items))


def test_precheck_names_constraint_and_numbers() -> None:
    bp = Blueprint(sections=(Section("填空", 5, ("fill_blank",), 4.0), Section("选择", 5, ("single_choice",), 3.0)),
                   knowledge_points=(KnowledgeConstraint("quadratic", min_count=5, types=("fill_blank",)),))
    with pytest.raises(Infeasible) as err:
        assemble(bp, _quadratic_pool(), QTREE)
    ex = {e.constraint: e for e in err.value.explanations}
    kp = ex["knowledge_points[0].min_count"]
    assert (kp.available, kp.needed) == (3, 5)
    assert "only 3 usable reviewed items fill_blank on 二次函数; you asked for 5" in kp.en
    assert "二次函数" in kp.zh and "3" in kp.zh and "5" in kp.zh
    assert ex["sections[0].count"].available == 3


def test_joint_conflict_found_by_deletion_filter() -> None:
    bp = Blueprint(sections=(Section("A", 6, ("single_choice",), 2.0), Section("B", 4, ("short_answer",), 5.0)),
                   types=(TypeConstraint("short_answer", max_count=3),), max_time_seconds=99999)
    with pytest.raises(Infeasible) as err:
        assemble(bp, POOL, TREE)
    (only,) = err.value.explanations
    assert set(only.constraint.split(",")) == {"sections[1].count", "types[0].max_count"}
    assert "exactly 4" in only.en and "at most 3" in only.en and "至多 3" in only.zh


def test_time_budget_precheck() -> None:
    bp = Blueprint(sections=(Section("作文", 3, ("essay",), 20.0),), max_time_seconds=600)
    with pytest.raises(Infeasible) as err:
        assemble(bp, POOL, TREE)
    e = err.value.explanations[0]
    fastest = sum(sorted(it.time_seconds for it in POOL.items if it.type == "essay" and it.status == "reviewed"
                         and not it.seen_recently_by_class)[:3])
    assert e.constraint == "max_time_seconds" and e.needed == fastest and e.available == 600
    assert f"{fastest / 60:g} minutes" in e.en and "10 minutes" in e.en and "10 分钟" in e.zh


def test_fixed_item_filtered_out_is_explained() -> None:
    draft = next(it for it in POOL.items if it.status == "draft" and it.type == "single_choice")
    bp = Blueprint(sections=(Section("A", 3, ("single_choice",), 2.0),), fixed_items=(draft.id, 10**9))
    with pytest.raises(Infeasible) as err:
        assemble(bp, POOL, TREE)
    assert err.value.constraints == ["fixed_items[0]", "fixed_items[1]"]
    assert "is draft" in err.value.explanations[0].en and "not in the bank" in err.value.explanations[1].en


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"sections": ()}, "sections"),
        ({"sections": (Section("A", -1),)}, "sections[0].count"),
        ({"total_items": 7}, "total_items"),
        ({"total_score": 11.0}, "total_score"),
        ({"knowledge_points": (KnowledgeConstraint("nope", min_count=1),)}, "knowledge_points[0].node"),
        ({"knowledge_points": (KnowledgeConstraint("0", min_count=5, max_count=2),)}, "knowledge_points[0].min_count"),
        ({"knowledge_points": (KnowledgeConstraint("0", max_share=1.5),)}, "knowledge_points[0].max_share"),
        ({"difficulty": DifficultyTarget(mean=1.5)}, "difficulty.mean"),
        ({"information": InformationTarget((0.0, 1.0), (1.0,))}, "information.targets"),
        ({"objective": "information"}, "objective"),
        ({"max_time_seconds": 0.0}, "max_time_seconds"),
        ({"fixed_items": (1, 1)}, "fixed_items"),
        ({"statuses": ()}, "statuses"),
    ],
)
def test_invalid_blueprint_names_field(kw: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"sections": (Section("A", 3, ("single_choice",), 2.0),)}
    base.update(kw)
    with pytest.raises(BlueprintInvalid) as err:
        assemble(Blueprint(**base), POOL, TREE)  # type: ignore[arg-type]
    assert err.value.field == field


def test_elastic_lp_does_not_break_later_single_thread_solves() -> None:
    """HiGHS fixes its global thread scheduler on the first run: the elastic LP used to run with all
    cores and every later threads=1 feasibility test then failed (the deletion filter got nothing)."""
    from dataclasses import replace

    from item_bank.assembly.diagnose import elastic_support
    from item_bank.assembly.formulate import build
    from item_bank.assembly.index import pool_index
    from item_bank.assembly.solve_highs import solve_highs

    bp = Blueprint(sections=(Section("简答题", 3, ("short_answer",), 5.0),),
                   types=(TypeConstraint("short_answer", max_count=2),))
    f = replace(build(bp, pool_index(POOL, TREE)), dev=[], kind="none")
    assert elastic_support(f)
    assert solve_highs(f, 5.0, 1.0, active={0}).status == "optimal"
