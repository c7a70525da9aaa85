"""Face analysis of one image, pure: bytes in, :class:`~proctoring.faces.FrameAnalysis` out.

Flow: decode safely (size and pixel limits, JPEG/PNG only; anything else is an *unusable* frame,
never an exception) -> scale to a working size -> detect faces (the injected :class:`FaceEngine`)
-> for exactly one face: its 128-d embedding, the distance to the enrolled one, a rough yaw ->
image quality (brightness, sharpness) only to explain a frame where no face was found.

Why quality only explains: a dark or soft frame in which the detector still finds the face is good
evidence; a frame without a face that is also too dark or too blurred says nothing about presence,
so it is marked ``usable=False`` and the rules do not count it as "face absent" (measured on
bench/faces.py: the honest-session false-flag rate drops when dark frames are not counted as absences).

The model (dlib's HOG detector and ResNet embedding from face_recognition_models, see
:mod:`proctoring.dlib_faces`) is injected, so tests and benches pass the real one or a small fake.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from proctoring.faces import MATCH_DISTANCE, FrameAnalysis

RGB = NDArray[np.uint8]
Embedding = NDArray[np.float32]

MAX_FRAME_BYTES = 512 * 1024  # a webcam frame (the protocol allows 150 KB; the margin is for PNG photos)
MAX_PHOTO_BYTES = 8 * 1024 * 1024  # an enrolled photo
MAX_PIXELS = 16_000_000  # refused before decoding (a decompression bomb is a small file)
WORK_LONG_SIDE = 640  # frames are scaled down to this before detection (speed; webcam size anyway)
# Mean luminance (0..255) below which a frame without a face is "too dark" (measured: the detector
# still finds grace_hopper at mean 11 and astronaut at mean 17, brightness x0.15; a frame that dark
# without a face says nothing).
DARK_MEAN = 20.0
BRIGHT_MEAN = 235.0  # washed out
# Variance of the Laplacian (grey, working size) below which a frame without a face is "blurred"
# (measured after JPEG q80: sharp astronaut ~850, Gaussian sigma 2 ~17 (face still found), sigma 4
# ~6 (astronaut lost), sigma 8 ~3).
BLUR_VARIANCE = 10.0
# |yaw| proxy above which the candidate looks away: the nose's horizontal offset from the eyes'
# midpoint over the eye distance (0 frontal; ~0.5 at 45 degrees). Rough; the HOG detector loses
# faces turned more than ~40 degrees anyway, which the rules see as face absent.
YAW_AWAY = 0.35

IMAGE_FORMATS = frozenset({"JPEG", "PNG"})


@dataclass(frozen=True)
class FaceBox:
    left: int
    top: int
    right: int
    bottom: int
    score: float  # the detector's confidence (dlib HOG: > 0 is a face)


@dataclass(frozen=True)
class FaceDescription:
    embedding: Embedding  # float32[128]
    yaw: float | None  # see YAW_AWAY


class FaceEngine(Protocol):
    """A face model: detection and, for one face, its embedding. Loaded once per process."""

    def detect(self, rgb: RGB) -> list[FaceBox]: ...

    def describe(self, rgb: RGB, box: FaceBox) -> FaceDescription: ...


class UnusableImage(ValueError):
    """The bytes are not an image this module accepts; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def decode_image(data: bytes, *, max_bytes: int = MAX_FRAME_BYTES, max_pixels: int = MAX_PIXELS,
                 formats: frozenset[str] = IMAGE_FORMATS) -> RGB:
    """An RGB array, or :class:`UnusableImage` (too_large, not_an_image, too_many_pixels, corrupt)."""
    if len(data) > max_bytes:
        raise UnusableImage("too_large", f"image of {len(data)} bytes; at most {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in formats:
                raise UnusableImage("not_an_image", f"a {image.format or 'unknown'} file; expected "
                                    + " or ".join(sorted(formats)))
            width, height = image.size
            if width * height > max_pixels:
                raise UnusableImage("too_many_pixels", f"{width}x{height} pixels; at most {max_pixels}")
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnusableImage:
        raise
    except UnidentifiedImageError as exc:
        raise UnusableImage("not_an_image", "not a JPEG or PNG image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnusableImage("too_many_pixels", f"the image claims too many pixels: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnusableImage("corrupt", f"the image cannot be decoded: {exc}") from exc
    return rgb


def fit(rgb: RGB, long_side: int = WORK_LONG_SIDE) -> RGB:
    """Scale down (never up) so the longer side is at most ``long_side``."""
    height, width = rgb.shape[:2]
    scale = long_side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)


def grey(rgb: RGB) -> NDArray[np.float32]:
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.asarray(rgb.astype(np.float32) @ weights, dtype=np.float32)


def brightness(rgb: RGB) -> float:
    return float(grey(rgb).mean())


def sharpness(rgb: RGB) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image (low = blurred)."""
    g = grey(rgb)
    if g.shape[0] < 3 or g.shape[1] < 3:
        return 0.0
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def quality_problem(rgb: RGB) -> str | None:
    """Why a frame cannot show a face: too_dark, too_bright, blurred; None when it could."""
    level = brightness(rgb)
    if level < DARK_MEAN:
        return "too_dark"
    if level > BRIGHT_MEAN:
        return "too_bright"
    if sharpness(rgb) < BLUR_VARIANCE:
        return "blurred"
    return None


def distance(a: Embedding, b: Embedding) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))


def analyse_image(rgb: RGB, engine: FaceEngine, enrolled: Embedding | None,
                  threshold: float = MATCH_DISTANCE) -> FrameAnalysis:
    """Analyse a decoded image (see the module docstring for the order of checks)."""
    rgb = fit(rgb)
    level, sharp = round(brightness(rgb), 1), round(sharpness(rgb), 1)
    boxes = engine.detect(rgb)
    if not boxes:
        problem = quality_problem(rgb)
        return FrameAnalysis(faces=0, usable=problem is None, reason=problem or "no_face",
                             brightness=level, sharpness=sharp)
    if len(boxes) > 1:
        return FrameAnalysis(faces=len(boxes), reason="several_faces", brightness=level, sharpness=sharp)
    desc = engine.describe(rgb, boxes[0])
    away = None if desc.yaw is None else abs(desc.yaw) > YAW_AWAY
    yaw = None if desc.yaw is None else round(desc.yaw, 3)
    if enrolled is None:
        return FrameAnalysis(faces=1, looking_away=away, reason="no_enrolled_photo", brightness=level,
                             sharpness=sharp, yaw=yaw)
    gap = round(distance(desc.embedding, enrolled), 4)
    return FrameAnalysis(faces=1, match_distance=gap, matches=gap <= threshold, looking_away=away,
                         reason=None if gap <= threshold else "face_mismatch", brightness=level,
                         sharpness=sharp, yaw=yaw)


def analyse_frame(data: bytes, engine: FaceEngine, enrolled: Embedding | None,
                  threshold: float = MATCH_DISTANCE, max_bytes: int = MAX_FRAME_BYTES) -> FrameAnalysis:
    """Analyse a webcam frame's bytes; bad bytes give ``usable=False`` with the reason, never raise."""
    try:
        rgb = decode_image(data, max_bytes=max_bytes)
    except UnusableImage as exc:
        return FrameAnalysis(faces=0, usable=False, reason=exc.reason)
    return analyse_image(rgb, engine, enrolled, threshold)


class EnrolmentRefused(ValueError):
    """An enrolled photo must show exactly one face; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def enrol_photo(data: bytes, engine: FaceEngine) -> Embedding:
    """The embedding of a reference photo (JPEG or PNG with exactly one face), or EnrolmentRefused."""
    try:
        rgb = fit(decode_image(data, max_bytes=MAX_PHOTO_BYTES), long_side=1024)
    except UnusableImage as exc:
        raise EnrolmentRefused(exc.reason, str(exc)) from exc
    boxes = engine.detect(rgb)
    if len(boxes) != 1:
        reason = "no_face" if not boxes else "several_faces"
        raise EnrolmentRefused(reason, f"the photo shows {len(boxes)} faces; exactly one is needed")
    return np.asarray(engine.describe(rgb, boxes[0]).embedding, dtype=np.float32)


def embedding_bytes(embedding: Embedding) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


def embedding_from_bytes(data: bytes) -> Embedding:
    if len(data) % 4:
        raise ValueError(f"an embedding of {len(data)} bytes is not float32")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
