"""Exception tree of the grading library.

Every error carries a ``detail`` string that names both the problem and where
it is (``definition.options[2].id: duplicate option id 'B'``), because the
messages are shown verbatim to item authors and API clients.
"""

from __future__ import annotations


class GradingError(Exception):
    """Root of every error raised by :mod:`grading`."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self._detail = detail

    @property
    def detail(self) -> str:
        return self._detail

    def __str__(self) -> str:
        return self._detail


class UnknownItemType(GradingError):
    """The item type is not registered; the message lists the known types."""


class InvalidDefinition(GradingError):
    """An item definition does not match its type's schema."""


class InvalidResponse(GradingError):
    """A student's response cannot be interpreted for this item."""


class ResponseTooLarge(GradingError):
    """A response is longer than its type's limit (see :mod:`grading.limits`); the detail names the part."""


class InvalidMark(GradingError):
    """A human's mark (or a proposed one) does not fit the item: outside 0..points, off the score
    step, or not one mark per rubric criterion; the detail names the mark and the allowed values."""
