"""Alignment by a blank reference scan (layouts with ``alignment.method = reference``): ORB features
of the scan matched against those of the blank sheet, a RANSAC homography, the page corners through
it. For sheets with neither markers nor visible paper edges.

The reference image is found by :func:`reference_for`: one registered with
:func:`register_reference` (the service does this when it loads a layout file, since the path in
the layout is relative to that file), else ``alignment.reference_image`` opened as a path.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from omr.layout import SheetLayout

FEATURE_PX_PER_MM = 4.0  # features of printed text need more than the marker search's 2.8 px/mm
MIN_INLIERS = 25


@dataclass(frozen=True)
class Reference:
    keypoints: np.ndarray  # (n, 2) px at ``px_per_mm``
    descriptors: np.ndarray
    px_per_mm: float


_lock = threading.Lock()
_registered: dict[int, tuple[SheetLayout, Reference]] = {}
_by_path: dict[str, Reference] = {}


def _features(grey: np.ndarray, count: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    orb = cv2.ORB.create(nfeatures=count, scaleFactor=1.2, nlevels=6, fastThreshold=20)
    # Smoothed and flattened first: scanner noise and uneven light must not become features.
    smooth = cv2.GaussianBlur(grey, (0, 0), 1.0)
    background = cv2.dilate(cv2.resize(smooth, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA),
                            np.ones((5, 5), np.uint8))
    flat = cv2.divide(smooth, cv2.resize(np.maximum(background, 8), (grey.shape[1], grey.shape[0])), scale=255)
    keypoints, descriptors = orb.detectAndCompute(flat, mask)
    return np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2), descriptors


def make_reference(layout: SheetLayout, blank: np.ndarray) -> Reference:
    """Features of a blank scan of the whole page (any resolution; grey or colour)."""
    grey = blank if blank.ndim == 2 else cv2.cvtColor(blank, cv2.COLOR_BGR2GRAY)
    width = int(round(layout.page.width * FEATURE_PX_PER_MM))
    height = int(round(layout.page.height * FEATURE_PX_PER_MM))
    small = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    points, descriptors = _features(small, 1500, _printed_only(layout, small.shape, FEATURE_PX_PER_MM))
    if descriptors is None or len(points) < MIN_INLIERS:
        raise ValueError("the reference image has too few features (is it blank?)")
    return Reference(points, descriptors, FEATURE_PX_PER_MM)


def _printed_only(layout: SheetLayout, shape: tuple[int, ...], s: float) -> np.ndarray:
    """A mask of the page without its bubble blocks and answer boxes: candidates' marks and
    handwriting differ from scan to scan, and rows of identical bubbles match anywhere."""
    mask = np.full(shape[:2], 255, np.uint8)
    for block in layout.bubble_blocks:
        last = block.bubble_centre(len(block.fields) - 1, len(block.labels) - 1)
        x0, y0 = block.origin_x - block.bubble_width / 2 - 1, block.origin_y - block.bubble_height / 2 - 1
        x1, y1 = last[0] + block.bubble_width / 2 + 1, last[1] + block.bubble_height / 2 + 1
        mask[max(0, int(y0 * s)):int(y1 * s) + 1, max(0, int(x0 * s)):int(x1 * s) + 1] = 0
    for region in layout.regions:
        mask[int((region.y + 1) * s):int((region.y + region.height - 1) * s),
             int((region.x + 1) * s):int((region.x + region.width - 1) * s)] = 0
    return mask


def register_reference(layout: SheetLayout, blank: np.ndarray) -> None:
    """Use ``blank`` as the reference scan of ``layout`` (kept as long as the layout object lives here)."""
    reference = make_reference(layout, blank)
    with _lock:
        _registered[id(layout)] = (layout, reference)
        while len(_registered) > 64:
            _registered.pop(next(iter(_registered)))


def reference_for(layout: SheetLayout) -> Reference | None:
    with _lock:
        hit = _registered.get(id(layout))
        if hit is not None and hit[0] is layout:
            return hit[1]
        path = layout.alignment.reference_image
        if not path:
            return None
        cached = _by_path.get(path)
    if cached is not None:
        return cached
    if not Path(path).is_file():
        return None
    blank = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if blank is None:
        return None
    reference = make_reference(layout, blank)
    with _lock:
        _by_path[path] = reference
    return reference


def match_reference(grey: np.ndarray, layout: SheetLayout, reference: Reference) -> np.ndarray | None:
    """The homography from reference pixels to ``grey`` pixels, or None when the scan does not match."""
    factor = min(1.0, reference.px_per_mm * max(layout.page.width, layout.page.height) / max(grey.shape))
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else grey
    points, descriptors = _features(small, 3000)
    if descriptors is None or len(points) < MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(reference.descriptors, descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    source = reference.keypoints[[m.queryIdx for m in good]]
    target = points[[m.trainIdx for m in good]]
    homography, inliers = cv2.findHomography(source, target, cv2.USAC_MAGSAC, 2.0, maxIters=5000)
    if homography is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    to_full = np.diag([1 / factor, 1 / factor, 1.0])
    return np.asarray(to_full @ homography, dtype=np.float64)
