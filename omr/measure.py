"""Measure: how dark each bubble is on the rectified page, and the sheet's own blank and mark levels.

Per block, the bubble grid is first shifted (within +-1 mm) to where it is darkest as a whole
(printed outlines and marks line up), then each bubble by +-2 px more. The darkness of a bubble is
measured inside the inner part of its ellipse (the printed outline is left out). Everything is
vectorised with numpy over all bubbles; the geometry (centres, masks) is computed once per layout.

Fill ratios are relative to the sheet's own levels (two-cluster split of all the page's bubbles),
never to one fixed threshold.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from omr.layout import BubbleBlock, BubbleShape, SheetLayout

INNER = 0.65  # share of the bubble's axes measured (the outline and its blur stay outside)
SEARCH_MM = 1.0  # block shift search radius
REFINE_PX = 2  # per-bubble refinement radius


@dataclass(frozen=True)
class BlockGeometry:
    block: BubbleBlock
    field_index: np.ndarray  # (n,) per bubble
    option_index: np.ndarray  # (n,)
    cx: np.ndarray  # (n,) int, canonical px
    cy: np.ndarray
    half_w: int  # bubble half axes, px
    half_h: int
    inner_w: int  # inner (measured) box half sizes, px
    inner_h: int
    mask: np.ndarray  # (2*inner_h+1, 2*inner_w+1) float32 weights summing to 1


@dataclass(frozen=True)
class Geometry:
    px_per_mm: float
    blocks: tuple[BlockGeometry, ...]


_CACHE: OrderedDict[tuple[int, float], tuple[SheetLayout, Geometry]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def geometry(layout: SheetLayout, px_per_mm: float) -> Geometry:
    """Bubble centres and masks of a layout in canonical pixels (cached per layout object)."""
    key = (id(layout), px_per_mm)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is layout:
            _CACHE.move_to_end(key)
            return hit[1]
    blocks = []
    for block in layout.bubble_blocks:
        fields, options, xs, ys = [], [], [], []
        for f in range(len(block.fields)):
            for o in range(len(block.options_of(f))):
                x, y = block.bubble_centre(f, o)
                fields.append(f)
                options.append(o)
                xs.append(int(round(x * px_per_mm)))
                ys.append(int(round(y * px_per_mm)))
        half_w = max(1, int(round(block.bubble_width * px_per_mm / 2)))
        half_h = max(1, int(round(block.bubble_height * px_per_mm / 2)))
        inner_w, inner_h = max(1, int(half_w * INNER)), max(1, int(half_h * INNER))
        if block.shape == BubbleShape.RECT:
            mask = np.ones((2 * inner_h + 1, 2 * inner_w + 1), np.float32)
        else:
            yy, xx = np.mgrid[-inner_h:inner_h + 1, -inner_w:inner_w + 1]
            mask = (((xx / (inner_w + 0.5)) ** 2 + (yy / (inner_h + 0.5)) ** 2) <= 1.0).astype(np.float32)
        mask /= mask.sum()
        blocks.append(BlockGeometry(block, np.array(fields), np.array(options), np.array(xs), np.array(ys),
                                    half_w, half_h, inner_w, inner_h, mask))
    result = Geometry(px_per_mm, tuple(blocks))
    with _CACHE_LOCK:
        _CACHE[key] = (layout, result)
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return result


@dataclass(frozen=True)
class BlockMeasure:
    geometry: BlockGeometry
    darkness: np.ndarray  # (n,) 0 (paper) .. 1 (black), inner part of each bubble
    x: np.ndarray  # (n,) measured centres, canonical px (after the local search)
    y: np.ndarray
    ring_contrast: float  # printed outline darkness minus the paper around: > 0 when the grid fits


def _box_sums(integral: np.ndarray, cx: np.ndarray, cy: np.ndarray, half_w: int, half_h: int) -> np.ndarray:
    """Sums of the boxes centred at (cx, cy) (any matching shapes) from an integral image."""
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    x0, x1 = np.clip(np.stack([cx - half_w, cx + half_w + 1]), 0, w)
    y0, y1 = np.clip(np.stack([cy - half_h, cy + half_h + 1]), 0, h)
    sums: np.ndarray = (integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]).astype(np.float64)
    return sums


def measure(page: np.ndarray, geo: Geometry) -> list[BlockMeasure]:
    """Darkness of every bubble of the (flattened, canonical) page."""
    integral = cv2.integral(page, sdepth=cv2.CV_32S)
    height, width = page.shape
    radius = max(1, int(round(SEARCH_MM * geo.px_per_mm)))
    steps = np.arange(-radius, radius + 1)
    dy, dx = (a.ravel() for a in np.meshgrid(steps, steps, indexing="ij"))
    fine = np.arange(-REFINE_PX, REFINE_PX + 1)
    fy, fx = (a.ravel() for a in np.meshgrid(fine, fine, indexing="ij"))
    results = []
    for bg in geo.blocks:
        # 1. Block shift: the whole grid where the bubble boxes are darkest.
        sums = _box_sums(integral, bg.cx[None, :] + dx[:, None], bg.cy[None, :] + dy[:, None], bg.half_w, bg.half_h)
        best = int(np.argmin(sums.sum(axis=1)))
        bx, by = bg.cx + dx[best], bg.cy + dy[best]
        # 2. Per bubble: +-REFINE_PX to the darkest inner box.
        inner = _box_sums(integral, bx[None, :] + fx[:, None], by[None, :] + fy[:, None], bg.inner_w, bg.inner_h)
        pick = np.argmin(inner, axis=0)
        x = np.clip(bx + fx[pick], bg.inner_w, width - bg.inner_w - 1)
        y = np.clip(by + fy[pick], bg.inner_h, height - bg.inner_h - 1)
        # 3. Darkness inside the inner ellipse (exact mask, gathered patches).
        ry = np.arange(-bg.inner_h, bg.inner_h + 1)
        rx = np.arange(-bg.inner_w, bg.inner_w + 1)
        patches = page[y[:, None, None] + ry[None, :, None], x[:, None, None] + rx[None, None, :]]
        mean = np.einsum("nij,ij->n", patches.astype(np.float32), bg.mask)
        darkness = 1.0 - mean / 255.0
        # 4. Grid fit: the outline band against a band of paper around it (at the block shift).
        full = _box_sums(integral, bx, by, bg.half_w, bg.half_h)
        core = _box_sums(integral, bx, by, bg.inner_w, bg.inner_h)
        margin = max(2, int(round(0.6 * geo.px_per_mm)))
        outer = _box_sums(integral, bx, by, bg.half_w + margin, bg.half_h + margin)
        n_full = (2 * bg.half_w + 1) * (2 * bg.half_h + 1)
        n_core = (2 * bg.inner_w + 1) * (2 * bg.inner_h + 1)
        n_outer = (2 * (bg.half_w + margin) + 1) * (2 * (bg.half_h + margin) + 1)
        ring = 1.0 - (full - core) / (n_full - n_core) / 255.0
        around = 1.0 - (outer - full) / (n_outer - n_full) / 255.0
        results.append(BlockMeasure(bg, darkness.astype(np.float64), x, y, float(np.median(ring - around))))
    return results


@dataclass(frozen=True)
class Levels:
    blank: float  # typical darkness of an unmarked bubble on this sheet
    mark: float  # typical darkness of a marked bubble on this sheet (estimated when none is marked)
    noise: float  # robust spread of the blank bubbles
    marked_found: bool


def levels(darkness: np.ndarray) -> Levels:
    """The sheet's blank and mark levels from all its bubbles: a two-cluster split (Otsu on the
    sorted values); the mark cluster counts only when it stands clearly apart from the blanks."""
    values = np.sort(darkness.astype(np.float64))
    n = len(values)
    if n == 0:
        return Levels(0.0, 1.0, 0.0, False)
    if n < 4:
        blank = float(values[0])
        return Levels(blank, max(blank + 0.5, float(values[-1])), 0.02, float(values[-1]) > blank + 0.3)
    cumsum = np.cumsum(values)
    total = cumsum[-1]
    k = np.arange(1, n)
    mean_low = cumsum[:-1] / k
    mean_high = (total - cumsum[:-1]) / (n - k)
    between = k * (n - k) * (mean_high - mean_low) ** 2
    split = int(np.argmax(between)) + 1
    low, high = values[:split], values[split:]
    blank = float(np.median(low))
    noise = float(1.4826 * np.median(np.abs(low - blank))) + 0.005
    mark = float(np.median(high)) if len(high) else blank
    if len(high) and mark - blank > max(0.15, 8 * noise):
        return Levels(blank, mark, noise, True)
    # No clear marks: the whole page is blank (or nearly); the blanks are all values near the median.
    blank = float(np.median(values))
    noise = float(1.4826 * np.median(np.abs(values - blank))) + 0.005
    return Levels(blank, min(1.0, blank + 0.6), noise, False)


def fill_ratios(darkness: np.ndarray, lv: Levels) -> np.ndarray:
    """Darkness relative to the sheet: 0 at its blank level, 1 at its mark level."""
    return np.clip((darkness - lv.blank) / max(0.05, lv.mark - lv.blank), 0.0, 1.5)
