"""Read one page: image -> PageReading (or PageFailure), wiring the pure stages
load -> locate -> rectify -> measure -> interpret. Never raises on a bad image."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from omr.interpret import interpret
from omr.layout import SheetLayout
from omr.locate import LocateError, Location, QrHit, find_qr, locate, working_copy
from omr.measure import BlockMeasure, fill_ratios, geometry, levels, measure
from omr.reading import Issue, IssueCode, PageFailure, PageReading
from omr.rectify import PX_PER_MM, rectify
from omr.sheet_code import SheetCode

MIN_SIDE_PX = 500  # an A4 page below ~60 dpi cannot be read
# Variance of the Laplacian of the (median-filtered) working copy at ~2.8 px/mm: a sharp scan gives
# ~1000, a blur of 0.5 mm ~25, of 1 mm ~3.
MIN_SHARPNESS = 8.0
MIN_RING_CONTRAST = 0.025  # the bubble outlines must show where the layout puts them
GOOD_FIT = 0.05  # ... and when they show this clearly, on a clean marker fit, no other placement is tried
CLEAN_SHAPE = 0.12
MAX_CANDIDATES = 8
SAME_FIT = 0.75  # without a QR, two rotations fitting this alike cannot be told apart

LayoutFor = Callable[[SheetCode | None], SheetLayout | None]


def _failure(source: str, code: IssueCode, reason: str) -> PageFailure:
    return PageFailure(source=source, issue=Issue(code, f"{source or 'page'}: {reason}"))


def _as_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] in (3, 4):
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim != 2:
        raise ValueError(f"not a grey or colour image (shape {image.shape})")
    if image.dtype != np.uint8:
        top = float(image.max()) if image.size else 1.0
        image = np.clip(image.astype(np.float64) * (255.0 / (65535.0 if top > 255 else 255.0)), 0, 255)
        image = image.astype(np.uint8)
    return np.ascontiguousarray(image)


def read_page(image: np.ndarray, layout_for: LayoutFor, source: str = "",
              px_per_mm: float = PX_PER_MM) -> PageReading | PageFailure:
    """Find the QR (any rotation), ask ``layout_for(code)`` for the layout (None code: a sheet
    without our QR), locate, rectify, measure and interpret."""
    try:
        return _read(image, layout_for, source, px_per_mm)
    except (cv2.error, ValueError, ArithmeticError, IndexError, KeyError, TypeError, AssertionError, MemoryError,
            np.linalg.LinAlgError) as exc:
        return _failure(source, IssueCode.UNUSABLE_IMAGE, f"the image cannot be processed: {exc}")


def _read(image: np.ndarray, layout_for: LayoutFor, source: str, px_per_mm: float) -> PageReading | PageFailure:
    if not isinstance(image, np.ndarray) or image.size == 0:
        return _failure(source, IssueCode.UNUSABLE_IMAGE, "empty image")
    grey = _as_grey(image)
    height, width = grey.shape
    if min(height, width) < MIN_SIDE_PX:
        return _failure(source, IssueCode.UNUSABLE_IMAGE,
                        f"image too small ({width}x{height} px; a page needs at least {MIN_SIDE_PX} px a side)")
    small, factor = working_copy(grey)
    histogram = np.cumsum(cv2.calcHist([small], [0], None, [256], [0, 256]).ravel())
    paper = int(np.searchsorted(histogram, 0.995 * small.size))  # 99.5th percentile: the paper
    if paper < 80 or histogram[paper - 80] < 2e-4 * small.size:  # no print (or ink) 80 levels darker
        return _failure(source, IssueCode.UNUSABLE_IMAGE, "blank page (no printing found)")
    sharpness = _sharpness(small)
    if sharpness < MIN_SHARPNESS:
        return _failure(source, IssueCode.UNUSABLE_IMAGE, f"image too blurred (sharpness {sharpness:.1f} < "
                                                          f"{MIN_SHARPNESS:.0f})")
    qr = find_qr(grey, small, factor)
    code = qr.code if qr is not None else None
    layout = layout_for(code)
    if layout is None:
        what = f"sheet code {qr.text!r}" if qr is not None else "a page without a sheet QR code"
        return _failure(source, IssueCode.CANNOT_LOCATE, f"no layout for {what}")
    try:
        candidates = locate(grey, small, factor, layout, qr)
    except LocateError as exc:
        return _failure(source, IssueCode.CANNOT_LOCATE, str(exc))
    geo = geometry(layout, px_per_mm)
    tried: list[_Trial] = []

    def attempt(location: Location) -> _Trial:
        page, _, spread = rectify(grey, layout, location, px_per_mm)
        measures = measure(page, geo)
        fit = _grid_fit(measures)
        trial = _Trial(fit, location, page, spread, measures)
        tried.append(trial)
        return trial

    rotation_known = qr is not None and qr.rotation is not None
    if not rotation_known:
        # No trustworthy QR: the best placement of every rotation the markers allow, so a sheet
        # that looks the same either way up is caught instead of read upside down.
        firsts: dict[int, Location] = {}
        for location in candidates:
            firsts.setdefault(location.rotation, location)
        by_rotation = sorted((attempt(loc) for loc in firsts.values()), key=lambda t: -t.fit)
        if len(by_rotation) > 1 and by_rotation[0].fit >= MIN_RING_CONTRAST \
                and by_rotation[1].fit >= SAME_FIT * by_rotation[0].fit:
            return _failure(source, IssueCode.CANNOT_LOCATE,
                            f"cannot tell which way up the sheet is (rotations {by_rotation[0].location.rotation} "
                            f"and {by_rotation[1].location.rotation} fit alike)")
        candidates = [c for c in candidates if c.rotation == by_rotation[0].location.rotation]
    for location in candidates[:MAX_CANDIDATES]:
        done = next((t for t in tried if t.location is location), None)
        trial = done or attempt(location)
        if trial.fit >= GOOD_FIT and location.shape_error <= CLEAN_SHAPE:
            break  # a clean fit: no need to try the others
    best = max(tried, key=lambda t: t.fit)
    fit, location, page, spread, measures = best.fit, best.location, best.page, best.spread, best.measures
    quality = {"sharpness": round(sharpness, 1), "grid_fit": round(fit, 4), "light_spread": round(spread, 2),
               "shape_error": round(location.shape_error, 4), "markers_missing": float(len(location.missing)),
               "scale_px_per_mm": round(_image_scale(location), 2)}
    if measures and fit < MIN_RING_CONTRAST:
        return _failure(source, IssueCode.CANNOT_LOCATE, f"the bubble grid does not fit the page (fit {fit:.3f}, "
                                                         f"sharpness {sharpness:.0f}): wrong layout, markers misread "
                                                         "or the image too blurred")
    darkness = np.concatenate([m.darkness for m in measures]) if measures else np.zeros(0)
    lv = levels(darkness)
    quality.update({"blank_level": round(lv.blank, 4), "mark_level": round(lv.mark, 4),
                    "noise": round(lv.noise, 4)})
    result = interpret(measures, [fill_ratios(m.darkness, lv) for m in measures], lv)
    issues = list(result.issues)
    if location.missing:
        quality["markers_missing"] = float(len(location.missing))
    return PageReading(layout_name=layout.name, page_no=layout.page_no, code=code, rotation=location.rotation,
                       px_per_mm=px_per_mm, image=page, fields=result.fields, admission_no=result.admission_no,
                       admission_confidence=result.admission_confidence, absent=result.absent, issues=issues,
                       quality=quality, layout=layout)


@dataclass(frozen=True)
class _Trial:
    fit: float
    location: Location
    page: np.ndarray
    spread: float
    measures: list[BlockMeasure]


def _grid_fit(measures: list[BlockMeasure]) -> float:
    """How well the bubble grid sits where the layout puts it: the median block's outline contrast,
    but never more than twice the worst block's (with 4+ bubbles): one misplaced block is enough
    to misread answers, so it drags the page's fit down below the acceptance line."""
    if not measures:
        return 1.0
    contrasts = [m.ring_contrast for m in measures]
    median = float(np.median(contrasts))
    sized = [m.ring_contrast for m in measures if len(m.darkness) >= 4]
    worst = min(sized) if sized else median
    return min(median, max(0.0, 2.0 * worst))


def _sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.medianBlur(grey, 3), cv2.CV_32F).var())


def _image_scale(location: Location) -> float:
    page, image = location.page_mm, location.image_px
    return float(np.linalg.norm(image[1] - image[0])) / max(1e-6, float(np.linalg.norm(page[1] - page[0])))


__all__ = ["LayoutFor", "QrHit", "read_page"]
