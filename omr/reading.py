"""What reading a page gives: per field a value, its interpretation and a confidence, and the
issues that send the page to a person. Plain data; the service maps it to responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from omr.layout import SheetLayout
from omr.sheet_code import SheetCode


class IssueCode(StrEnum):
    """Why a page (or one field of it) waits for a person. The Chinese names are those of the
    scanning clients our users know (定位异常, 考号异常, ...)."""

    UNREADABLE_FILE = "unreadable_file"  # 图像异常: not an image, corrupt, truncated, too large
    UNUSABLE_IMAGE = "unusable_image"  # 图像异常: blank page, too small, too blurred
    CANNOT_LOCATE = "cannot_locate"  # 定位异常: markers / page not found
    WRONG_EXAM = "wrong_exam"  # the QR names another exam
    WRONG_PAGE = "wrong_page"  # a page of another form, or a page number the sheet does not have
    ID_UNREADABLE = "id_unreadable"  # 考号异常: a digit blank, double-marked or faint
    ID_NOT_ON_ROSTER = "id_not_on_roster"  # 考号异常: read, but nobody on the roster has it
    ID_DUPLICATED = "id_duplicated"  # 考号重复: another sheet already carries this number
    ABSENT_WITH_ANSWERS = "absent_with_answers"  # 缺考 marked, yet answers are filled
    MULTIPLE_MARKS = "multiple_marks"  # 客观题异常: more than one mark on a single-answer item
    AMBIGUOUS_MARK = "ambiguous_mark"  # 客观题异常: a faint or half-erased mark that decides the answer


# Issues that stop the page as a whole; the others concern one field and leave the rest usable.
PAGE_ISSUES = frozenset({IssueCode.UNREADABLE_FILE, IssueCode.UNUSABLE_IMAGE, IssueCode.CANNOT_LOCATE,
                         IssueCode.WRONG_EXAM, IssueCode.WRONG_PAGE, IssueCode.ID_UNREADABLE,
                         IssueCode.ID_NOT_ON_ROSTER, IssueCode.ID_DUPLICATED, IssueCode.ABSENT_WITH_ANSWERS})


@dataclass(frozen=True)
class Issue:
    code: IssueCode
    reason: str  # English, for logs and the API's ``detail``; pages show a localised text by code
    field: str | None = None  # the field concerned, when it is one field


class BubbleState(StrEnum):
    BLANK = "blank"
    MARKED = "marked"
    FAINT = "faint"  # darker than blank, lighter than a mark: light pencil, or an erasure's ghost
    ERASED = "erased"  # a rubbed-out mark next to a clear mark in the same field


class FieldStatus(StrEnum):
    OK = "ok"  # one clear answer (or, on a multiple-answer item, a clear set)
    BLANK = "blank"  # nothing marked
    MULTIPLE = "multiple"  # more than one mark where one is allowed
    AMBIGUOUS = "ambiguous"  # a faint mark decides the answer: a person looks


@dataclass(frozen=True)
class FieldReading:
    block: str
    field: str
    value: str  # the marked labels in label order ("B", "AC", "" for none, digits for an ID digit)
    status: FieldStatus
    confidence: float  # 0..1: how far the decisive fills are from the decision boundary
    fills: dict[str, float]  # label -> darkness above the sheet's blank level, 0..1
    states: dict[str, BubbleState]


@dataclass
class PageReading:
    """One page read. ``image`` is the rectified page (grey, ``px_per_mm`` pixels per mm) that
    crops and overlays are cut from; ``rotation`` is how the scan was turned (0, 90, 180, 270)."""

    layout_name: str
    page_no: int
    code: SheetCode | None
    rotation: int
    px_per_mm: float
    image: np.ndarray
    fields: list[FieldReading] = field(default_factory=list)
    admission_no: str | None = None
    admission_confidence: float = 0.0
    absent: bool = False
    issues: list[Issue] = field(default_factory=list)
    # Quality figures for the record: sharpness (variance of Laplacian), blank level, mark level.
    quality: dict[str, float] = field(default_factory=dict)
    # The layout the page was read with (for overlays and crops by region id); None when not known.
    layout: SheetLayout | None = None

    @property
    def blocked(self) -> bool:
        return any(issue.code in PAGE_ISSUES for issue in self.issues)

    def answers(self) -> dict[str, FieldReading]:
        """Question fields (not ID digits or the absent mark) by field name."""
        return {f.field: f for f in self.fields}

    def crop(self, x: float, y: float, width: float, height: float) -> np.ndarray:
        """A region (mm) of the rectified page."""
        s = self.px_per_mm
        x0, y0 = max(0, int(round(x * s))), max(0, int(round(y * s)))
        return self.image[y0:int(round((y + height) * s)), x0:int(round((x + width) * s))].copy()


@dataclass(frozen=True)
class PageFailure:
    """A page that could not be read at all (the file, the image or locating failed)."""

    source: str  # file name, with "#page" for multi-page files
    issue: Issue
