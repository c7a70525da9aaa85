"""Column-wise view of a pool (NumPy arrays), built once per (pool, tree) and cached.

Building the formulation from arrays instead of looping over 100k PoolItem objects per
constraint is what keeps a single paper under two seconds.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from item_bank.assembly.model import KnowledgeTree, NodeId, Pool

IntArr = NDArray[np.int64]
FloatArr = NDArray[np.float64]
BoolArr = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class PoolIndex:
    pool: Pool
    tree: KnowledgeTree
    ids: IntArr
    pos_of_id: dict[int, int]
    types: list[str]  # type code -> name
    type_code: IntArr
    difficulty: FloatArr  # NaN when unknown
    irt_a: FloatArr
    irt_b: FloatArr
    time: FloatArr
    points: FloatArr
    status: list[str]  # per item (kept as strings: few distinct values, compared once per filter)
    exposure: IntArr
    recent: BoolArr
    node_items: dict[NodeId, IntArr]  # node -> positions of items counted under it (with descendants)
    enemy_items: dict[str, IntArr]

    def covered(self, node: NodeId) -> IntArr:
        return self.node_items.get(node, np.zeros(0, dtype=np.int64))

    def type_mask(self, names: tuple[str, ...]) -> BoolArr:
        if not names:
            return np.ones(len(self.ids), dtype=bool)
        codes = [self.types.index(t) for t in names if t in self.types]
        return np.isin(self.type_code, codes)


_CACHE: weakref.WeakKeyDictionary[Pool, weakref.WeakKeyDictionary[KnowledgeTree, PoolIndex]] = (
    weakref.WeakKeyDictionary()
)


def pool_index(pool: Pool, tree: KnowledgeTree) -> PoolIndex:
    per_tree = _CACHE.setdefault(pool, weakref.WeakKeyDictionary())
    idx = per_tree.get(tree)
    if idx is None:
        idx = _build(pool, tree)
        per_tree[tree] = idx
    return idx


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _build(pool: Pool, tree: KnowledgeTree) -> PoolIndex:
    items = pool.items
    types: list[str] = sorted({it.type for it in items})
    code = {t: i for i, t in enumerate(types)}
    anc_cache: dict[NodeId, list[NodeId]] = {}
    node_lists: dict[NodeId, list[int]] = {}
    enemy_lists: dict[str, list[int]] = {}
    for pos, it in enumerate(items):
        seen: set[NodeId] = set()
        for kp in it.knowledge_points:
            anc = anc_cache.get(kp)
            if anc is None:
                anc = anc_cache[kp] = tree.ancestors(kp)
            seen.update(anc)
        for node in seen:
            node_lists.setdefault(node, []).append(pos)
        for e in it.enemy_sets:
            enemy_lists.setdefault(e, []).append(pos)
    return PoolIndex(
        pool=pool,
        tree=tree,
        ids=np.fromiter((it.id for it in items), dtype=np.int64, count=len(items)),
        pos_of_id={it.id: p for p, it in enumerate(items)},
        types=types,
        type_code=np.fromiter((code[it.type] for it in items), dtype=np.int64, count=len(items)),
        difficulty=np.fromiter((_nan(it.difficulty) for it in items), dtype=np.float64, count=len(items)),
        irt_a=np.fromiter((_nan(it.irt_a) for it in items), dtype=np.float64, count=len(items)),
        irt_b=np.fromiter((_nan(it.irt_b) for it in items), dtype=np.float64, count=len(items)),
        time=np.fromiter((it.time_seconds for it in items), dtype=np.float64, count=len(items)),
        points=np.fromiter((it.default_points for it in items), dtype=np.float64, count=len(items)),
        status=[it.status for it in items],
        exposure=np.fromiter((it.exposure for it in items), dtype=np.int64, count=len(items)),
        recent=np.fromiter((it.seen_recently_by_class for it in items), dtype=bool, count=len(items)),
        node_items={k: np.asarray(v, dtype=np.int64) for k, v in node_lists.items()},
        enemy_items={k: np.asarray(v, dtype=np.int64) for k, v in enemy_lists.items()},
    )
