"""Automatic paper assembly (机器自动组卷) over HTTP: a blueprint in, the best paper(s) the bank
allows out, with objective, bound, gap and the checker's verdict; or, when the bank cannot meet
the blueprint, the conflicting requirements in words (422 ``Infeasible`` with ``explanations``).

The preview is not stored; the page saves the chosen form with ``POST /api/papers``.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.api import bounds
from exam_server.deps import PapersDep, RuntimeDep
from item_bank import assembly as asm
from item_bank.assembly.parallel import assemble_parallel
from item_bank.bank_pool import load_pool, load_tree
from item_bank.items import knowledge_points_of
from models import Item

router = APIRouter(prefix="/api/assembly", tags=["paper assembly"])


class SectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    count: int = Field(ge=1, le=500)
    types: list[str] = Field(default_factory=list, description="allowed item types; empty = any")
    points_per_item: float | None = Field(None, gt=0, le=bounds.MAX_POINTS)
    total_points: float | None = Field(None, gt=0, le=bounds.MAX_TOTAL_POINTS)


class KnowledgeIn(BaseModel):
    node: int = Field(description="knowledge point id; items anywhere below it count")
    min_count: int | None = Field(None, ge=0)
    max_count: int | None = Field(None, ge=0)
    min_share: float | None = Field(None, ge=0, le=1, description="share of the total score")
    max_share: float | None = Field(None, ge=0, le=1)
    types: list[str] = Field(default_factory=list)


class TypeIn(BaseModel):
    type: str
    min_count: int | None = Field(None, ge=0)
    max_count: int | None = Field(None, ge=0)
    min_points: float | None = Field(None, ge=0, le=bounds.MAX_TOTAL_POINTS)
    max_points: float | None = Field(None, ge=0, le=bounds.MAX_TOTAL_POINTS)


class BandIn(BaseModel):
    name: str
    low: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)
    min_count: int | None = Field(None, ge=0)
    max_count: int | None = Field(None, ge=0)


class DifficultyIn(BaseModel):
    mean: float | None = Field(None, ge=0, le=1, description="target mean share correct")
    tolerance: float = Field(0.05, ge=0, le=1)
    bands: list[BandIn] = Field(default_factory=list)


class InformationIn(BaseModel):
    thetas: list[Annotated[float, Field(ge=-bounds.MAX_ABS_THETA, le=bounds.MAX_ABS_THETA)]] = Field(
        min_length=1, max_length=15)
    targets: list[Annotated[float, Field(ge=0, le=bounds.MAX_INFORMATION)]] = Field(min_length=1, max_length=15)
    tolerance: float = Field(0.0, ge=0, le=bounds.MAX_INFORMATION)
    max_deviation: float | None = Field(None, ge=0, le=bounds.MAX_INFORMATION)


class BlueprintIn(BaseModel):
    sections: list[SectionIn] = Field(min_length=1, max_length=20)
    total_items: int | None = Field(None, ge=1)
    total_score: float | None = Field(None, gt=0, le=bounds.MAX_TOTAL_POINTS)
    knowledge_points: list[KnowledgeIn] = Field(default_factory=list)
    types: list[TypeIn] = Field(default_factory=list)
    difficulty: DifficultyIn | None = None
    information: InformationIn | None = None
    max_time_seconds: float | None = Field(None, gt=0, le=bounds.MAX_PAPER_SECONDS)
    enemy_sets: list[list[int]] = Field(default_factory=list,
                                        description="extra groups of items that exclude each other")
    max_exposure: int | None = Field(None, ge=0)
    exclude_seen_recently: bool = True
    fixed_items: list[int] = Field(default_factory=list)
    statuses: list[str] = Field(default_factory=lambda: ["reviewed"])
    objective: Literal["auto", "information", "difficulty", "none"] = "auto"

    def to_blueprint(self) -> asm.Blueprint:
        difficulty = None
        if self.difficulty is not None:
            bands = tuple(asm.DifficultyBand(**b.model_dump()) for b in self.difficulty.bands)
            difficulty = asm.DifficultyTarget(self.difficulty.mean, self.difficulty.tolerance, bands)
        information = None
        if self.information is not None:
            info = self.information
            information = asm.InformationTarget(tuple(info.thetas), tuple(info.targets), info.tolerance,
                                                info.max_deviation)
        return asm.Blueprint(
            sections=tuple(asm.Section(s.name, s.count, tuple(s.types), s.points_per_item, s.total_points)
                           for s in self.sections),
            total_items=self.total_items, total_score=self.total_score,
            knowledge_points=tuple(asm.KnowledgeConstraint(k.node, k.min_count, k.max_count, k.min_share,
                                                           k.max_share, tuple(k.types)) for k in self.knowledge_points),
            types=tuple(asm.TypeConstraint(**t.model_dump()) for t in self.types),
            difficulty=difficulty, information=information, max_time_seconds=self.max_time_seconds,
            enemy_sets=tuple(tuple(group) for group in self.enemy_sets), max_exposure=self.max_exposure,
            exclude_seen_recently=self.exclude_seen_recently, fixed_items=tuple(self.fixed_items),
            statuses=tuple(self.statuses), objective=self.objective,
        )


class AssemblyIn(BaseModel):
    blueprint: BlueprintIn
    forms: int = Field(1, ge=1, le=20, description="parallel forms (A/B卷…) with no shared items")
    class_id: int | None = Field(None, description="leave out items this class saw recently")
    recent_days: int = Field(180, ge=1, le=3650)
    solver: Literal["highs", "cpsat"] = "highs"
    time_limit_seconds: float = Field(20.0, gt=0, le=120)


class ItemSummary(BaseModel):
    item_id: int
    points: float
    type: str
    stem: str
    difficulty: float | None
    knowledge_point_ids: list[int]


class FormSection(BaseModel):
    name: str
    items: list[ItemSummary]


class FormOut(BaseModel):
    sections: list[FormSection]
    objective_kind: str
    objective: float
    bound: float
    gap: float
    solver: str
    seconds: float
    status: str
    stats: dict[str, Any]
    violations: list[str] = Field(description="the independent checker's findings (empty: every constraint holds)")


class AssemblyOut(BaseModel):
    forms: list[FormOut]
    overlap: int
    seconds: float


@router.post("/preview")
def preview(body: AssemblyIn, user: PapersDep, runtime: RuntimeDep) -> AssemblyOut:
    """Read-only, however long the solver runs: it holds no transaction (nor SQLite's write lock)."""
    blueprint = body.blueprint.to_blueprint()
    with runtime.read_session() as session:
        pool = load_pool(session, body.class_id, runtime.clock(), body.recent_days,
                         visible=permissions.items_clause(user, runtime.clock()))
        tree = load_tree(session)
    results: tuple[asm.Result, ...]
    if body.forms == 1:
        result = asm.assemble(blueprint, pool, tree, solver=body.solver, time_limit=body.time_limit_seconds)
        results, seconds = (result,), result.seconds
    else:
        many = assemble_parallel(blueprint, pool, tree, body.forms, solver=body.solver,
                                 time_limit=body.time_limit_seconds)
        results, seconds = many.forms, many.seconds
    with runtime.read_session() as session:
        forms = [_form(session, r, asm.check(blueprint, pool, tree, r)) for r in results]
    return AssemblyOut(forms=forms, overlap=asm.overlap(results, blueprint.fixed_items), seconds=seconds)


def _form(session: Session, result: asm.Result, violations: list[str]) -> FormOut:
    ids = result.item_ids()
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))}
    points = knowledge_points_of(session, ids)
    sections = [FormSection(name=s.name, items=[_summary(items[p.item_id], p.points, points[p.item_id])
                                                for p in s.items]) for s in result.sections]
    stats = result.stats
    return FormOut(sections=sections, objective_kind=result.objective_kind, objective=result.objective,
                   bound=result.bound, gap=result.gap, solver=result.solver, seconds=result.seconds,
                   status=result.status, violations=violations, stats={
                       "n_items": stats.n_items, "total_score": stats.total_score,
                       "mean_difficulty": stats.mean_difficulty, "information": list(stats.information),
                       "knowledge_counts": {str(k): v for k, v in stats.knowledge_counts.items()},
                       "time_seconds": stats.time_seconds})


def _summary(item: Item, points: float, knowledge: list[int]) -> ItemSummary:
    difficulty = item.p_value if item.p_value is not None else item.difficulty_estimate
    return ItemSummary(item_id=item.id, points=points, type=item.type, stem=item.stem, difficulty=difficulty,
                       knowledge_point_ids=knowledge)
