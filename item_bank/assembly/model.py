"""Plain frozen types in and out of the assembly engine (no database, no HTTP).

Difficulty is a proportion-correct ``p`` in [0, 1] (higher = easier). IRT parameters are 2PL on the
logistic metric (D = 1). Knowledge-point ids are opaque hashables (int or str); a constraint on a
node counts every item tagged to that node or to any of its descendants, each item once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

NodeId = int | str
Objective = Literal["auto", "information", "difficulty", "none"]
Status = Literal["optimal", "feasible", "time_limit"]


@dataclass(frozen=True)
class PoolItem:
    id: int
    type: str
    knowledge_points: tuple[NodeId, ...] = ()
    difficulty: float | None = None
    irt_a: float | None = None
    irt_b: float | None = None
    time_seconds: float = 60.0
    status: str = "reviewed"
    exposure: int = 0
    seen_recently_by_class: bool = False
    enemy_sets: tuple[str, ...] = ()
    default_points: float = 1.0


@dataclass(frozen=True, eq=False)
class Pool:
    """The bank. ``eq=False``: identity hashing, so a derived index can be cached per pool."""

    items: tuple[PoolItem, ...]


@dataclass(frozen=True, eq=False)
class KnowledgeTree:
    parents: Mapping[NodeId, NodeId | None]
    names: Mapping[NodeId, str] = field(default_factory=dict)

    def name(self, node: NodeId) -> str:
        return self.names.get(node, str(node))

    def ancestors(self, node: NodeId) -> list[NodeId]:
        """The node itself and every ancestor up to the root (cycle-safe)."""
        out: list[NodeId] = []
        cur: NodeId | None = node
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.parents.get(cur)
        return out


@dataclass(frozen=True)
class Section:
    name: str
    count: int
    types: tuple[str, ...] = ()  # empty: any type
    points_per_item: float | None = None
    total_points: float | None = None  # alternative to points_per_item: split evenly

    def item_points(self) -> float | None:
        """Fixed points per item, or None when each item keeps its own default_points."""
        if self.points_per_item is not None:
            return self.points_per_item
        if self.total_points is not None and self.count > 0:
            return self.total_points / self.count
        return None


@dataclass(frozen=True)
class KnowledgeConstraint:
    node: NodeId
    min_count: int | None = None
    max_count: int | None = None
    min_share: float | None = None  # share of the total score, 0..1
    max_share: float | None = None
    types: tuple[str, ...] = ()  # count only items of these types (empty: all)


@dataclass(frozen=True)
class TypeConstraint:
    type: str
    min_count: int | None = None
    max_count: int | None = None
    min_points: float | None = None
    max_points: float | None = None


@dataclass(frozen=True)
class DifficultyBand:
    name: str  # e.g. "easy"
    low: float  # p in [low, high); the last band may use high = 1.0 inclusive
    high: float
    min_count: int | None = None
    max_count: int | None = None


@dataclass(frozen=True)
class DifficultyTarget:
    mean: float | None = None  # mean p over the paper's items
    tolerance: float = 0.05
    bands: tuple[DifficultyBand, ...] = ()


@dataclass(frozen=True)
class InformationTarget:
    thetas: tuple[float, ...]
    targets: tuple[float, ...]
    tolerance: float = 0.0  # deviations up to this are equally good (TestDesign's obj_tol)
    max_deviation: float | None = None  # optional hard limit


@dataclass(frozen=True)
class Blueprint:
    sections: tuple[Section, ...]
    total_items: int | None = None
    total_score: float | None = None
    knowledge_points: tuple[KnowledgeConstraint, ...] = ()
    types: tuple[TypeConstraint, ...] = ()
    difficulty: DifficultyTarget | None = None
    information: InformationTarget | None = None
    max_time_seconds: float | None = None
    enemy_sets: tuple[tuple[int, ...], ...] = ()  # extra enemy groups by item id
    max_exposure: int | None = None
    exclude_seen_recently: bool = True
    fixed_items: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ("reviewed",)
    objective: Objective = "auto"

    def objective_kind(self) -> Literal["information", "difficulty", "none"]:
        if self.objective != "auto":
            return self.objective
        if self.information is not None:
            return "information"
        if self.difficulty is not None and self.difficulty.mean is not None:
            return "difficulty"
        return "none"

    def n_items(self) -> int:
        return sum(s.count for s in self.sections)


@dataclass(frozen=True)
class PaperItem:
    item_id: int
    points: float


@dataclass(frozen=True)
class PaperSection:
    name: str
    items: tuple[PaperItem, ...]


@dataclass(frozen=True)
class PaperStats:
    n_items: int
    total_score: float
    mean_difficulty: float | None
    information: tuple[float, ...]
    knowledge_counts: Mapping[NodeId, int]
    time_seconds: float


@dataclass(frozen=True)
class Result:
    sections: tuple[PaperSection, ...]
    objective: float  # information: max |I(theta) - target|; difficulty: |mean p - target|
    bound: float  # proven lower bound on the objective
    gap: float  # (objective - bound) / objective, 0 when equal
    solver: str
    seconds: float
    status: Status
    stats: PaperStats
    objective_kind: str = "none"

    def item_ids(self) -> list[int]:
        return [it.item_id for s in self.sections for it in s.items]


def relative_gap(objective: float, bound: float) -> float:
    diff = objective - bound
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9)
