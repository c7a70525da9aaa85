"""Locate: where the page is in the image and how it is turned.

First the QR code (on a downscaled copy, then the full image), which names the sheet and, through
the order of its corner points, the rotation (0/90/180/270, upside-down feeds included). Then the
alignment points of the layout:

* MARKERS: dark solid blobs of the marker's size and shape (contours of an adaptive-threshold
  binary, filtered by area, solidity, aspect ratio and fill), the outermost one in each corner's
  direction. One missing or smudged marker is tolerated: like Auto Multiple Choice, every set that
  leaves one marker out is tried and the page is fitted from the other three.
* EDGES: the paper's outline (largest quadrilateral) on a darker scanner bed.

Without a QR (third-party sheets) every rotation the markers allow is returned, best first by
shape; :mod:`omr.reader` picks the one whose bubble grid fits best.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from omr.layout import AlignMethod, Marker, MarkerShape, SheetLayout
from omr.sheet_code import SheetCode, decode, qr_matrix

# The working copy for finding things: about this many pixels per mm (QR modules need >= 2.5 px).
FIND_PX_PER_MM = 2.8
ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class QrHit:
    text: str
    code: SheetCode | None  # None: a QR that is not one of our sheet codes
    points: np.ndarray  # (4, 2) full-resolution corners in the QR's own order TL, TR, BR, BL
    rotation: int | None  # clockwise turn of the scan from the QR's axes (None: corners unclear)


@dataclass(frozen=True)
class Location:
    """Matching points: ``page_mm`` (layout millimetres) seen at ``image_px`` (full-resolution pixels)."""

    rotation: int
    page_mm: np.ndarray  # (n, 2), n = 3 (affine) or 4 (homography)
    image_px: np.ndarray  # (n, 2)
    method: str
    missing: tuple[int, ...] = ()  # indices of layout markers not found (smudged, torn, out of frame)
    shape_error: float = 0.0  # how far the fitted transform is from a plain similarity (0 = perfect)


class LocateError(ValueError):
    """The page cannot be located; the message says what was not found."""


def working_copy(grey: np.ndarray, page_long_mm: float = 297.0) -> tuple[np.ndarray, float]:
    """A downscaled copy at about FIND_PX_PER_MM (assuming the page fills the image) and its factor."""
    target = min(1.0, FIND_PX_PER_MM * page_long_mm / max(grey.shape))
    if target >= 0.95:
        return grey, 1.0
    small, factor = grey, 1.0
    while factor / 2 >= target * 0.999:  # Gaussian pyramid: anti-aliased and much faster than INTER_AREA
        small = cv2.pyrDown(small)
        factor /= 2
    if factor / target > 1.05:
        rest = target / factor
        small = cv2.resize(small, None, fx=rest, fy=rest, interpolation=cv2.INTER_LINEAR)
    factor = small.shape[1] / grey.shape[1]
    return small, factor


def rotation_of(points: np.ndarray) -> int:
    """Clockwise turn (0/90/180/270) from a QR's TL->TR axis in image coordinates (y down)."""
    dx, dy = points[1] - points[0]
    angle = float(np.degrees(np.arctan2(dy, dx)))
    return int(round(angle / 90.0)) % 4 * 90


def _square_like(points: np.ndarray | None) -> bool:
    """A plausible QR outline: four corners, sides within 35% of each other, convex, not mirrored."""
    if points is None or points.shape != (4, 2) or not np.all(np.isfinite(points)):
        return False
    sides = np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)
    if sides.min() < 8 or sides.max() > 1.35 * sides.min():
        return False
    edges = np.roll(points, -1, axis=0) - points
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    return bool(np.all(cross > 0))  # clockwise on screen (y down) in the QR's own corner order


def find_qr(grey: np.ndarray, small: np.ndarray, factor: float) -> QrHit | None:
    """The QR code: detected on the working copy, decoded on a full-resolution crop; a 2x copy and
    the full image are tried only when that fails. ``rotation`` is None when the text was read but
    the corners are not trustworthy (the markers and the bubble grid decide then)."""
    # The ArUco-based detector finds codes about twice as fast as the classic one; it gets a second
    # chance on a copy 1.5x as large (where it finds the 24 mm code of our printed sheet when the
    # working copy is too coarse: ~6 % of 200 dpi scans, at half the cost of the classic detector
    # at 2x, which it finds more often), then the classic one on a copy twice as large.
    # Last, both detectors on the full image: small codes (a 24 mm QR of 33 modules) can be lost at
    # the working copy's scale.
    for attempt in range(5):
        detector: cv2.QRCodeDetectorAruco | cv2.QRCodeDetector
        if attempt == 0:
            image, scale, detector = small, factor, cv2.QRCodeDetectorAruco()
        elif attempt in (1, 2):
            scale = factor * (1.5 if attempt == 1 else 2.0)
            if scale >= 0.999:
                continue
            image = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            detector = cv2.QRCodeDetectorAruco() if attempt == 1 else cv2.QRCodeDetector()
        else:
            image, scale = grey, 1.0
            detector = cv2.QRCodeDetectorAruco() if attempt == 3 else cv2.QRCodeDetector()
        try:
            found, points = detector.detect(image)
        except cv2.error:
            continue
        if not found or points is None:
            continue
        corners = points.reshape(4, 2).astype(np.float64) / scale
        text, corners_read = _decode_crop(detector, grey, corners)
        if text is None:
            continue
        if not _square_like(corners_read):
            corners_read = corners if _square_like(corners) else None
        try:
            code: SheetCode | None = decode(text)
        except ValueError:
            code = None
        if corners_read is None:
            return QrHit(text=text, code=code, points=corners, rotation=None)
        return QrHit(text=text, code=code, points=corners_read, rotation=rotation_of(corners_read))
    return None


def _decode_crop(detector: cv2.QRCodeDetectorAruco | cv2.QRCodeDetector, grey: np.ndarray, corners: np.ndarray
                 ) -> tuple[str | None, np.ndarray | None]:
    """Decode at full resolution around ``corners``: the text and the corners it was read at."""
    side = float(np.linalg.norm(np.ptp(corners, axis=0)))
    margin = max(16.0, side * 0.3)
    x0, y0 = np.maximum(corners.min(axis=0) - margin, 0).astype(int)
    x1, y1 = np.minimum(corners.max(axis=0) + margin, [grey.shape[1], grey.shape[0]]).astype(int)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None, None
    crop = np.ascontiguousarray(grey[y0:y1, x0:x1])
    offset = np.array([x0, y0], dtype=np.float64)
    try:
        if _square_like(corners):
            text, _ = detector.decode(crop, (corners - offset).reshape(1, 4, 2).astype(np.float32))
            if text:
                return str(text), corners
        text, points, _ = detector.detectAndDecode(crop)
    except cv2.error:
        return None, None
    if not text:
        return None, None
    read = points.reshape(4, 2).astype(np.float64) + offset if points is not None else None
    return str(text), read


# ----------------------------------------------------------------------------------------- markers

@dataclass(frozen=True)
class Blob:
    x: float  # centre, working-copy pixels
    y: float
    side: float  # sqrt(area)


def marker_blobs(small: np.ndarray, marker: Marker, px_per_mm_max: float) -> list[Blob]:
    """Dark solid blobs that could be corner markers: adaptive-threshold binaries at two offsets
    (never one fixed threshold), contours filtered by size, solidity, aspect ratio and fill."""
    side_max = marker.size * px_per_mm_max * 1.5
    side_min = max(3.0, marker.size * px_per_mm_max * 0.35)
    block = int(side_max * 2) | 1
    blobs: list[Blob] = []
    for offset in (12, 30):
        if offset != 12 and len(blobs) >= 4:
            break  # the second, stricter binary only when the first misses markers
        binary = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                       max(block, 11), offset)
        # CCOMP, outer boundaries only: a marker inside the dark ring of a page edge still counts.
        contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is None:
            continue
        for contour, links in zip(contours, hierarchy[0], strict=True):
            if links[3] != -1:
                continue
            blob = _marker_blob(contour, binary, marker, side_min, side_max)
            if blob is not None and all(abs(blob.x - b.x) + abs(blob.y - b.y) > side_min for b in blobs):
                blobs.append(blob)
    return blobs


def _marker_blob(contour: np.ndarray, binary: np.ndarray, marker: Marker, side_min: float,
                 side_max: float) -> Blob | None:
    x, y, bw, bh = cv2.boundingRect(contour)
    height, width = binary.shape
    cut_x = x <= 1 or x + bw >= width - 1
    cut_y = y <= 1 or y + bh >= height - 1
    if cut_x or cut_y:
        return _cut_marker(binary, marker, (x, y, bw, bh), cut_x, cut_y, side_min, side_max)
    area = cv2.contourArea(contour)
    if not side_min ** 2 <= area <= side_max ** 2:
        return None
    (cx, cy), (w, h), _ = cv2.minAreaRect(contour)
    if min(w, h) <= 0 or max(w, h) / min(w, h) > 1.45:
        return None
    hull = cv2.contourArea(cv2.convexHull(contour))
    if hull <= 0 or area / hull < 0.8:
        return None
    rect_fill = area / (w * h)
    if marker.shape == MarkerShape.SQUARE and rect_fill < 0.72:
        return None
    if marker.shape != MarkerShape.SQUARE and not 0.6 <= rect_fill <= 0.9:
        return None
    ink = float(np.count_nonzero(binary[y:y + bh, x:x + bw])) / area
    if ink < (0.55 if marker.shape == MarkerShape.RING else 0.8):
        return None
    return Blob(float(cx), float(cy), float(np.sqrt(area)))


def _cut_marker(binary: np.ndarray, marker: Marker, rect: tuple[int, int, int, int], cut_x: bool, cut_y: bool,
                side_min: float, side_max: float) -> Blob | None:
    """A square marker cut by one edge of the image: its full side is the uncut extent, and its
    centre is half a side in from the visible inner edge (a corner cut cannot be recovered)."""
    if cut_x and cut_y or marker.shape != MarkerShape.SQUARE:
        return None
    x, y, bw, bh = rect
    side = float(bh if cut_x else bw)
    visible = float(bw if cut_x else bh)
    if not side_min <= side <= side_max or visible < 0.4 * side or visible > 1.1 * side:
        return None
    ink = float(np.count_nonzero(binary[y:y + bh, x:x + bw])) / max(1.0, bw * bh)
    if ink < 0.8:
        return None
    if cut_x:
        cx = x + bw - side / 2 if x <= 1 else x + side / 2
        cy = y + bh / 2
    else:
        cy = y + bh - side / 2 if y <= 1 else y + side / 2
        cx = x + bw / 2
    return Blob(float(cx), float(cy), side)


def _rotate_direction(dx: float, dy: float, rotation: int) -> tuple[float, float]:
    """A page direction as seen in an image turned ``rotation`` degrees clockwise."""
    for _ in range(rotation // 90):
        dx, dy = -dy, dx
    return dx, dy


def _page_size_rotated(layout: SheetLayout, rotation: int) -> tuple[float, float]:
    w, h = layout.page.width, layout.page.height
    return (h, w) if rotation in (90, 270) else (w, h)


def _similarity_error(page: np.ndarray, image: np.ndarray) -> float:
    """How far the best transform page->image (affine for 3 points, homography for 4) is from a
    similarity, and whether it mirrors: 0 for a clean scan, ~0.1 for a phone photo at an angle."""
    if len(page) == 3:
        affine = cv2.getAffineTransform(page.astype(np.float32), image.astype(np.float32))
        linear = affine[:, :2]
    else:
        homography = cv2.getPerspectiveTransform(page.astype(np.float32), image.astype(np.float32))
        centre = page.mean(axis=0)
        # The linear part of the homography at the page centre (its Jacobian).
        x, y = centre
        h = homography
        w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w
        v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w
        linear = np.array([[(h[0, 0] - u * h[2, 0]) / w, (h[0, 1] - u * h[2, 1]) / w],
                           [(h[1, 0] - v * h[2, 0]) / w, (h[1, 1] - v * h[2, 1]) / w]])
        # Perspective: how much the scale changes across the page.
        span = float(np.ptp(page, axis=0).max())
        perspective = abs(h[2, 0]) * span / abs(w) + abs(h[2, 1]) * span / abs(w)
        if perspective > 0.6:
            return 9.0
    if np.linalg.det(linear) <= 0:
        return 9.0  # mirrored or degenerate
    s = np.linalg.svd(linear, compute_uv=False)
    anisotropy = float(s[0] / s[1] - 1.0)
    if len(page) == 4:
        # Every marker must be where the others predict it, within the perspective we accept.
        return float(anisotropy + 0.5 * perspective)
    return anisotropy


def _inside(points: np.ndarray, polygon: np.ndarray, grow: float) -> np.ndarray:
    """Which points fall inside ``polygon`` grown by ``grow`` (a share of its size) around its centre."""
    centre = polygon.mean(axis=0)
    grown = (centre + (polygon - centre) * (1 + grow)).astype(np.float32).reshape(-1, 1, 2)
    return np.array([cv2.pointPolygonTest(grown, (float(x), float(y)), False) >= 0 for x, y in points], dtype=bool)


def qr_symbol_mm(layout: SheetLayout, text: str) -> np.ndarray | None:
    """Corners (mm, TL TR BR BL) of the QR symbol printed in the layout's QR box: the modules sit
    inside a 4-module quiet zone, as ``omr.synth.render`` and the sheet PDF draw them."""
    if layout.qr is None:
        return None
    try:
        modules = _module_count(text)
    except Exception:  # noqa: BLE001 - a text the encoder refuses: no extra points
        return None
    unit = layout.qr.size / (modules + 8)
    x0, y0 = layout.qr.x + 4 * unit, layout.qr.y + 4 * unit
    x1, y1 = x0 + modules * unit, y0 + modules * unit
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


@functools.lru_cache(maxsize=256)
def _module_count(text: str) -> int:
    return len(qr_matrix(text))


def find_markers(grey: np.ndarray, small: np.ndarray, factor: float, layout: SheetLayout,
                 rotations: tuple[int, ...] = ROTATIONS, exclude: np.ndarray | None = None,
                 qr_text: str | None = None) -> list[Location]:
    """Plausible placements of the layout's markers, best first: for each rotation the full set
    and every set that leaves one marker out (the reader keeps the one the bubble grid fits best).
    ``exclude``: a polygon (full-resolution px, e.g. the QR code) where markers cannot be.
    Raises LocateError when nothing plausible is found."""
    markers = layout.alignment.markers
    if not markers:
        raise LocateError("the layout has no markers")
    size = max(m.size for m in markers)
    page_long = max(layout.page.width, layout.page.height)
    page_short = min(layout.page.width, layout.page.height)
    px_max = min(max(small.shape) / page_long, min(small.shape) / page_short) * 1.15
    blobs = marker_blobs(small, markers[0], px_max)
    points = np.array([[b.x, b.y] for b in blobs]).reshape(-1, 2)
    sides = np.array([b.side for b in blobs])
    if exclude is not None and len(points):
        keep_out = ~_inside(points, exclude * factor, 0.25)  # QR finder patterns look like markers
        points, sides = points[keep_out], sides[keep_out]
    if len(points) < 3:
        raise LocateError(f"found {len(points)} of the {len(markers)} corner markers")
    qr_mm = qr_symbol_mm(layout, qr_text) if qr_text is not None and exclude is not None else None
    # The markers are the outermost blobs; most of those 4 are real markers, so their median size
    # is the marker size, and smaller or larger blobs (bubbles, QR modules, smudges) are dropped.
    corners = [int(np.argmax(points @ np.array(d))) for d in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    reference = float(np.median(sides[corners]))
    keep = (sides >= 0.7 * reference) & (sides <= 1.45 * reference)
    points, sides = points[keep], sides[keep]
    if len(points) < 3:
        raise LocateError(f"found {len(points)} of the {len(markers)} corner markers")
    centre_x, centre_y = layout.page.width / 2, layout.page.height / 2
    found: list[Location] = []
    for rotation in rotations:
        picks: list[int] = []
        for marker in markers:
            dx, dy = _rotate_direction(np.sign(marker.x - centre_x), np.sign(marker.y - centre_y), rotation)
            picks.append(int(np.argmax(points[:, 0] * dx + points[:, 1] * dy)))
        for location in _subsets(layout, rotation, picks, points, sides, size):
            page_mm, image_px, method = location.page_mm, location.image_px / factor, "markers"
            if location.missing and qr_mm is not None and exclude is not None:
                # Three markers fit an affine map only; the QR's corners add the perspective back.
                affine = cv2.getAffineTransform(page_mm.astype(np.float32), image_px.astype(np.float32))
                predicted = np.hstack([qr_mm, np.ones((4, 1))]) @ affine.T
                scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
                if float(np.abs(predicted - exclude).max()) < 15.0 * scale:  # the same QR, seen in perspective
                    page_mm = np.vstack([page_mm, qr_mm])
                    image_px = np.vstack([image_px, exclude])
                    method = "markers+qr"
            found.append(Location(rotation, page_mm, image_px, method, location.missing, location.shape_error))
    if not found:
        raise LocateError(f"the corner markers do not form the sheet's pattern ({len(points)} candidate blobs)")
    return sorted(found, key=lambda loc: (len(loc.missing), loc.shape_error))


def _subsets(layout: SheetLayout, rotation: int, picks: list[int], points: np.ndarray,
             sides: np.ndarray, marker_mm: float) -> list[Location]:
    """The full set of picked markers and each set leaving one out, when plausible."""
    markers = layout.alignment.markers
    page = np.array([[m.x, m.y] for m in markers], dtype=np.float64)
    options: list[tuple[int, ...]] = [tuple(range(len(markers)))]
    if len(markers) == 4:
        options += [tuple(i for i in range(4) if i != left_out) for left_out in range(4)]
    found: list[Location] = []
    for subset in options:
        chosen = [picks[i] for i in subset]
        if len(set(chosen)) < len(chosen):
            continue
        index = np.array(chosen, dtype=int)
        image = points[index]
        error = _similarity_error(page[list(subset)], image)
        # The blob size must agree with the spacing of the markers (a filled bubble is much smaller).
        page_gap = float(np.linalg.norm(page[subset[0]] - page[subset[1]]))
        spacing = float(np.linalg.norm(image[0] - image[1])) / max(1e-6, page_gap)
        relative = sides[index] / (spacing * marker_mm)
        if relative.min() < 0.65 or relative.max() > 1.5:
            continue  # one of them is not the size of a marker
        limit = 0.35 if len(subset) == 4 else 0.25
        if error > limit:
            continue
        missing = tuple(i for i in range(len(markers)) if i not in subset)
        found.append(Location(rotation, page[list(subset)], image, "markers", missing, error))
    return found


# ------------------------------------------------------------------------------------------- edges

def find_edges(grey: np.ndarray, small: np.ndarray, factor: float, layout: SheetLayout,
               rotations: tuple[int, ...] = ROTATIONS) -> list[Location]:
    """The paper's outline (a light quadrilateral on a darker background) as the page's corners."""
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    _, binary = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        raise LocateError("no page outline found")
    contour = max(contours, key=cv2.contourArea)
    if cv2.contourArea(contour) < 0.2 * small.shape[0] * small.shape[1]:
        raise LocateError("the page outline is too small: is the paper on a darker background?")
    hull = cv2.convexHull(contour)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float64)
    if len(quad) != 4:
        raise LocateError(f"the page outline has {len(quad)} corners, not 4")
    # Image corners in the order TL, TR, BR, BL of the image.
    sums, diffs = quad.sum(axis=1), quad[:, 0] - quad[:, 1]
    corners = quad[[int(np.argmin(sums)), int(np.argmax(diffs)), int(np.argmax(sums)), int(np.argmin(diffs))]]
    w, h = layout.page.width, layout.page.height
    page = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    found = []
    for rotation in rotations:
        shift = rotation // 90
        image = np.roll(corners, -shift, axis=0)
        error = _similarity_error(page, image)
        if error <= 0.35:
            found.append(Location(rotation, page, image / factor, "edges", (), error))
    if not found:
        raise LocateError("the page outline does not have the sheet's proportions")
    return sorted(found, key=lambda loc: loc.shape_error)


def locate(grey: np.ndarray, small: np.ndarray, factor: float, layout: SheetLayout,
           qr: QrHit | None) -> list[Location]:
    """Candidate placements of the page, best first (one rotation when the QR gave it)."""
    rotation = qr.rotation if qr is not None else None
    rotations = ROTATIONS if rotation is None else (rotation,)
    method = layout.alignment.method
    if method == AlignMethod.MARKERS:
        return find_markers(grey, small, factor, layout, rotations, qr.points if qr is not None else None,
                            qr.text if qr is not None and qr.rotation is not None else None)
    if method == AlignMethod.EDGES:
        return find_edges(grey, small, factor, layout, rotations)
    return find_by_reference(grey, layout)


def find_by_reference(grey: np.ndarray, layout: SheetLayout) -> list[Location]:
    """The page corners through the homography that matches the blank reference scan's features."""
    from omr.reference import match_reference, reference_for

    reference = reference_for(layout)
    if reference is None:
        raise LocateError(f"no reference image for layout {layout.name!r} "
                          f"({layout.alignment.reference_image}): register it with omr.reference.register_reference")
    homography = match_reference(grey, layout, reference)
    if homography is None:
        raise LocateError("the scan does not match the sheet's reference image")
    w, h = layout.page.width, layout.page.height
    page = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    corners = cv2.perspectiveTransform((page * reference.px_per_mm).reshape(-1, 1, 2), homography).reshape(-1, 2)
    error = _similarity_error(page, corners)
    if error > 0.35:
        raise LocateError("the match with the reference image is distorted")
    return [Location(rotation_of(corners), page, corners, "reference", (), error)]


__all__ = ["Location", "LocateError", "QrHit", "find_edges", "find_markers", "find_qr", "locate", "rotation_of",
           "working_copy"]
