"""Our own answer sheet (答题卡), laid out from the paper: the input is what the paper asks
(questions by kind), the output one SheetLayout per page. The PDF is drawn from these layouts
and they are stored, so reading never needs a hand-written template.

:func:`design_sheet` is written by the printing work; the spec below is the shared contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class QuestionKind(StrEnum):
    SINGLE = "single"  # single choice: one bubble row A B C D ...
    MULTIPLE = "multiple"  # multiple response: same row, several may be filled
    TRUE_FALSE = "true_false"  # a row of two bubbles labelled T F (printed 对 错)
    FILL_IN = "fill_in"  # one boxed region per blank
    SUBJECTIVE = "subjective"  # a boxed answer region of ``lines`` ruled lines


@dataclass(frozen=True)
class QuestionSpec:
    number: str  # as printed: "1", "2", ... (the paper's order, not a candidate's variant)
    kind: QuestionKind
    options: int = 0  # choice kinds: how many options (labels A, B, ...)
    blanks: int = 0  # fill-in: how many blanks
    lines: int = 0  # subjective: answer space in ruled lines (about 8 mm each)
    slot_id: int | None = None  # the paper slot, carried into AnswerSheet.question_map


@dataclass(frozen=True)
class SheetSpec:
    title: str
    exam_id: int
    form: str | None  # the form label (A卷/B卷), None for a single-form exam
    admission_digits: int  # length of the admission numbers (a bubble column per digit)
    questions: list[QuestionSpec] = field(default_factory=list)
    paper_size: str = "A4"  # "A4" or "A3" (A3 two columns)
