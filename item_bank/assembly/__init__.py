"""Automatic paper assembly (机器自动组卷): blueprint + item pool -> verified paper(s).

A pure library: frozen dataclasses in, Result out. See engine.py for the flow and the solver
choice, parallel.py for A/B forms, diagnose.py for infeasibility explanations, check.py for
the independent checker and baselines.py for the random-repair and genetic baselines.
"""

from item_bank.assembly.check import check, overlap
from item_bank.assembly.engine import DEFAULT_SOLVER, assemble
from item_bank.assembly.errors import AssemblyError, BlueprintInvalid, Explanation, Infeasible, SolverFailed
from item_bank.assembly.irt import item_information
from item_bank.assembly.model import (
    Blueprint,
    DifficultyBand,
    DifficultyTarget,
    InformationTarget,
    KnowledgeConstraint,
    KnowledgeTree,
    PaperItem,
    PaperSection,
    PaperStats,
    Pool,
    PoolItem,
    Result,
    Section,
    TypeConstraint,
)

__all__ = [
    "DEFAULT_SOLVER",
    "AssemblyError",
    "Blueprint",
    "BlueprintInvalid",
    "DifficultyBand",
    "DifficultyTarget",
    "Explanation",
    "Infeasible",
    "InformationTarget",
    "KnowledgeConstraint",
    "KnowledgeTree",
    "PaperItem",
    "PaperSection",
    "PaperStats",
    "Pool",
    "PoolItem",
    "Result",
    "Section",
    "SolverFailed",
    "TypeConstraint",
    "assemble",
    "check",
    "item_information",
    "overlap",
]
