"""The contract every question type implements, plus shared helpers.

A question type owns exactly one pydantic definition model and three pure
functions over it (validate a response, grade it, build the student view).
Nothing here touches a database or the network, so grading is reproducible
from the stored definition and response alone.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from grading.errors import InvalidDefinition, InvalidResponse
from grading.outcome import Outcome


class StrictModel(BaseModel):
    """Base for definition models.

    ``extra="forbid"`` rejects misspelt fields instead of silently ignoring
    them; ``strict`` stops pydantic coercing ``"1"`` into numbers or ``1`` into
    booleans, which would hide authoring mistakes in answer keys.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


D = TypeVar("D", bound=StrictModel)


class QuestionType(ABC, Generic[D]):
    name: ClassVar[str]
    manual: ClassVar[bool] = False
    model: type[D]

    def parse(self, raw: Any) -> D:
        """Validate a raw definition into the model, or raise InvalidDefinition."""
        if not isinstance(raw, dict):
            raise InvalidDefinition(f"definition: expected an object, got {type(raw).__name__}")
        try:
            definition = self.model.model_validate(raw)
        except ValidationError as exc:
            raise InvalidDefinition(format_validation_error(exc)) from None
        problems = self.check(definition)
        if problems:
            raise InvalidDefinition("; ".join(problems))
        return definition

    def check(self, definition: D) -> list[str]:
        """Cross-field rules pydantic cannot express per field; returns details."""
        return []

    def dump(self, definition: D) -> dict[str, Any]:
        """The normalised, JSON-able form that gets stored."""
        return definition.model_dump(mode="json", exclude_none=True)

    @abstractmethod
    def validate_response(self, definition: D, raw: Any) -> Any:
        """Normalise a raw response; None means blank."""

    @abstractmethod
    def grade(self, definition: D, response: Any) -> Outcome:
        """Grade a response already passed through validate_response."""

    @abstractmethod
    def student_view(self, definition: D) -> dict[str, Any]:
        """The definition minus anything that reveals the key."""


def format_loc(prefix: str, loc: Sequence[int | str]) -> str:
    """('options', 2, 'id') -> 'definition.options[2].id'."""
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def format_validation_error(exc: ValidationError) -> str:
    return "; ".join(f"{format_loc('definition', err['loc'])}: {err['msg']}" for err in exc.errors())


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def require_str(raw: Any, where: str, what: str) -> str:
    if not isinstance(raw, str):
        raise InvalidResponse(f"{where}: expected {what}, got {type_name(raw)}")
    return raw


_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC folds full-width IME input (ＡＢＣ１２３) to ASCII; whitespace runs collapse."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
