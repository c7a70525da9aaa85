"""Our own answer sheet (答题卡), laid out from the paper: the input is what the paper asks
(questions by kind), the output one SheetLayout per page. The PDF is drawn from these layouts
and they are stored, so reading never needs a hand-written template.

What a page holds (millimetres, origin top-left, like every layout):

* four square corner markers (6 mm, centres 12 mm from the edges) and a QR box (24 mm) at the top
  right of every page, with a clear zone of at least 3 mm around each of them;
* on page 1: the admission-number grid (one ``DIGITS`` block, a column per digit, 0-9 down,
  fields ``d1``..``dN``), the name box (a ``NAME`` region), the absent (缺考) bubble (an ``ABSENT``
  block, one bubble, field ``absent``, label ``X``) and the notes (an ``OTHER`` region ``notes``
  where the instructions and a fill example are printed);
* the objective questions in bubble blocks of at most :data:`ROWS_PER_BLOCK` rows, several
  blocks side by side as Chinese 答题卡 do (one block per run of questions of the same kind);
* a boxed region per fill-in blank (field ``"13.1"``), then one per subjective question (field
  ``"14"``), sized by its lines; a region taller than the room left flows on and a region taller
  than a whole column is split into parts (ids ``s14``, ``s14-p2``, same field).

A4 portrait has one column of content; A3 landscape two. Everything the PDF prints besides the
layout's own elements (question numbers, block frames, headings) is placed relative to them by
the helpers below (:func:`block_frame`, :data:`NUMBER_COLUMN` ...), so a stored layout can be
printed again exactly, whatever later versions of this module would design.

Pure: no drawing library here (``exam_server.printing.answer_sheet`` draws the PDF)."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from enum import StrEnum

from omr.layout import (
    Alignment,
    BlockKind,
    BubbleBlock,
    Direction,
    Marker,
    PageSize,
    QrBox,
    Region,
    RegionKind,
    SheetLayout,
)


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


# ---- geometry (mm) ---------------------------------------------------------------------------

MARKER_SIZE = 6.0
MARKER_INSET = 12.0  # marker centre from the page edges (its outer edge 9 mm in)
QR_SIZE = 24.0
QR_TOP = 10.0
QR_RIGHT = 20.0  # from the right edge to the QR box's right side
CLEAR = 3.0  # nothing of the layout within this distance of a marker or the QR box
MARGIN_X = 18.0  # content from the left and right edges
CONTENT_TOP = 38.0  # below the QR box and the title, on every page and column
CONTENT_BOTTOM_GAP = 19.0  # content ends this far above the bottom edge (the markers are below)
COLUMN_GAP = 12.0  # between the two columns of an A3 sheet

BUBBLE_W = 5.0
BUBBLE_H = 3.0
PITCH_X = 7.0  # objective rows: between option centres
NARROW_PITCH_X = 6.0  # for a question with so many options (up to 26) that 7 mm would not fit
PITCH_Y = 5.5  # objective rows: between question rows
ROWS_PER_BLOCK = 5
NUMBER_COLUMN = 8.0  # left of a block's first bubble: where the question number is printed
BLOCK_PAD = 1.5  # frame around a block's bubbles
BLOCK_GAP = 4.0  # between blocks side by side and between bands of blocks

DIGIT_PITCH_X = 6.5
DIGIT_PITCH_Y = 4.5
DIGIT_HEAD = 13.0  # above the digit bubbles: the heading and the write-in boxes
INFO_MIN_WIDTH = 64.0  # the name / absent / notes box beside the admission grid

BLANK_LABEL = 13.0  # left of a blank's box: "13(1)"
BLANK_HEIGHT = 10.0
BLANK_PITCH = 13.0
LINE_HEIGHT = 8.0  # a ruled line of a subjective region
SUBJECTIVE_HEAD = 7.0  # the question number line at the top of a subjective region
SECTION_GAP = 5.0

TRUE_FALSE_LABELS = ["T", "F"]
OPTION_LABELS = list(string.ascii_uppercase)
DEFAULT_OPTIONS = 4
DEFAULT_LINES = 4
NAME_MAX = 200


PAPER_SIZES = {"A4": PageSize(width=210.0, height=297.0), "A3": PageSize(width=420.0, height=297.0)}


class SheetSpecError(ValueError):
    """A sheet spec that cannot be laid out, naming the question and what is wrong."""


@dataclass(frozen=True)
class Column:
    """A column of content on a page: left and right edges, top and bottom (mm)."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left


def page_size(paper_size: str) -> PageSize:
    if paper_size not in PAPER_SIZES:
        raise SheetSpecError(f"paper_size: {paper_size!r} is not one of {', '.join(PAPER_SIZES)}")
    return PAPER_SIZES[paper_size]


def markers(page: PageSize) -> list[Marker]:
    """Top-left, top-right, bottom-right, bottom-left."""
    w, h, d = page.width, page.height, MARKER_INSET
    return [Marker(x=x, y=y, size=MARKER_SIZE) for x, y in ((d, d), (w - d, d), (w - d, h - d), (d, h - d))]


def qr_box(page: PageSize) -> QrBox:
    return QrBox(x=page.width - QR_RIGHT - QR_SIZE, y=QR_TOP, size=QR_SIZE)


def columns(page: PageSize) -> list[Column]:
    bottom = page.height - CONTENT_BOTTOM_GAP
    if page.width > page.height:  # A3 landscape: two columns
        half = (page.width - 2 * MARGIN_X - COLUMN_GAP) / 2
        return [Column(MARGIN_X, MARGIN_X + half, CONTENT_TOP, bottom),
                Column(page.width - MARGIN_X - half, page.width - MARGIN_X, CONTENT_TOP, bottom)]
    return [Column(MARGIN_X, page.width - MARGIN_X, CONTENT_TOP, bottom)]


def block_frame(block: BubbleBlock) -> tuple[float, float, float, float]:
    """The printed frame of a bubble block (x, y, width, height), the number column included for
    blocks whose rows are questions."""
    first = block.bubble_centre(0, 0)
    last = block.bubble_centre(len(block.fields) - 1, len(block.labels) - 1)
    left = first[0] - block.bubble_width / 2 - BLOCK_PAD
    top = first[1] - block.bubble_height / 2 - BLOCK_PAD
    if block.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE):
        left -= NUMBER_COLUMN
    if block.kind == BlockKind.DIGITS:
        top -= DIGIT_HEAD
    right = last[0] + block.bubble_width / 2 + BLOCK_PAD
    bottom = last[1] + block.bubble_height / 2 + BLOCK_PAD
    return left, top, right - left, bottom - top


def blank_label_of(field_name: str) -> str:
    """How a blank's field is printed beside its box: "13.2" -> "13(2)"."""
    number, _, blank = field_name.partition(".")
    return f"{number}({blank})" if blank else number


# ---- the flow --------------------------------------------------------------------------------

@dataclass
class _Page:
    blocks: list[BubbleBlock] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)


@dataclass
class _Flow:
    page_size: PageSize
    pages: list[_Page] = field(default_factory=list)
    column_index: int = 0
    y: float = CONTENT_TOP

    def __post_init__(self) -> None:
        self.pages.append(_Page())
        self.y = self.column.top

    @property
    def column(self) -> Column:
        return columns(self.page_size)[self.column_index]

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def room(self) -> float:
        return self.column.bottom - self.y

    def next_column(self) -> None:
        if self.column_index + 1 < len(columns(self.page_size)):
            self.column_index += 1
        else:
            self.pages.append(_Page())
            self.column_index = 0
        self.y = self.column.top

    def need(self, height: float) -> None:
        """Go on to the next column (or page) unless ``height`` fits below the cursor."""
        if height > self.room() and self.y > self.column.top:
            self.next_column()


def _check(spec: SheetSpec) -> None:
    page_size(spec.paper_size)
    if not 0 <= spec.admission_digits <= 20:
        raise SheetSpecError(f"admission_digits: {spec.admission_digits} is not between 0 and 20")
    seen: set[str] = set()
    for index, q in enumerate(spec.questions):
        where = f"questions[{index}] (number {q.number!r})"
        if not q.number or len(q.number) > 30 or "." in q.number:
            raise SheetSpecError(f"{where}: a question number is 1-30 characters without '.'")
        if q.number in seen:
            raise SheetSpecError(f"{where}: the number is used twice")
        seen.add(q.number)
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and not 0 <= q.options <= len(OPTION_LABELS):
            raise SheetSpecError(f"{where}: {q.options} options; an answer sheet prints 2 to 26")
        if q.kind == QuestionKind.FILL_IN and not 0 <= q.blanks <= 50:
            raise SheetSpecError(f"{where}: {q.blanks} blanks; at most 50")
        if q.kind == QuestionKind.SUBJECTIVE and not 0 <= q.lines <= 200:
            raise SheetSpecError(f"{where}: {q.lines} lines; at most 200")


def design_sheet(spec: SheetSpec) -> list[SheetLayout]:
    """The pages of the answer sheet for ``spec``; raises :class:`SheetSpecError` on a bad spec."""
    _check(spec)
    flow = _Flow(page_size(spec.paper_size))
    _header_blocks(flow, spec.admission_digits)
    _objective(flow, spec.questions)
    _blanks(flow, spec.questions)
    _subjective(flow, spec.questions)
    size, count = flow.page_size, len(flow.pages)
    form = f" {spec.form}" if spec.form else ""
    layouts = []
    for number, page in enumerate(flow.pages, start=1):
        name = f"{spec.title}{form} ({number}/{count})"
        if len(name) > NAME_MAX:
            name = name[-NAME_MAX:]
        layouts.append(SheetLayout(
            name=name, page=size, page_no=number, pages=count,
            alignment=Alignment(markers=markers(size)), qr=qr_box(size),
            bubble_blocks=page.blocks, regions=page.regions))
    return layouts


def _header_blocks(flow: _Flow, digits: int) -> None:
    """Admission grid, name, absent bubble and notes at the top of page 1, column 1."""
    col, top = flow.column, flow.y
    grid_w = 0.0
    if digits:
        x0 = col.left + BLOCK_PAD + BUBBLE_W / 2
        y0 = top + DIGIT_HEAD + BLOCK_PAD + BUBBLE_H / 2
        block = BubbleBlock(
            id="admission", kind=BlockKind.DIGITS, origin_x=x0, origin_y=y0, rows=10, columns=digits,
            pitch_x=DIGIT_PITCH_X, pitch_y=DIGIT_PITCH_Y, bubble_width=BUBBLE_W, bubble_height=BUBBLE_H,
            direction=Direction.COLUMNS, labels=[str(d) for d in range(10)],
            fields=[f"d{i}" for i in range(1, digits + 1)])
        flow.page.blocks.append(block)
        grid_w = block_frame(block)[2]
    grid_h = DIGIT_HEAD + 9 * DIGIT_PITCH_Y + BUBBLE_H + 2 * BLOCK_PAD
    beside = col.width - grid_w - BLOCK_GAP >= INFO_MIN_WIDTH if digits else True
    if beside:
        info_x = col.left + (grid_w + BLOCK_GAP if digits else 0.0)
        info_y = top
    else:
        info_x, info_y = col.left, top + grid_h + BLOCK_GAP
    info_w = col.right - info_x
    flow.page.regions.append(Region(id="name", kind=RegionKind.NAME, x=info_x, y=info_y, width=info_w, height=9.0))
    absent_y = info_y + 9.0 + 4.0 + BUBBLE_H / 2
    flow.page.blocks.append(BubbleBlock(
        id="absent", kind=BlockKind.ABSENT, origin_x=col.right - BLOCK_PAD - BUBBLE_W / 2 - 2.0, origin_y=absent_y,
        rows=1, columns=1, bubble_width=BUBBLE_W, bubble_height=BUBBLE_H, labels=["X"], fields=["absent"]))
    notes_y = absent_y + BUBBLE_H / 2 + BLOCK_PAD + 3.0
    notes_h = max(30.0, (top + grid_h if beside else info_y + 60.0) - notes_y)
    flow.page.regions.append(Region(id="notes", kind=RegionKind.OTHER, x=info_x, y=notes_y, width=info_w,
                                    height=notes_h))
    flow.y = max(top + (grid_h if digits else 0.0), notes_y + notes_h) + SECTION_GAP


def _runs(questions: list[QuestionSpec]) -> list[list[QuestionSpec]]:
    """Consecutive objective questions of one kind, cut into blocks of at most ROWS_PER_BLOCK."""
    runs: list[list[QuestionSpec]] = []
    for q in questions:
        if q.kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE):
            continue
        if runs and runs[-1][-1].kind == q.kind and len(runs[-1]) < ROWS_PER_BLOCK:
            runs[-1].append(q)
        else:
            runs.append([q])
    return runs


def _options(q: QuestionSpec) -> int:
    if q.kind == QuestionKind.TRUE_FALSE:
        return 2
    return q.options if q.options >= 2 else DEFAULT_OPTIONS


def _objective(flow: _Flow, questions: list[QuestionSpec]) -> None:
    runs = _runs(questions)
    x = flow.column.left
    band_h = 0.0
    for index, run in enumerate(runs):
        counts = [_options(q) for q in run]
        cols = max(counts)
        pitch = PITCH_X
        width = NUMBER_COLUMN + cols * pitch - (pitch - BUBBLE_W) + 2 * BLOCK_PAD
        if width > flow.column.width:  # very many options: closer bubbles, still 1 mm apart
            pitch = NARROW_PITCH_X
            width = NUMBER_COLUMN + cols * pitch - (pitch - BUBBLE_W) + 2 * BLOCK_PAD
        height = (len(run) - 1) * PITCH_Y + BUBBLE_H + 2 * BLOCK_PAD
        if x > flow.column.left and x + width > flow.column.right:  # a new band
            flow.y += band_h + BLOCK_GAP
            x, band_h = flow.column.left, 0.0
        if height > flow.room():
            flow.next_column()
            x, band_h = flow.column.left, 0.0
        if x + width > flow.column.right:
            raise SheetSpecError(f"question {run[0].number}: {cols} options do not fit the width of the sheet")
        kind = BlockKind.MULTIPLE if run[0].kind == QuestionKind.MULTIPLE else BlockKind.SINGLE
        labels = TRUE_FALSE_LABELS if run[0].kind == QuestionKind.TRUE_FALSE else OPTION_LABELS[:cols]
        flow.page.blocks.append(BubbleBlock(
            id=f"q{index + 1}", kind=kind, origin_x=x + NUMBER_COLUMN + BLOCK_PAD + BUBBLE_W / 2,
            origin_y=flow.y + BLOCK_PAD + BUBBLE_H / 2, rows=len(run), columns=cols,
            pitch_x=pitch, pitch_y=PITCH_Y, bubble_width=BUBBLE_W, bubble_height=BUBBLE_H,
            direction=Direction.ROWS, labels=labels, fields=[q.number for q in run],
            options_per_field=counts if any(c != cols for c in counts) else []))
        x += width + BLOCK_GAP
        band_h = max(band_h, height)
    if runs:
        flow.y += band_h + SECTION_GAP


def _blanks(flow: _Flow, questions: list[QuestionSpec]) -> None:
    fields = [f"{q.number}.{k}" for q in questions if q.kind == QuestionKind.FILL_IN
              for k in range(1, max(q.blanks, 1) + 1)]
    per_row = max(1, int((flow.column.width + BLOCK_GAP) // (BLANK_LABEL + 60.0 + BLOCK_GAP)))
    per_row = min(per_row, 2)
    for start in range(0, len(fields), per_row):
        flow.need(BLANK_HEIGHT)
        col = flow.column
        cell = (col.width - (per_row - 1) * BLOCK_GAP) / per_row
        for k, name in enumerate(fields[start:start + per_row]):
            x = col.left + k * (cell + BLOCK_GAP)
            flow.page.regions.append(Region(id=f"b{name}", kind=RegionKind.BLANK, x=x + BLANK_LABEL, y=flow.y,
                                            width=cell - BLANK_LABEL, height=BLANK_HEIGHT, field=name))
        flow.y += BLANK_PITCH
    if fields:
        flow.y += SECTION_GAP - (BLANK_PITCH - BLANK_HEIGHT)


def _subjective(flow: _Flow, questions: list[QuestionSpec]) -> None:
    for q in questions:
        if q.kind != QuestionKind.SUBJECTIVE:
            continue
        lines = q.lines if q.lines > 0 else DEFAULT_LINES
        height = SUBJECTIVE_HEAD + lines * LINE_HEIGHT
        part = 1
        # A region that fits a fresh column is never split; a taller one flows on in parts.
        full = flow.column.bottom - flow.column.top
        flow.need(height if height <= full else SUBJECTIVE_HEAD + 2 * LINE_HEIGHT)
        while height > 0:
            if flow.room() < SUBJECTIVE_HEAD + LINE_HEIGHT:
                flow.next_column()
            here = min(height, flow.room())
            col = flow.column
            region_id = f"s{q.number}" if part == 1 else f"s{q.number}-p{part}"
            flow.page.regions.append(Region(id=region_id, kind=RegionKind.SUBJECTIVE, x=col.left, y=flow.y,
                                            width=col.width, height=here, field=q.number))
            flow.y += here + BLOCK_GAP
            height -= here
            part += 1
