"""AssemblyError (an ItemBankError, so the HTTP layer maps it like the rest of the item bank)
├── BlueprintInvalid   the blueprint itself is malformed; ``field`` names the offending field
├── Infeasible         the bank cannot satisfy the blueprint; ``explanations`` say why (zh + en)
└── SolverFailed       the solver stopped without a usable paper (time limit, numerical trouble)
"""

from __future__ import annotations

from dataclasses import dataclass

from item_bank.errors import ItemBankError


@dataclass(frozen=True)
class Explanation:
    """One reason a blueprint cannot be met, in words a teacher understands."""

    constraint: str  # stable key of the requirement, e.g. "sections[1].count" or "knowledge_points[0].min_count"
    en: str
    zh: str
    needed: float | None = None
    available: float | None = None


class AssemblyError(ItemBankError):
    pass


class BlueprintInvalid(AssemblyError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Infeasible(AssemblyError):
    def __init__(self, explanations: list[Explanation]) -> None:
        super().__init__("; ".join(e.en for e in explanations) or "the blueprint cannot be met")
        self.explanations = explanations

    @property
    def constraints(self) -> list[str]:
        return [e.constraint for e in self.explanations]


class SolverFailed(AssemblyError):
    pass
