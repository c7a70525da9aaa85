"""The common shape every interchange format reads into and writes from.

An importer turns a file into an :class:`ImportReport`: one :class:`ImportOutcome` per item
found, each ``imported`` (as is), ``converted`` (kept, with a note of what changed, e.g. HTML
formatting dropped, a Moodle "shortanswer" mapped to fill_blank) or ``rejected`` (with the
reason and where). One bad item never aborts the file; only an unreadable file raises
:class:`FormatError`.

Stems are plain text. Formulas stay as text (LaTeX such as ``\\(x^2\\)`` is kept verbatim).
Images are carried in ``media`` and referenced from the stem as ``![alt](media:NAME)``.
Gaps of an ``inline_choice`` item and of a fill_blank with several blanks are marked in the stem
as ``[[1]]``, ``[[2]]``, ... (a one-blank fill_blank needs no marker).
``definition`` is already in the grading registry's shape for ``type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

OutcomeStatus = Literal["imported", "converted", "rejected"]


class FormatError(Exception):
    """The file as a whole cannot be read (not XML, not a workbook, too large, unsafe XML)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class MediaFile:
    name: str
    mime_type: str
    data: bytes


@dataclass
class ItemDraft:
    type: str
    stem: str
    definition: dict[str, Any]
    explanation: str | None = None
    title: str | None = None
    # Knowledge points as paths from the root, e.g. ("数学", "函数", "二次函数").
    knowledge_points: list[tuple[str, ...]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    difficulty: float | None = None  # teacher estimate as proportion correct, 0..1
    source: str | None = None
    default_points: float | None = None
    external_id: str | None = None
    media: list[MediaFile] = field(default_factory=list)


@dataclass
class ImportOutcome:
    index: int  # 0-based position of the item in the file
    identifier: str  # what a person recognises: the item's name/id, or "item 7 (line 42)"
    status: OutcomeStatus
    messages: list[str] = field(default_factory=list)
    draft: ItemDraft | None = None  # None when rejected


@dataclass
class ImportReport:
    format: str
    outcomes: list[ImportOutcome] = field(default_factory=list)

    @property
    def drafts(self) -> list[ItemDraft]:
        return [o.draft for o in self.outcomes if o.draft is not None]

    def counts(self) -> dict[str, int]:
        totals = {"imported": 0, "converted": 0, "rejected": 0}
        for outcome in self.outcomes:
            totals[outcome.status] += 1
        return totals
