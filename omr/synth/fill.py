"""Fill a blank sheet from known answers with the marks real candidates make, and keep the ground
truth: what a careful person would read from each field, and whether that person would call the
field ambiguous (a reader that sends such a field to a person is right; one that guesses silently
and differs from the truth is wrong).

Marks (``MarkStyle``): pen (dark, solid), pencil (grey 0.45-0.7, textured with graphite strokes),
partial fills (60-90 % of the bubble, off-centre), ticks and crosses through the bubble, a faint
mark (0.2-0.35, the only mark: ambiguous), erased-and-remarked (a rubbed-out ghost of darkness
0.1-0.25 in another bubble of the field, next to the real mark) and erased (a ghost alone, the field
left blank). Stray dots and lines fall between bubbles, never inside one; subjective regions get
handwriting-like scribbles.

Marks are drawn multiplicatively (ink over the printed outline), at the resolution of the blank,
with ``cv2`` only. Everything random comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from omr.layout import BlockKind, BubbleBlock, BubbleShape, RegionKind, SheetLayout


class MarkStyle(StrEnum):
    PEN = "pen"
    PENCIL = "pencil"
    PARTIAL = "partial"
    TICK = "tick"
    CROSS = "cross"
    FAINT = "faint"
    ERASED_REMARKED = "erased_remarked"  # a ghost in another bubble + the real mark (pen or pencil)
    ERASED = "erased"  # a ghost alone: the candidate changed their mind and left the field blank


class TruthClass(StrEnum):
    BLANK = "blank"
    MARKED = "marked"
    MULTIPLE = "multiple"  # more than one mark on a single-answer field
    ERASED_REMARKED = "erased_remarked"
    ERASED = "erased"
    FAINT = "faint"
    TICKED = "ticked"  # a tick or a cross instead of a fill


@dataclass(frozen=True)
class MarkMix:
    """How often each style is used for a field that has an answer (weights, normalised), and the
    other marks on a sheet."""

    pen: float = 0.45
    pencil: float = 0.25
    partial: float = 0.12
    tick: float = 0.02
    cross: float = 0.01
    faint: float = 0.01
    erased_remarked: float = 0.04
    erased_blank: float = 0.05  # share of unanswered fields that carry an erased ghost
    strays: tuple[int, int] = (0, 4)  # stray dots/lines per sheet (min, max)
    scribbles: bool = True

    def styles(self) -> tuple[list[MarkStyle], np.ndarray]:
        names = [MarkStyle.PEN, MarkStyle.PENCIL, MarkStyle.PARTIAL, MarkStyle.TICK, MarkStyle.CROSS,
                 MarkStyle.FAINT, MarkStyle.ERASED_REMARKED]
        weights = np.array([self.pen, self.pencil, self.partial, self.tick, self.cross, self.faint,
                            self.erased_remarked], dtype=float)
        return names, weights / weights.sum()


DEFAULT_MIX = MarkMix()
CLEAN = MarkMix(pen=1.0, pencil=0.0, partial=0.0, tick=0.0, cross=0.0, faint=0.0, erased_remarked=0.0,
                erased_blank=0.0, strays=(0, 0), scribbles=False)


@dataclass
class Answers:
    """What the candidate means to answer. ``fields``: question field name -> labels ("B", "AC",
    "" or absent for none). ``digit_marks`` overrides what is marked in admission digit ``i``
    (0-based) to make a faulty number ("" blank, "37" double-marked). ``styles`` forces the mark
    style of a field (by field name; ``digit1``... for admission digits)."""

    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    admission_no: str | None = None
    absent: bool = False
    digit_marks: dict[int, str] = dataclasses.field(default_factory=dict)
    styles: dict[str, MarkStyle] = dataclasses.field(default_factory=dict)


@dataclass
class FieldTruth:
    block: str
    field: str
    kind: str  # the block kind (single, multiple, digits, absent)
    value: str  # what a careful person reads: labels in label order
    cls: TruthClass
    ambiguous: bool  # a careful person would want to look: sending it to a person is right
    marks: dict[str, str] = dataclasses.field(default_factory=dict)  # label -> mark style drawn there
    darkness: dict[str, float] = dataclasses.field(default_factory=dict)  # label -> darkness of what was drawn
    ghost: str | None = None  # the label that carries an erased ghost


@dataclass
class SheetTruth:
    layout: str
    page_no: int
    admission_no: str | None  # what the candidate means (None: no number filled)
    id_readable: bool  # every digit clearly marked once
    absent: bool
    fields: list[FieldTruth] = dataclasses.field(default_factory=list)
    strays: int = 0
    scribbled_regions: list[str] = dataclasses.field(default_factory=list)
    expected_issues: list[str] = dataclasses.field(default_factory=list)  # IssueCode values a reader should raise

    def get_field(self, block: str, name: str) -> FieldTruth:
        for f in self.fields:
            if f.block == block and f.field == name:
                return f
        raise KeyError(f"{block}/{name}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SheetTruth:
        fields = [FieldTruth(**{**f, "cls": TruthClass(f["cls"])}) for f in data.get("fields", [])]
        return cls(**{**data, "fields": fields})


def _shade(image: np.ndarray, x0: int, y0: int, dark: np.ndarray) -> None:
    """Multiply ``image`` by (1 - dark) in the patch at (x0, y0), clipped to the image."""
    h, w = dark.shape
    ih, iw = image.shape
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(iw, x0 + w), min(ih, y0 + h)
    if ax0 >= ax1 or ay0 >= ay1:
        return
    sub = dark[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
    region = image[ay0:ay1, ax0:ax1].astype(np.float32)
    image[ay0:ay1, ax0:ax1] = np.clip(region * (1.0 - sub), 0, 255).astype(np.uint8)


class _Painter:
    def __init__(self, image: np.ndarray, dpi: float, rng: np.random.Generator) -> None:
        self.image, self.s, self.rng = image, dpi / 25.4, rng

    def _patch(self, cx: float, cy: float, half_w: float, half_h: float) -> tuple[int, int, np.ndarray]:
        x0, y0 = int(math.floor(cx - half_w)) - 2, int(math.floor(cy - half_h)) - 2
        w, h = int(math.ceil(2 * half_w)) + 5, int(math.ceil(2 * half_h)) + 5
        return x0, y0, np.zeros((h, w), np.float32)

    def fill(self, cx: float, cy: float, hw: float, hh: float, darkness: float, shape: BubbleShape,
             textured: bool, angle: float = 0.0) -> None:
        """A filled blob of half-axes (hw, hh) px centred at (cx, cy)."""
        x0, y0, mask = self._patch(cx, cy, hw + 1, hh + 1)
        centre = (int(round((cx - x0) * 4)), int(round((cy - y0) * 4)))
        axes = (max(1, int(round(hw * 4))), max(1, int(round(hh * 4))))
        if shape == BubbleShape.RECT:
            cv2.rectangle(mask, (centre[0] - axes[0], centre[1] - axes[1]), (centre[0] + axes[0], centre[1] + axes[1]),
                          1.0, -1, cv2.LINE_AA, shift=2)
        else:
            cv2.ellipse(mask, centre, axes, angle, 0, 360, 1.0, -1, cv2.LINE_AA, shift=2)
        if textured:
            mask *= self._graphite(mask.shape)
        _shade(self.image, x0, y0, np.clip(mask * darkness, 0, 1))

    def _graphite(self, shape: tuple[int, ...]) -> np.ndarray:
        """Pencil texture: grain plus strokes, mean 1 (so the mark's mean darkness is the nominal one)."""
        h, w = shape[0], shape[1]
        grain = self.rng.uniform(0.7, 1.3, (h, w)).astype(np.float32)
        strokes = np.full((h, w), 1.08, np.float32)
        step = max(2, int(round(0.35 * self.s)))
        slope = self.rng.uniform(-0.8, 0.8)
        for k in range(-h, w + h, step):
            cv2.line(strokes, (int(k), 0), (int(k + slope * h), h), float(self.rng.uniform(0.75, 0.95)), 1)
        tex = cv2.GaussianBlur(grain * strokes, (3, 3), 0)
        return np.asarray(tex / max(1e-6, float(tex.mean())), np.float32)

    def lines(self, points: list[list[tuple[float, float]]], thickness_mm: float, darkness: float) -> None:
        flat = [p for poly in points for p in poly]
        xs, ys = [p[0] for p in flat], [p[1] for p in flat]
        pad = thickness_mm * self.s + 3
        x0, y0 = int(min(xs) - pad), int(min(ys) - pad)
        mask = np.zeros((int(max(ys) - min(ys) + 2 * pad) + 2, int(max(xs) - min(xs) + 2 * pad) + 2), np.float32)
        thick = max(1, int(round(thickness_mm * self.s)))
        for poly in points:
            pts = np.array([[(x - x0) * 4, (y - y0) * 4] for x, y in poly], np.int32).reshape(-1, 1, 2)
            cv2.polylines(mask, [pts], False, 1.0, thick, cv2.LINE_AA, shift=2)
        _shade(self.image, x0, y0, np.clip(mask * darkness, 0, 1))


def _bubble_px(block: BubbleBlock, f: int, o: int, s: float) -> tuple[float, float, float, float]:
    x, y = block.bubble_centre(f, o)
    return x * s, y * s, block.bubble_width / 2 * s, block.bubble_height / 2 * s


def _draw_mark(p: _Painter, block: BubbleBlock, f: int, o: int, style: MarkStyle) -> float:
    """Draw one mark; returns its nominal darkness."""
    rng, s = p.rng, p.s
    cx, cy, hw, hh = _bubble_px(block, f, o, s)
    jx, jy = rng.normal(0, 0.04) * hw, rng.normal(0, 0.04) * hh
    if style == MarkStyle.PEN:
        d = float(rng.uniform(0.85, 1.0))
        cover = float(rng.uniform(0.85, 1.08))
        p.fill(cx + jx, cy + jy, hw * cover, hh * cover, d, block.shape, False, float(rng.uniform(-8, 8)))
        return d
    if style == MarkStyle.PENCIL:
        d = float(rng.uniform(0.45, 0.7))
        cover = float(rng.uniform(0.85, 1.05))
        p.fill(cx + jx, cy + jy, hw * cover, hh * cover, d, block.shape, True, float(rng.uniform(-8, 8)))
        return d
    if style == MarkStyle.PARTIAL:
        d = float(rng.uniform(0.55, 1.0))
        area = float(rng.uniform(0.6, 0.9))
        k = math.sqrt(area)
        # off-centre, but the blob stays mostly inside the bubble
        ox, oy = rng.uniform(-1, 1) * hw * (1 - k), rng.uniform(-1, 1) * hh * (1 - k)
        p.fill(cx + ox, cy + oy, hw * k, hh * k, d, block.shape, d < 0.75, float(rng.uniform(-10, 10)))
        return d
    if style == MarkStyle.FAINT:
        d = float(rng.uniform(0.2, 0.35))
        p.fill(cx + jx, cy + jy, hw * 0.95, hh * 0.95, d, block.shape, True)
        return d
    if style == MarkStyle.TICK:
        d = float(rng.uniform(0.8, 1.0))
        a = (cx - hw * 0.9, cy - hh * 0.1)
        b = (cx - hw * 0.2, cy + hh * 1.0)
        c = (cx + hw * 1.2, cy - hh * 1.5)
        p.lines([[a, b, c]], float(rng.uniform(0.35, 0.55)), d)
        return d
    if style == MarkStyle.CROSS:
        d = float(rng.uniform(0.8, 1.0))
        p.lines([[(cx - hw * 1.0, cy - hh * 1.1), (cx + hw * 1.0, cy + hh * 1.1)],
                 [(cx + hw * 1.0, cy - hh * 1.1), (cx - hw * 1.0, cy + hh * 1.1)]], float(rng.uniform(0.35, 0.55)), d)
        return d
    raise ValueError(f"not a single mark: {style}")


def _draw_ghost(p: _Painter, block: BubbleBlock, f: int, o: int) -> float:
    """The rubbed-out remains of a mark: low darkness, smeared a little beyond the bubble."""
    d = float(p.rng.uniform(0.1, 0.25))
    cx, cy, hw, hh = _bubble_px(block, f, o, p.s)
    p.fill(cx + p.rng.normal(0, 0.08) * hw, cy + p.rng.normal(0, 0.08) * hh, hw * 1.1, hh * 1.15, d,
           block.shape, True, float(p.rng.uniform(-15, 15)))
    return d


def _labels_of(block: BubbleBlock, f: int, wanted: str) -> list[int]:
    options = block.options_of(f)
    if len(options) and all(len(label) == 1 for label in options):
        return [i for i, label in enumerate(options) if label in wanted]
    return [i for i, label in enumerate(options) if label == wanted]


def _strays(p: _Painter, layout: SheetLayout, count: int) -> int:
    """Dots and short lines in the gaps between bubbles (never inside one)."""
    blocks = [b for b in layout.bubble_blocks if b.rows > 1 or b.columns > 1]
    drawn = 0
    for _ in range(count):
        if not blocks:
            break
        b = blocks[int(p.rng.integers(len(blocks)))]
        s = p.s
        gap_x, gap_y = b.pitch_x - b.bubble_width, b.pitch_y - b.bubble_height
        if b.columns > 1 and gap_x > 0.8 and (p.rng.random() < 0.5 or b.rows == 1 or gap_y <= 0.8):
            row, col = int(p.rng.integers(b.rows)), int(p.rng.integers(b.columns - 1))
            x = b.origin_x + (col + 0.5) * b.pitch_x
            y = b.origin_y + row * b.pitch_y
            if p.rng.random() < 0.5:
                r = min(0.35, gap_x * 0.25)
                p.fill(x * s, y * s, r * s, r * s, float(p.rng.uniform(0.5, 1.0)), BubbleShape.ELLIPSE, False)
            else:
                length = b.bubble_height * 0.8
                p.lines([[(x * s, (y - length / 2) * s), (x * s, (y + length / 2) * s)]],
                        min(0.3, gap_x * 0.3), float(p.rng.uniform(0.5, 1.0)))
        elif b.rows > 1 and gap_y > 0.8:
            row = int(p.rng.integers(b.rows - 1))
            y = b.origin_y + (row + 0.5) * b.pitch_y
            x0 = b.origin_x - b.bubble_width / 2
            x1 = b.origin_x + (b.columns - 1) * b.pitch_x + b.bubble_width / 2
            a = float(p.rng.uniform(x0, x1))
            length = float(p.rng.uniform(2.0, 8.0))
            p.lines([[(a * s, y * s), (min(x1, a + length) * s, (y + p.rng.uniform(-0.15, 0.15)) * s)]],
                    min(0.3, gap_y * 0.3), float(p.rng.uniform(0.5, 1.0)))
        else:
            continue
        drawn += 1
    return drawn


def _scribble(p: _Painter, x: float, y: float, w: float, h: float) -> None:
    """Lines of handwriting-like loops inside a region (mm box)."""
    s, rng = p.s, p.rng
    line_h = 7.0
    lines = max(1, min(int((h - 4) // line_h), int(rng.integers(1, 6))))
    for li in range(lines):
        base = y + 5 + li * line_h
        xpos = x + 3
        end = x + w - 3 - rng.uniform(0, w * 0.4)
        strokes: list[list[tuple[float, float]]] = []
        while xpos < end:
            word = float(rng.uniform(6, 18))
            t = np.linspace(0, word, max(8, int(word * 3)))
            freq = rng.uniform(1.2, 2.2)
            amp = rng.uniform(1.0, 2.0)
            pts = [((xpos + tt) * s, (base - amp * abs(math.sin(freq * tt)) + rng.normal(0, 0.15)) * s) for tt in t]
            strokes.append(pts)
            xpos += word + rng.uniform(2, 4)
        if strokes:
            p.lines(strokes, float(rng.uniform(0.25, 0.4)), float(rng.uniform(0.75, 1.0)))


def fill_sheet(blank: np.ndarray, layout: SheetLayout, answers: Answers, dpi: float, rng: np.random.Generator,
               mix: MarkMix = DEFAULT_MIX) -> tuple[np.ndarray, SheetTruth]:
    """A filled copy of ``blank`` (drawn at ``dpi`` from ``layout``) and the ground truth."""
    image = blank.copy()
    p = _Painter(image, dpi, rng)
    styles, weights = mix.styles()
    truths: list[FieldTruth] = []
    digit_values: list[str] = []
    id_readable = answers.admission_no is not None
    digit_index = 0
    for block in layout.bubble_blocks:
        for f, name in enumerate(block.fields):
            options = block.options_of(f)
            if block.kind == BlockKind.DIGITS:
                if digit_index in answers.digit_marks:
                    wanted = answers.digit_marks[digit_index]
                elif answers.admission_no is not None and digit_index < len(answers.admission_no):
                    wanted = answers.admission_no[digit_index]
                else:
                    wanted = ""
                digit_index += 1
            elif block.kind == BlockKind.ABSENT:
                wanted = options[0] if answers.absent else ""
            else:
                wanted = answers.fields.get(name, "")
            chosen = _labels_of(block, f, wanted) if wanted else []
            forced = answers.styles.get(name)
            if forced is not None:
                style = forced
            elif not chosen:
                style = MarkStyle.ERASED if rng.random() < mix.erased_blank else MarkStyle.PEN
            elif block.kind == BlockKind.ABSENT:
                style = MarkStyle.PEN
            else:
                style = styles[int(rng.choice(len(styles), p=weights))]
            if not chosen and style != MarkStyle.ERASED:
                style = MarkStyle.PEN
            if chosen and style == MarkStyle.ERASED:
                style = MarkStyle.PEN
            if style == MarkStyle.FAINT and len(chosen) > 1:
                style = MarkStyle.PEN
            others = [i for i in range(len(options)) if i not in chosen]
            if style in (MarkStyle.ERASED_REMARKED, MarkStyle.ERASED) and not others:
                style = MarkStyle.PEN
            marks: dict[str, str] = {}
            darkness: dict[str, float] = {}
            ghost: str | None = None
            if style in (MarkStyle.ERASED_REMARKED, MarkStyle.ERASED):
                g = others[int(rng.integers(len(others)))]
                ghost = options[g]
                darkness[ghost] = _draw_ghost(p, block, f, g)
                marks[ghost] = "ghost"
            real = MarkStyle.PEN if style == MarkStyle.ERASED_REMARKED and rng.random() < 0.5 else (
                MarkStyle.PENCIL if style == MarkStyle.ERASED_REMARKED else style)
            for o in chosen:
                darkness[options[o]] = _draw_mark(p, block, f, o, real)
                marks[options[o]] = str(real)
            value = "".join(options[o] for o in chosen)
            one_allowed = block.kind in (BlockKind.SINGLE, BlockKind.DIGITS, BlockKind.ABSENT)
            if not chosen:
                cls, ambiguous = (TruthClass.ERASED, True) if style == MarkStyle.ERASED else (TruthClass.BLANK, False)
            elif one_allowed and len(chosen) > 1:
                cls, ambiguous = TruthClass.MULTIPLE, True
            elif style == MarkStyle.FAINT:
                cls, ambiguous = TruthClass.FAINT, True
            elif style in (MarkStyle.TICK, MarkStyle.CROSS):
                cls, ambiguous = TruthClass.TICKED, True
            elif style == MarkStyle.ERASED_REMARKED:
                cls, ambiguous = TruthClass.ERASED_REMARKED, False
            else:
                cls, ambiguous = TruthClass.MARKED, False
            if block.kind == BlockKind.DIGITS:
                digit_values.append(value)
                if cls not in (TruthClass.MARKED, TruthClass.ERASED_REMARKED) or len(value) != 1:
                    id_readable = False
            truths.append(FieldTruth(block.id, name, str(block.kind), value, cls, ambiguous, marks, darkness, ghost))
    strays = 0
    if mix.strays[1] > 0:
        strays = _strays(p, layout, int(rng.integers(mix.strays[0], mix.strays[1] + 1)))
    scribbled: list[str] = []
    if mix.scribbles:
        for region in layout.regions:
            if region.kind in (RegionKind.SUBJECTIVE, RegionKind.BLANK) and rng.random() < 0.85:
                _scribble(p, region.x, region.y, region.width, region.height)
                scribbled.append(region.id)
    expected: list[str] = []
    has_digits = bool(layout.blocks_of(BlockKind.DIGITS))
    if has_digits and not id_readable:
        expected.append("id_unreadable")
    answered = any(t.value for t in truths if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE))
    if answers.absent and answered and layout.blocks_of(BlockKind.ABSENT):
        expected.append("absent_with_answers")
    truth = SheetTruth(layout=layout.name, page_no=layout.page_no,
                       admission_no=answers.admission_no if has_digits else None,
                       id_readable=id_readable and has_digits, absent=answers.absent and bool(
                           layout.blocks_of(BlockKind.ABSENT)),
                       fields=truths, strays=strays, scribbled_regions=scribbled, expected_issues=expected)
    return image, truth


def random_answers(layout: SheetLayout, rng: np.random.Generator, blank_rate: float = 0.04,
                   multiple_rate: float = 0.01, id_fault_rate: float = 0.02, absent_rate: float = 0.02) -> Answers:
    """Random answers for every question field of ``layout``; a random admission number; now and
    then a faulty digit (blank or double-marked) or an absent candidate (no answers)."""
    answers = Answers()
    digits = sum(len(b.fields) for b in layout.blocks_of(BlockKind.DIGITS))
    if digits:
        answers.admission_no = "".join(str(int(d)) for d in rng.integers(0, 10, digits))
        if rng.random() < id_fault_rate:
            i = int(rng.integers(digits))
            other = str((int(answers.admission_no[i]) + 1 + int(rng.integers(9))) % 10)
            answers.digit_marks[i] = "" if rng.random() < 0.5 else "".join(sorted(answers.admission_no[i] + other))
    if layout.blocks_of(BlockKind.ABSENT) and rng.random() < absent_rate:
        answers.absent = True
        return answers
    for block in layout.bubble_blocks:
        if block.kind not in (BlockKind.SINGLE, BlockKind.MULTIPLE):
            continue
        for f, name in enumerate(block.fields):
            options = block.options_of(f)
            if rng.random() < blank_rate:
                continue
            if block.kind == BlockKind.MULTIPLE:
                count = int(rng.integers(1, len(options) + 1))
                picked = sorted(rng.choice(len(options), count, replace=False).tolist())
            elif rng.random() < multiple_rate and len(options) > 1:
                picked = sorted(rng.choice(len(options), 2, replace=False).tolist())
            else:
                picked = [int(rng.integers(len(options)))]
            answers.fields[name] = "".join(options[i] for i in picked)
    return answers


def measure_darkness(image: np.ndarray, block: BubbleBlock, field_index: int, option_index: int, dpi: float,
                     inner: float = 0.7) -> float:
    """Mean darkness (0 white .. 1 black) of the inner part of one bubble of an undegraded page."""
    s = dpi / 25.4
    cx, cy = block.bubble_centre(field_index, option_index)
    hw, hh = block.bubble_width / 2 * s * inner, block.bubble_height / 2 * s * inner
    mask = np.zeros(image.shape, np.uint8)
    cv2.ellipse(mask, (int(round(cx * s)), int(round(cy * s))), (max(1, int(hw)), max(1, int(hh))), 0, 0, 360, 255, -1)
    return float(1.0 - cv2.mean(image, mask)[0] / 255.0)


__all__ = ["CLEAN", "DEFAULT_MIX", "Answers", "FieldTruth", "MarkMix", "MarkStyle", "SheetTruth", "TruthClass",
           "fill_sheet", "measure_darkness", "random_answers"]
