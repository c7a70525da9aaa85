"""Seeded synthetic banks for tests and the bench (not used by the engine itself)."""

from __future__ import annotations

import numpy as np

from item_bank.assembly.model import KnowledgeTree, NodeId, Pool, PoolItem

TYPES = ("single_choice", "multiple_choice", "true_false", "fill_blank", "short_answer", "essay")
_TIME = {"single_choice": 60, "multiple_choice": 90, "true_false": 30, "fill_blank": 90,
         "short_answer": 300, "essay": 900}
_POINTS = {"single_choice": 3, "multiple_choice": 4, "true_false": 2, "fill_blank": 4,
           "short_answer": 10, "essay": 20}


def make_tree(roots: int = 5, children: int = 6, leaves: int = 6, limit: int = 200) -> KnowledgeTree:
    """Three levels: ids "r", "r.c", "r.c.l"; stops at ``limit`` nodes."""
    parents: dict[NodeId, NodeId | None] = {}
    for r in range(roots):
        parents[f"{r}"] = None
    for r in range(roots):
        for c in range(children):
            parents[f"{r}.{c}"] = f"{r}"
    for r in range(roots):
        for c in range(children):
            for leaf in range(leaves):
                if len(parents) < limit:
                    parents[f"{r}.{c}.{leaf}"] = f"{r}.{c}"
    names = {k: f"KP{k}" for k in parents}
    return KnowledgeTree(parents, names)


def leaves(tree: KnowledgeTree) -> list[NodeId]:
    inner = {p for p in tree.parents.values() if p is not None}
    return [n for n in tree.parents if n not in inner]


def make_pool(n: int, tree: KnowledgeTree, seed: int = 0, enemy_share: float = 0.05,
              types: tuple[str, ...] = TYPES) -> Pool:
    rng = np.random.default_rng(seed)
    lv = leaves(tree)
    kind = rng.integers(0, len(types), n)
    kp1, kp2 = rng.integers(0, len(lv), n), rng.integers(0, len(lv), n)
    two = rng.random(n) < 0.3
    p = np.clip(rng.beta(4, 2.5, n), 0.02, 0.98)
    a = np.clip(rng.lognormal(0.0, 0.3, n), 0.3, 2.5)
    b = np.clip(-np.log(p / (1 - p)) / 1.2 + rng.normal(0, 0.3, n), -3.5, 3.5)
    status = rng.choice(["reviewed", "draft", "retired"], n, p=[0.85, 0.1, 0.05])
    exposure = rng.poisson(3, n)
    recent = rng.random(n) < 0.03
    enemy = np.full(n, -1)
    n_enemy = int(n * enemy_share)
    members = rng.choice(n, n_enemy, replace=False)
    enemy[members] = rng.integers(0, max(1, n_enemy // 2), n_enemy)
    speed = rng.uniform(0.7, 1.3, n)  # per-item time varies so a time budget actually binds
    items = []
    for i in range(n):
        t = types[kind[i]]
        kps = (lv[kp1[i]], lv[kp2[i]]) if two[i] and kp1[i] != kp2[i] else (lv[kp1[i]],)
        items.append(PoolItem(
            id=i + 1, type=t, knowledge_points=kps, difficulty=round(float(p[i]), 3),
            irt_a=round(float(a[i]), 3), irt_b=round(float(b[i]), 3),
            time_seconds=float(round(_TIME.get(t, 60) * speed[i])), status=str(status[i]), exposure=int(exposure[i]),
            seen_recently_by_class=bool(recent[i]),
            enemy_sets=(f"E{enemy[i]}",) if enemy[i] >= 0 else (), default_points=float(_POINTS.get(t, 2)),
        ))
    return Pool(tuple(items))


def small_bank(n: int = 900, seed: int = 3) -> tuple[Pool, KnowledgeTree]:
    """A few hundred items on a 39-node tree: fast enough for unit tests."""
    tree = make_tree(roots=3, children=3, leaves=3, limit=40)
    return make_pool(n, tree, seed=seed, enemy_share=0.1), tree
