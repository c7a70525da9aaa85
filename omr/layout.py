"""The sheet layout: where everything is on one page of an answer sheet, in millimetres.

One schema for both kinds of sheet: those we print (``omr.design`` writes the layout while the PDF
is drawn from it, and the layout is stored, so reading needs no hand-made template) and
third-party sheets, described by a layout file (JSON or YAML) a person writes once per sheet model.

Coordinates are millimetres on the page, origin at the top-left corner, x to the right, y down.
A bubble block is a grid of bubbles: ``origin`` is the centre of its first bubble, ``pitch_x`` /
``pitch_y`` the centre-to-centre distances. ``direction`` says how fields run through the grid:

* ``rows``: each row is one field (one question), its options run along the columns (A B C D);
* ``columns``: each column is one field (one digit of an admission number), options run down.

The file format is documented in ``docs/omr-layout.md``; ``omr/layouts/`` holds examples.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LAYOUT_VERSION = 1
Mm = Annotated[float, Field(ge=0, le=2000)]
Size = Annotated[float, Field(gt=0, le=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageSize(_Strict):
    width: Size = 210.0
    height: Size = 297.0


class MarkerShape(StrEnum):
    SQUARE = "square"  # a filled square (our sheets, most Chinese 答题卡 定位块)
    CIRCLE = "circle"  # a filled disc
    RING = "ring"  # a circle with a hollow centre (some commercial forms)


class Marker(_Strict):
    """A corner fiducial: centre and outer size in mm."""

    x: Mm
    y: Mm
    size: Size = 6.0
    shape: MarkerShape = MarkerShape.SQUARE


class AlignMethod(StrEnum):
    MARKERS = "markers"  # three or four printed corner markers
    EDGES = "edges"  # the paper's own edges (sheets without markers, scanned on a dark bed)
    REFERENCE = "reference"  # feature matching against a blank reference scan


class Alignment(_Strict):
    method: AlignMethod = AlignMethod.MARKERS
    # In the order top-left, top-right, bottom-right, bottom-left (3 or 4 of them).
    markers: list[Marker] = Field(default_factory=list, max_length=4)
    # For REFERENCE: a blank scan of the sheet, relative to the layout file.
    reference_image: str | None = None

    @model_validator(mode="after")
    def _method_has_what_it_needs(self) -> Alignment:
        if self.method == AlignMethod.MARKERS and len(self.markers) < 3:
            raise ValueError("alignment by markers needs 3 or 4 markers (top-left, top-right, bottom-right, "
                             "bottom-left)")
        if self.method == AlignMethod.REFERENCE and not self.reference_image:
            raise ValueError("alignment by reference needs reference_image")
        return self


class BlockKind(StrEnum):
    SINGLE = "single"  # one answer per field (single choice, true/false)
    MULTIPLE = "multiple"  # any number of answers per field
    DIGITS = "digits"  # admission number: one digit per field, fields concatenated in order
    ABSENT = "absent"  # the 缺考 mark (one bubble; a proctor fills it)


class Direction(StrEnum):
    ROWS = "rows"
    COLUMNS = "columns"


class BubbleShape(StrEnum):
    ELLIPSE = "ellipse"
    RECT = "rect"  # the bracket-style [A] boxes of many Chinese sheets


class BubbleBlock(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=60)]
    kind: BlockKind
    origin_x: Mm
    origin_y: Mm
    rows: Annotated[int, Field(ge=1, le=200)]
    columns: Annotated[int, Field(ge=1, le=200)]
    pitch_x: Mm = 0.0
    pitch_y: Mm = 0.0
    bubble_width: Size = 5.0
    bubble_height: Size = 3.0
    shape: BubbleShape = BubbleShape.ELLIPSE
    direction: Direction = Direction.ROWS
    # Option labels along each field (A B C D; 0..9; T F). Their count = columns (rows) for ROWS (COLUMNS).
    labels: list[Annotated[str, Field(min_length=1, max_length=8)]]
    # Field names, one per field in reading order: question numbers ("1", "2", ...) or digit names.
    fields: list[Annotated[str, Field(min_length=1, max_length=40)]]
    # Per field, how many of the labels are real options (a 3-option question in a 4-column block);
    # empty means all of them.
    options_per_field: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _grid_matches_labels_and_fields(self) -> BubbleBlock:
        along, across = (self.columns, self.rows) if self.direction == Direction.ROWS else (self.rows, self.columns)
        if len(self.labels) != along:
            raise ValueError(f"block {self.id}: {len(self.labels)} labels for {along} options per field")
        if len(self.fields) != across:
            raise ValueError(f"block {self.id}: {len(self.fields)} field names for {across} fields")
        if self.options_per_field and (len(self.options_per_field) != across
                                       or not all(1 <= n <= along for n in self.options_per_field)):
            raise ValueError(f"block {self.id}: options_per_field needs {across} counts between 1 and {along}")
        if self.rows > 1 and self.pitch_y <= 0 or self.columns > 1 and self.pitch_x <= 0:
            raise ValueError(f"block {self.id}: pitch_x/pitch_y must be > 0 for more than one row/column")
        return self

    def options_of(self, field_index: int) -> list[str]:
        count = self.options_per_field[field_index] if self.options_per_field else len(self.labels)
        return self.labels[:count]

    def bubble_centre(self, field_index: int, option_index: int) -> tuple[float, float]:
        """Centre (mm) of one bubble by field and option."""
        row, col = (field_index, option_index) if self.direction == Direction.ROWS else (option_index, field_index)
        return self.origin_x + col * self.pitch_x, self.origin_y + row * self.pitch_y


class RegionKind(StrEnum):
    SUBJECTIVE = "subjective"  # an answer box of a subjective item: cut out for marking
    BLANK = "blank"  # a fill-in blank's box: cut out for OCR and marking
    SCORE_BOX = "score_box"  # where a teacher writes a score by hand
    NAME = "name"  # the candidate writes their name
    OTHER = "other"


class Region(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=60)]
    kind: RegionKind
    x: Mm
    y: Mm
    width: Size
    height: Size
    # The question this region answers ("13", or "13.2" for the second blank of question 13).
    field: str | None = None


class QrBox(_Strict):
    """Where the sheet's QR code is printed (top-left corner and side, mm)."""

    x: Mm
    y: Mm
    size: Size


class SheetLayout(_Strict):
    version: Literal[1] = 1
    name: Annotated[str, Field(min_length=1, max_length=200)]
    page: PageSize = PageSize()
    page_no: Annotated[int, Field(ge=1)] = 1
    pages: Annotated[int, Field(ge=1)] = 1
    alignment: Alignment
    qr: QrBox | None = None
    bubble_blocks: list[BubbleBlock] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_unique_and_on_page(self) -> SheetLayout:
        ids = [b.id for b in self.bubble_blocks] + [r.id for r in self.regions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate block/region ids: {', '.join(duplicates)}")
        if self.page_no > self.pages:
            raise ValueError(f"page_no {self.page_no} > pages {self.pages}")
        for block in self.bubble_blocks:
            last = block.bubble_centre(len(block.fields) - 1, len(block.labels) - 1)
            right, bottom = last[0] + block.bubble_width / 2, last[1] + block.bubble_height / 2
            if right > self.page.width or bottom > self.page.height:
                raise ValueError(f"block {block.id} runs off the page")
        for region in self.regions:
            if region.x + region.width > self.page.width or region.y + region.height > self.page.height:
                raise ValueError(f"region {region.id} runs off the page")
        if sum(1 for b in self.bubble_blocks if b.kind == BlockKind.ABSENT) > 1:
            raise ValueError("at most one absent (缺考) block per page")
        return self

    def blocks_of(self, kind: BlockKind) -> list[BubbleBlock]:
        return [b for b in self.bubble_blocks if b.kind == kind]


class LayoutFileError(ValueError):
    """A layout file that cannot be used, with what is wrong and where."""


def parse_layout(text: str, source: str = "layout") -> SheetLayout:
    """A layout from JSON or YAML text; errors name the file and the field path."""
    from pydantic import ValidationError

    data: object
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - yaml ships with the project
            raise LayoutFileError(f"{source}: not JSON, and YAML support is not installed") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LayoutFileError(f"{source}: neither JSON nor YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LayoutFileError(f"{source}: a layout is a mapping (object) at the top level")
    try:
        return SheetLayout.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise LayoutFileError(f"{source}: {problems}") from exc


def load_layout(path: Path) -> SheetLayout:
    return parse_layout(path.read_text(encoding="utf-8"), str(path))
