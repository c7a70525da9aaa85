"""Rectify: the located page warped to a canonical raster (``px_per_mm`` pixels per mm, origin at
the page's top-left), then flattened: uneven light and shadows (phone photos) are divided out by
a large-scale background estimate, so paper is ~255 everywhere and marks keep their contrast."""

from __future__ import annotations

import cv2
import numpy as np

from omr.layout import SheetLayout
from omr.locate import Location

# 6 px/mm (152 dpi): bubbles of 5 x 3.2 mm are 30 x 19 px, crops stay legible, a page is 2.2 Mpx.
PX_PER_MM = 6.0
AFFINE_TOLERANCE_MM = 0.3


def page_transform(location: Location, px_per_mm: float) -> np.ndarray:
    """The 3x3 map from canonical page pixels to image pixels."""
    page = (location.page_mm * px_per_mm).astype(np.float32)
    image = location.image_px.astype(np.float32)
    if len(page) >= 4:
        # A flatbed scan has no perspective: when an affine map fits the points to within
        # AFFINE_TOLERANCE_MM, use it (it also averages out the markers' centring noise).
        design = np.hstack([page.astype(np.float64), np.ones((len(page), 1))])
        solution, *_ = np.linalg.lstsq(design, image.astype(np.float64), rcond=None)
        residual = float(np.abs(design @ solution - image).max())
        scale = float(np.sqrt(abs(np.linalg.det(solution[:2].T))))  # image px per canonical px
        if residual <= AFFINE_TOLERANCE_MM * px_per_mm * scale:
            return np.vstack([solution.T, [0.0, 0.0, 1.0]])
        if len(page) == 4:
            return cv2.getPerspectiveTransform(page, image)
        homography, _ = cv2.findHomography(page, image, 0)
        if homography is not None:
            return np.asarray(homography, dtype=np.float64)
    affine = cv2.getAffineTransform(page[:3], image[:3])
    return np.vstack([affine, [0.0, 0.0, 1.0]])


def warp_page(grey: np.ndarray, layout: SheetLayout, transform: np.ndarray, px_per_mm: float) -> np.ndarray:
    size = (int(round(layout.page.width * px_per_mm)), int(round(layout.page.height * px_per_mm)))
    if _nearly_affine(transform, size):
        # A flatbed scan: the affine warp is 2-3x faster and the same to within a tenth of a mm.
        affine = (transform / transform[2, 2])[:2]
        return cv2.warpAffine(grey, affine, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpPerspective(grey, transform, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


def _nearly_affine(transform: np.ndarray, size: tuple[int, int]) -> bool:
    corners = np.array([[0, 0, 1], [size[0], 0, 1], [size[0], size[1], 1], [0, size[1], 1]], dtype=np.float64)
    h = transform / transform[2, 2]
    full = corners @ h.T
    exact = full[:, :2] / full[:, 2:3]
    approx = corners @ h[:2].T
    return float(np.abs(exact - approx).max()) < 0.6  # px; 0.1 mm at 6 px/mm


def flatten(page: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, float]:
    """Divide out the background (paper) brightness, estimated at ~0.75-1.5 px/mm by a grey closing over
    ~10 mm (removes marks, bubbles and markers) and a blur. Returns the page and the paper level's
    spread (max/min background: 1 for a flat scan, > 2 for a strong shadow)."""
    small = page
    scale = px_per_mm
    while scale / 2 >= 0.6 and min(small.shape) >= 16:
        small = cv2.pyrDown(small)
        scale /= 2
    side = max(3, int(round(10 * scale)) | 1)  # ~10 mm
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.GaussianBlur(background, (0, 0), 3)
    background = np.maximum(background, 8)
    spread = float(np.percentile(background, 99)) / float(max(1.0, np.percentile(background, 1)))
    full = cv2.resize(background, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(page, full, scale=255), spread


def rectify(grey: np.ndarray, layout: SheetLayout, location: Location,
            px_per_mm: float = PX_PER_MM) -> tuple[np.ndarray, np.ndarray, float]:
    """(flattened canonical page, canonical->image transform, background spread)."""
    transform = page_transform(location, px_per_mm)
    page = warp_page(grey, layout, transform, px_per_mm)
    flat, spread = flatten(page, px_per_mm)
    return flat, transform, spread
