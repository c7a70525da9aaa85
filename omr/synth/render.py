"""Draw a blank sheet page straight from its layout as a grey raster (what the printer would put
on paper), at a chosen resolution. The PDF printed for real is drawn from the same layout by
``exam_server.printing``; a round-trip test checks both agree."""

from __future__ import annotations

import cv2
import numpy as np

from omr.layout import BubbleBlock, BubbleShape, Marker, MarkerShape, SheetLayout
from omr.sheet_code import SheetCode, encode, qr_matrix

INK = 0
PAPER = 255
OUTLINE = 90  # bubble outlines are printed grey, so a mark is much darker than the outline


def px(mm: float, dpi: float) -> int:
    return int(round(mm * dpi / 25.4))


def render_blank(layout: SheetLayout, dpi: float = 200.0, code: SheetCode | None = None) -> np.ndarray:
    """A white page with markers, bubbles, region frames and (when given) the QR code."""
    image = np.full((px(layout.page.height, dpi), px(layout.page.width, dpi)), PAPER, np.uint8)
    for marker in layout.alignment.markers:
        _marker(image, marker, dpi)
    for block in layout.bubble_blocks:
        _bubbles(image, block, dpi)
    for region in layout.regions:
        cv2.rectangle(image, (px(region.x, dpi), px(region.y, dpi)),
                      (px(region.x + region.width, dpi), px(region.y + region.height, dpi)), OUTLINE, 1)
    if layout.qr is not None and code is not None:
        _qr(image, layout, dpi, encode(code))
    return image


def _marker(image: np.ndarray, marker: Marker, dpi: float) -> None:
    cx, cy, half = px(marker.x, dpi), px(marker.y, dpi), px(marker.size / 2, dpi)
    if marker.shape == MarkerShape.SQUARE:
        cv2.rectangle(image, (cx - half, cy - half), (cx + half, cy + half), INK, -1)
    else:
        cv2.circle(image, (cx, cy), half, INK, -1, cv2.LINE_AA)
        if marker.shape == MarkerShape.RING:
            cv2.circle(image, (cx, cy), max(1, half // 2), PAPER, -1, cv2.LINE_AA)


def bubble_box(block: BubbleBlock, field_index: int, option_index: int, dpi: float) -> tuple[int, int, int, int]:
    """Centre and half-axes of one bubble in pixels."""
    x, y = block.bubble_centre(field_index, option_index)
    return px(x, dpi), px(y, dpi), px(block.bubble_width / 2, dpi), px(block.bubble_height / 2, dpi)


def _bubbles(image: np.ndarray, block: BubbleBlock, dpi: float) -> None:
    scale = max(0.2, block.bubble_height * dpi / 25.4 / 40)
    for f in range(len(block.fields)):
        for o, label in enumerate(block.options_of(f)):
            cx, cy, hw, hh = bubble_box(block, f, o, dpi)
            if block.shape == BubbleShape.RECT:
                cv2.rectangle(image, (cx - hw, cy - hh), (cx + hw, cy + hh), OUTLINE, 1)
            else:
                cv2.ellipse(image, (cx, cy), (hw, hh), 0, 0, 360, OUTLINE, 1, cv2.LINE_AA)
            (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            cv2.putText(image, label, (cx - tw // 2, cy + th // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 160, 1,
                        cv2.LINE_AA)


def _qr(image: np.ndarray, layout: SheetLayout, dpi: float, text: str) -> None:
    assert layout.qr is not None
    modules = np.array(qr_matrix(text), dtype=bool)
    n = modules.shape[0] + 8  # 4-module quiet zone each side, inside the printed box
    side = px(layout.qr.size, dpi)
    grid = np.full((n, n), PAPER, np.uint8)
    grid[4:-4, 4:-4][modules] = INK
    tile = cv2.resize(grid, (side, side), interpolation=cv2.INTER_NEAREST)
    x0, y0 = px(layout.qr.x, dpi), px(layout.qr.y, dpi)
    image[y0:y0 + side, x0:x0 + side] = tile


def fill_bubble(image: np.ndarray, block: BubbleBlock, field_index: int, option_index: int, dpi: float,
                darkness: float = 1.0, coverage: float = 0.85) -> None:
    """Fill one bubble: ``darkness`` 1 is pen-black, ~0.5 a light pencil; ``coverage`` the share
    of the bubble's axes the fill reaches."""
    cx, cy, hw, hh = bubble_box(block, field_index, option_index, dpi)
    value = int(round(PAPER * (1 - darkness)))
    axes = (max(1, int(hw * coverage)), max(1, int(hh * coverage)))
    if block.shape == BubbleShape.RECT:
        cv2.rectangle(image, (cx - axes[0], cy - axes[1]), (cx + axes[0], cy + axes[1]), value, -1)
    else:
        cv2.ellipse(image, (cx, cy), axes, 0, 0, 360, value, -1, cv2.LINE_AA)
