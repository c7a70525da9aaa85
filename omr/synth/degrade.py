"""Print-and-scan in software: what a scanner, a copier or a phone camera does to a filled sheet.

:func:`sample_degradation` draws a :class:`Degradation` from a seeded ``numpy.random.Generator``
(every parameter, so the truth file records what was applied); :func:`apply_degradation` applies
it and is deterministic for a given ``Degradation`` (its ``seed`` drives the noise and textures).

Kinds: ``scanner`` (small skew, a dark scanner-bed border, 90/180/270 feeds, mild blur and noise),
``phone`` (perspective, scale, uneven light and a shadow gradient, motion or focus blur, a table
around the page, JPEG) and ``clean`` (only the resampling to the output dpi). Any kind may also
get a smudge over one corner marker.

Order, as in the physical world: smudge on the paper, then the geometry (resample to the output
dpi, scale, skew, perspective, border), the light, blur, noise, the feed rotation and JPEG.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from omr.layout import SheetLayout


@dataclass(frozen=True)
class Degradation:
    kind: str = "clean"  # scanner | phone | clean
    seed: int = 0  # noise, textures and smudge shape
    dpi: float = 200.0  # output resolution (pixels per inch of the paper at scale 1)
    rotation: int = 0  # feed rotation, degrees counter-clockwise: 0, 90, 180, 270
    skew_deg: float = 0.0  # small rotation of the paper on the glass
    scale: float = 1.0
    # Perspective: displacement of each page corner (TL, TR, BR, BL) in mm, (dx, dy) pairs.
    corner_shift_mm: tuple[float, ...] = (0.0,) * 8
    border_mm: float = 0.0  # background around the page (dark scanner bed or a table)
    background: int = 30  # its grey level
    light: float = 0.0  # uneven light: brightness falls by up to this share across the page
    light_angle_deg: float = 0.0  # the direction the light falls off towards
    shadow: float = 0.0  # a soft shadow band darkening the page by up to this share
    shadow_angle_deg: float = 0.0
    shadow_offset: float = 0.5  # where the shadow's edge lies, 0..1 across the page
    blur: str = "none"  # none | gaussian | motion
    blur_px: float = 0.0  # Gaussian sigma or motion length, output pixels
    motion_angle_deg: float = 0.0
    noise_sigma: float = 0.0  # grey levels
    jpeg_quality: int | None = None  # 40..90, or None for lossless
    smudge_corner: int | None = None  # index of the alignment marker smudged
    smudge_darkness: float = 0.0
    applied: list[str] = field(default_factory=list)  # names of the effects, for counting

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["corner_shift_mm"] = list(self.corner_shift_mm)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Degradation:
        return cls(**{**data, "corner_shift_mm": tuple(data.get("corner_shift_mm", (0.0,) * 8))})


def sample_degradation(rng: np.random.Generator, dpi: float | tuple[float, ...] = 200.0,
                       kinds: tuple[str, ...] = ("scanner", "scanner", "phone"), feed_rate: float = 0.3,
                       smudge_rate: float = 0.08, jpeg_rate: float = 0.5) -> Degradation:
    """A random degradation of one of ``kinds`` at ``dpi`` (or one of several)."""
    dpis = dpi if isinstance(dpi, tuple) else (dpi,)
    out_dpi = float(dpis[int(rng.integers(len(dpis)))])
    kind = kinds[int(rng.integers(len(kinds)))]
    seed = int(rng.integers(2**31))
    d = Degradation(kind=kind, seed=seed, dpi=out_dpi)
    applied: list[str] = []
    if kind == "scanner":
        d = replace(d, skew_deg=float(rng.uniform(-3, 3)), scale=float(rng.uniform(0.98, 1.02)),
                    border_mm=float(rng.uniform(3, 12)), background=int(rng.integers(5, 60)),
                    noise_sigma=float(rng.uniform(1, 6)))
        applied += ["skew", "scale", "border", "noise"]
        if rng.random() < feed_rate:
            d = replace(d, rotation=int(rng.choice([90, 180, 270])))
            applied.append("feed_rotation")
        if rng.random() < 0.5:
            d = replace(d, blur="gaussian", blur_px=float(rng.uniform(0.4, 1.2)))
            applied.append("blur")
        if rng.random() < 0.3:
            d = replace(d, light=float(rng.uniform(0.03, 0.12)), light_angle_deg=float(rng.uniform(0, 360)))
            applied.append("light")
        if rng.random() < jpeg_rate:
            d = replace(d, jpeg_quality=int(rng.integers(40, 91)))
            applied.append("jpeg")
    elif kind == "phone":
        shift = tuple(float(v) for v in rng.uniform(-9, 9, 8))
        d = replace(d, skew_deg=float(rng.uniform(-4, 4)), scale=float(rng.uniform(0.85, 1.1)),
                    corner_shift_mm=shift, border_mm=float(rng.uniform(8, 25)),
                    background=int(rng.integers(60, 160)),
                    light=float(rng.uniform(0.1, 0.35)), light_angle_deg=float(rng.uniform(0, 360)),
                    noise_sigma=float(rng.uniform(2, 8)), jpeg_quality=int(rng.integers(40, 91)))
        applied += ["perspective", "skew", "scale", "border", "light", "noise", "jpeg"]
        if rng.random() < 0.5:
            d = replace(d, shadow=float(rng.uniform(0.15, 0.45)), shadow_angle_deg=float(rng.uniform(0, 360)),
                        shadow_offset=float(rng.uniform(0.2, 0.8)))
            applied.append("shadow")
        r = rng.random()
        if r < 0.35:
            d = replace(d, blur="motion", blur_px=float(rng.uniform(2, 4)), motion_angle_deg=float(rng.uniform(0, 180)))
            applied.append("motion_blur")
        elif r < 0.8:
            d = replace(d, blur="gaussian", blur_px=float(rng.uniform(0.5, 1.3)))
            applied.append("blur")
        if rng.random() < feed_rate / 2:
            d = replace(d, rotation=int(rng.choice([90, 180, 270])))
            applied.append("feed_rotation")
    if rng.random() < smudge_rate:
        d = replace(d, smudge_corner=int(rng.integers(4)), smudge_darkness=float(rng.uniform(0.35, 0.8)))
        applied.append("smudge")
    if out_dpi != 300:
        applied.append(f"dpi{int(out_dpi)}")
    return replace(d, applied=applied)


def _smudge(page: np.ndarray, page_dpi: float, d: Degradation, layout: SheetLayout | None,
            rng: np.random.Generator) -> None:
    s = page_dpi / 25.4
    h, w = page.shape
    markers = layout.alignment.markers if layout is not None else []
    assert d.smudge_corner is not None
    if markers:
        m = markers[d.smudge_corner % len(markers)]
        cx, cy, size = m.x * s, m.y * s, m.size * s
    else:
        corners = [(0.04, 0.04), (0.96, 0.04), (0.96, 0.96), (0.04, 0.96)]
        fx, fy = corners[d.smudge_corner % 4]
        cx, cy, size = fx * w, fy * h, 6 * s
    blob = np.zeros((int(size * 4), int(size * 4)), np.float32)
    c = blob.shape[0] / 2
    for _ in range(4):  # a few overlapping ellipses: a thumb print or an ink smear
        centre = (int(c + rng.uniform(-0.35, 0.35) * size), int(c + rng.uniform(-0.35, 0.35) * size))
        axes = (int(size * rng.uniform(0.3, 0.7)), int(size * rng.uniform(0.2, 0.5)))
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    soft = cv2.GaussianBlur(blob, (0, 0), max(1.0, size * 0.08)) * rng.uniform(0.8, 1.0, blob.shape)
    dark = np.clip(soft, 0, 1) * d.smudge_darkness
    x0, y0 = int(cx - c), int(cy - c)
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(w, x0 + blob.shape[1]), min(h, y0 + blob.shape[0])
    if ax0 < ax1 and ay0 < ay1:
        sub = dark[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0]
        page[ay0:ay1, ax0:ax1] = np.clip(page[ay0:ay1, ax0:ax1] * (1 - sub), 0, 255).astype(np.uint8)


def _geometry(page: np.ndarray, page_dpi: float, d: Degradation) -> np.ndarray:
    k = d.dpi / page_dpi * d.scale
    if abs(k - 1) > 1e-6:
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        page = cv2.resize(page, (max(1, int(round(page.shape[1] * k))), max(1, int(round(page.shape[0] * k)))),
                          interpolation=interp)
    h, w = page.shape
    out_s = d.dpi / 25.4 * d.scale
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    a = math.radians(d.skew_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)
    centre = np.array([w / 2, h / 2], np.float32)
    dst = (src - centre) @ rot.T + centre
    dst = dst + np.array(d.corner_shift_mm, np.float32).reshape(4, 2) * out_s
    border = d.border_mm * d.dpi / 25.4
    dst = dst - dst.min(axis=0) + border
    size = (int(math.ceil(dst[:, 0].max() + border)), int(math.ceil(dst[:, 1].max() + border)))
    if np.allclose(dst, src) and size == (w, h):
        return page
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=d.background)


def _ramp(shape: tuple[int, int], angle_deg: float) -> np.ndarray:
    """0..1 across the image along ``angle_deg``, at low resolution then resized (fast)."""
    h, w = shape
    sh, sw = max(2, h // 16), max(2, w // 16)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    a = math.radians(angle_deg)
    t = xx / sw * math.cos(a) + yy / sh * math.sin(a)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    return np.asarray(cv2.resize(t, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def apply_degradation(page: np.ndarray, page_dpi: float, d: Degradation,
                      layout: SheetLayout | None = None) -> np.ndarray:
    """The degraded image (grey uint8) of ``page`` (grey, drawn at ``page_dpi``)."""
    rng = np.random.default_rng(d.seed)
    if d.smudge_corner is not None and d.smudge_darkness > 0:
        page = page.copy()
        _smudge(page, page_dpi, d, layout, rng)
    image = _geometry(page, page_dpi, d)
    shape = (image.shape[0], image.shape[1])
    gain: np.ndarray | None = None
    if d.light > 0:
        gain = 1.0 - d.light * _ramp(shape, d.light_angle_deg)
    if d.shadow > 0:
        edge = _ramp(shape, d.shadow_angle_deg)
        soft = np.clip((edge - d.shadow_offset) / 0.08 + 0.5, 0, 1)  # a soft edge about 8 % wide
        shade = 1.0 - d.shadow * soft
        gain = shade if gain is None else gain * shade
    if gain is not None:
        image = np.clip(np.rint(image.astype(np.float32) * gain), 0, 255).astype(np.uint8)
    if d.blur == "gaussian" and d.blur_px > 0:
        image = cv2.GaussianBlur(image, (0, 0), d.blur_px)
    elif d.blur == "motion" and d.blur_px > 0:
        n = max(3, int(round(d.blur_px)) | 1)
        kernel = np.zeros((n, n), np.float32)
        a = math.radians(d.motion_angle_deg)
        c = n // 2
        dx, dy = math.cos(a) * c, math.sin(a) * c
        cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
        kernel /= max(1e-6, float(kernel.sum()))
        image = cv2.filter2D(image, -1, kernel)
    if d.noise_sigma > 0:
        noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(d.noise_sigma)
        image = np.clip(np.rint(image.astype(np.float32) + noise), 0, 255).astype(np.uint8)
    if d.rotation:
        image = np.ascontiguousarray(np.rot90(image, d.rotation // 90))
    if d.jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(d.jpeg_quality)])
        decoded = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if ok else None
        if decoded is not None:
            image = decoded
    return image


def degrade(page: np.ndarray, page_dpi: float, rng: np.random.Generator, layout: SheetLayout | None = None,
            **options: Any) -> tuple[np.ndarray, Degradation]:
    """Draw a degradation from ``rng`` (``options`` go to :func:`sample_degradation`) and apply it."""
    d = sample_degradation(rng, **options)
    return apply_degradation(page, page_dpi, d, layout), d
