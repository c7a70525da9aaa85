"""Recognition of one known box (no detection): crop checks, blank detection, PP-OCR rec on onnxruntime.

The model is PP-OCRv6 rec (small) shipped inside the ``rapidocr`` 3.10.0 wheel; its character list is
in the ONNX file's metadata. We run it with onnxruntime directly (one session per process, created
lazily, one thread) so nothing is ever downloaded, and decode the CTC output ourselves: greedily over
every class (``read_text``) or over the digit classes and ``.`` only (``read_digits``).

Nothing here raises on a bad crop or a model failure: the reading says ``FAILED`` with a reason.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from grading.ocr.digits import DigitModel, agree, classifier_only, get_digit_model, glyph_images
from grading.ocr.vote import Decoded, count_points, digit_columns, point_slots, vote_digits

REC_HEIGHT = 48  # PP-OCR rec input height
MIN_SIDE = 12  # px: smaller crops cannot hold a readable answer
MAX_SIDE = 8000  # px: larger "crops" are not crops
MAX_WIDTH = 1600  # px of model input width (about 33 characters at 48 px height)
DIGITS = "0123456789."
MODEL_FILE = "PP-OCRv6_rec_small.onnx"

GreyImage = npt.NDArray[np.uint8]


class ReadingStatus(StrEnum):
    READ = "read"
    BLANK = "blank"
    FAILED = "failed"


class RouteReason(StrEnum):
    """Why an item goes to a person (or, for BLANK, why it was scored 0 and listed for audit)."""

    BLANK = "blank"
    LOW_CONFIDENCE = "low_confidence"
    NO_MATCH = "no_match"
    CORRUPT_CROP = "corrupt_crop"
    MODEL_FAILURE = "model_failure"
    NOT_A_NUMBER = "not_a_number"


@dataclass(frozen=True)
class OcrReading:
    """``confidence`` is in [0, 1]: for READ the product of the per-character confidences (the chance
    the whole string is right if characters were independent; 0 for an empty reading), halved when
    the cross-checks fail (``detail`` says which); for BLANK the certainty that the box holds no ink;
    0 for FAILED."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...] = ()
    status: ReadingStatus = ReadingStatus.READ
    reason: RouteReason | None = None
    detail: str = ""
    ink_share: float = 0.0


def failed(reason: RouteReason, detail: str) -> OcrReading:
    return OcrReading("", 0.0, (), ReadingStatus.FAILED, reason, detail)


# ---------------------------------------------------------------- crop checks and preprocessing


def to_grey(crop: Any) -> GreyImage | OcrReading:
    """A grey uint8 image from an array (grey, BGR, BGRA) or encoded image bytes; else a FAILED reading."""
    if isinstance(crop, bytes | bytearray | memoryview):
        data = bytes(crop)
        if not data:
            return failed(RouteReason.CORRUPT_CROP, "crop: empty bytes")
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if decoded is None:
            return failed(RouteReason.CORRUPT_CROP, f"crop: {len(data)} bytes are not a readable image")
        crop = decoded
    if not isinstance(crop, np.ndarray):
        return failed(RouteReason.CORRUPT_CROP, f"crop: expected an image array or bytes, got {type(crop).__name__}")
    if crop.dtype != np.uint8:
        if np.issubdtype(crop.dtype, np.floating) and crop.size and not np.isfinite(crop).all():
            return failed(RouteReason.CORRUPT_CROP, f"crop: {crop.dtype} array holds NaN or infinity")
        return failed(RouteReason.CORRUPT_CROP, f"crop: expected uint8 pixels, got {crop.dtype}")
    if crop.ndim == 3 and crop.shape[2] == 1:
        crop = crop[:, :, 0]
    if crop.ndim == 3 and crop.shape[2] in (3, 4):
        crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2GRAY if crop.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    if crop.ndim != 2:
        return failed(RouteReason.CORRUPT_CROP, f"crop: expected a 2-D grey or 3-channel image, got shape {crop.shape}")
    h, w = crop.shape
    if min(h, w) < MIN_SIDE:
        return failed(RouteReason.CORRUPT_CROP, f"crop: {w}x{h} px is too small (min side {MIN_SIDE} px)")
    if max(h, w) > MAX_SIDE:
        return failed(RouteReason.CORRUPT_CROP, f"crop: {w}x{h} px is too large (max side {MAX_SIDE} px)")
    return np.ascontiguousarray(crop)


def trim_border(grey: GreyImage) -> GreyImage:
    """Cut away the printed box: on each side, every row/column within the outer fifth that is mostly
    dark over 80 % of its length (a ruled line) and whatever lies outside it, plus a 2 px safety margin."""
    h, w = grey.shape
    paper = float(np.percentile(grey, 90))
    dark = grey < paper - max(40.0, 0.35 * paper)
    # A ruled line spans (nearly) the whole side; a handwritten stroke such as a '1' does not.
    rows = dark.mean(axis=1) > 0.8
    cols = dark.mean(axis=0) > 0.8
    top, bottom, left, right = 0, h, 0, w
    band_h, band_w = max(2, h // 5), max(2, w // 5)
    hits = np.flatnonzero(rows[:band_h])
    if hits.size:
        top = int(hits[-1]) + 3
    hits = np.flatnonzero(rows[h - band_h:])
    if hits.size:
        bottom = h - band_h + int(hits[0]) - 2
    hits = np.flatnonzero(cols[:band_w])
    if hits.size:
        left = int(hits[-1]) + 3
    hits = np.flatnonzero(cols[w - band_w:])
    if hits.size:
        right = w - band_w + int(hits[0]) - 2
    if bottom - top < MIN_SIDE // 2 or right - left < MIN_SIDE // 2:
        return grey
    return grey[top:bottom, left:right]


Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Ink:
    mask: npt.NDArray[np.bool_]
    share: float
    box: Box | None  # of all the ink kept
    groups: tuple[Box, ...] = ()  # ink pieces side by side, left to right (about one per handwritten digit)


def find_ink(inner: GreyImage) -> Ink:
    """Ink = clearly darker than the paper, in connected pieces big enough to be strokes (dust, scanner
    noise and a stray dot are dropped)."""
    h, w = inner.shape
    paper = float(np.percentile(inner, 75))
    mask = (inner < paper - max(50.0, 0.3 * paper)).astype(np.uint8)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_area = max(6, int(0.0006 * h * w))
    min_extent = max(3, h // 20)  # a printed decimal point
    stroke = max(3, h // 12)  # at least one piece this big, or the box is blank (dust, a stray dot)
    keep = np.zeros(count, dtype=bool)
    boxes: list[Box] = []
    for i in range(1, count):
        x, y, cw, ch, area = (int(v) for v in stats[i])
        if area >= min_area and max(cw, ch) >= min_extent:
            keep[i] = True
            boxes.append((x, y, x + cw, y + ch))
    if not any(max(b[2] - b[0], b[3] - b[1]) >= stroke for b in boxes):
        return Ink(np.zeros_like(mask, dtype=bool), 0.0, None)
    kept = keep[_labels]
    ys, xs = np.nonzero(kept)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Ink(kept, float(kept.mean()), box, merge_columns(boxes))


def merge_columns(boxes: list[Box]) -> tuple[Box, ...]:
    """Merge pieces that overlap horizontally by more than half the narrower one (the bar of a 5, a
    broken 4): what is left is roughly one group per handwritten character."""
    groups: list[Box] = []
    for b in sorted(boxes):
        if groups:
            g = groups[-1]
            overlap = min(g[2], b[2]) - max(g[0], b[0])
            if overlap > 0.5 * min(g[2] - g[0], b[2] - b[0]):
                groups[-1] = (min(g[0], b[0]), min(g[1], b[1]), max(g[2], b[2]), max(g[3], b[3]))
                continue
        groups.append(b)
    return tuple(groups)


def _stretch(part: GreyImage) -> npt.NDArray[np.float32]:
    """Paper to white, the darkest ink to black: scans vary in brightness and contrast."""
    lo, hi = float(np.percentile(part, 1)), float(np.percentile(part, 92))
    if hi - lo < 1.0:
        hi = lo + 1.0
    stretched: npt.NDArray[np.float32] = np.clip((part.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return stretched


def _to_batch(canvas: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Scale to 48 px height, put on white with a left/right margin, normalise to [-1, 1], 3 channels."""
    ch, cw = canvas.shape
    out_w = min(MAX_WIDTH, max(8, int(round(cw * REC_HEIGHT / ch))))
    resized = cv2.resize(canvas, (out_w, REC_HEIGHT), interpolation=cv2.INTER_AREA)
    width = max(out_w + 16, 2 * REC_HEIGHT)
    padded = np.full((REC_HEIGHT, width), 255.0, dtype=np.float32)
    padded[:, 8:8 + out_w] = resized
    norm = padded / 127.5 - 1.0
    return np.ascontiguousarray(np.repeat(norm[None, None, :, :], 3, axis=1))


def model_input(inner: GreyImage, box: Box, margin: float = 0.25) -> npt.NDArray[np.float32]:
    """The inked part as written, with a margin of ``margin`` x its height."""
    x0, y0, x1, y1 = box
    pad = max(2, int(round(margin * (y1 - y0))))
    h, w = inner.shape
    part = inner[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
    return _to_batch(_stretch(part))


def respaced_input(inner: GreyImage, ink: Ink, gap: float = 0.35, margin: float = 0.2) -> npt.NDArray[np.float32]:
    """The ink groups re-laid left to right with even gaps (``gap`` x the ink height) at their own
    heights, everything else white: uneven handwriting spacing is what makes CTC drop or merge
    characters (a slanted '11' read as one '1')."""
    assert ink.box is not None
    x0, y0, x1, y1 = ink.box
    height = y1 - y0
    clean = _stretch(inner[y0:y1])
    clean[~ink.mask[y0:y1]] = 255.0
    space, pad = max(1, int(round(gap * height))), max(2, int(round(margin * height)))
    widths = [g[2] - g[0] for g in ink.groups]
    canvas = np.full((height + 2 * pad, sum(widths) + space * (len(widths) - 1) + 2 * pad), 255.0, np.float32)
    x = pad
    for (gx0, _gy0, gx1, _gy1), gw in zip(ink.groups, widths, strict=True):
        target = canvas[pad:pad + height, x:x + gw]
        np.minimum(target, clean[:, gx0:gx1], out=target)
        x += gw + space
    return _to_batch(canvas)


# ---------------------------------------------------------------- the model


class RecModel:
    """One onnxruntime session over rapidocr's packaged rec model, with its character list."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = path or packaged_model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise RuntimeError(f"{self.path}: no character list in the model metadata")
        # Class 0 is the CTC blank; then the dictionary; the last class is a space.
        self.characters: list[str] = ["", *meta["character"].splitlines(), " "]
        self.input_name = self.session.get_inputs()[0].name
        index = {c: i for i, c in enumerate(self.characters) if i > 0}
        missing = [c for c in DIGITS if c not in index]
        if missing:
            raise RuntimeError(f"{self.path}: character list lacks {missing}")
        self.digit_classes = np.array([0, *(index[c] for c in DIGITS)], dtype=np.int64)

    def probabilities(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out = self.session.run(None, {self.input_name: batch})[0]
        probs = np.asarray(out, dtype=np.float32)
        if probs.ndim != 3 or probs.shape[2] != len(self.characters):
            raise RuntimeError(f"model output has shape {probs.shape}, expected (n, t, {len(self.characters)})")
        if not np.isfinite(probs).all():
            raise RuntimeError("model output holds NaN or infinity")
        return probs


def packaged_model_path() -> Path:
    """The rec ONNX file inside the installed rapidocr wheel (found without importing rapidocr)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise RuntimeError("rapidocr is not installed (pip install rapidocr==3.10.0)")
    path = Path(spec.origin).parent / "models" / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: this rapidocr release does not ship the PP-OCRv6 rec model")
    return path


_lock = threading.Lock()
_model: RecModel | None = None
_model_pid = 0


def get_model() -> RecModel:
    """The process's session, created on first use (again after a fork)."""
    global _model, _model_pid
    with _lock:
        if _model is None or _model_pid != os.getpid():
            _model = RecModel()
            _model_pid = os.getpid()
        return _model


def set_model(model: RecModel | None) -> None:
    """Replace the process's model (tests, benches); None drops it so the next read loads it again."""
    global _model, _model_pid
    with _lock:
        _model, _model_pid = model, os.getpid()


# ---------------------------------------------------------------- decoding


def ctc_greedy(probs: npt.NDArray[np.float32], characters: list[str],
               allowed: npt.NDArray[np.int64] | None = None) -> tuple[str, tuple[float, ...]]:
    """Greedy CTC over one sequence (t, classes). With ``allowed`` (class ids, 0 = blank first) every
    other class is masked out and the kept probabilities renormalised before the argmax. A character's
    confidence is its best frame's probability."""
    if allowed is not None:
        sub = probs[:, allowed]
        sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)
        best_local = sub.argmax(axis=1)
        best = allowed[best_local]
        best_p = sub[np.arange(sub.shape[0]), best_local]
    else:
        best = probs.argmax(axis=1)
        best_p = probs[np.arange(probs.shape[0]), best]
    text: list[str] = []
    confs: list[float] = []
    previous = -1
    for cls, p in zip(best.tolist(), best_p.tolist(), strict=True):
        if cls != previous and cls != 0:
            text.append(characters[cls])
            confs.append(float(p))
        elif cls == previous and cls != 0:
            confs[-1] = max(confs[-1], float(p))
        previous = cls
    return "".join(text), tuple(round(c, 5) for c in confs)


# ---------------------------------------------------------------- public reading


MAX_GROUPS = 40  # more ink groups than this is not a number: no per-digit reading
DISAGREE_FACTOR = 0.5  # confidence multiplier when the two layouts (or the two readers) read differently
LENGTH_FACTOR = 0.5  # ... when a number's digits or points differ from the ink groups and dots counted


@dataclass(frozen=True)
class Prepared:
    batch: npt.NDArray[np.float32]  # (2, 3, 48, w): as written, re-spaced
    groups: int  # ink groups at least 40 % as tall as the tallest: about one per digit
    dots: int  # small groups placed like a decimal point (see count_points)
    glyphs: npt.NDArray[np.float32] | None = None  # (groups, 3, 48, w): each tall group alone (numbers only)
    classifier: npt.NDArray[np.float32] | None = None  # (groups, 1, 28, 28): the same, for the digit classifier
    points_after: tuple[int, ...] = ()  # the digit before each dot


def glyph_inputs(inner: GreyImage, ink: Ink, groups: list[Box], margin: float = 0.25) -> npt.NDArray[np.float32]:
    """Each group alone on white, at its height within the whole ink box, one batch row each."""
    assert ink.box is not None
    _x0, y0, _x1, y1 = ink.box
    height = y1 - y0
    clean = _stretch(inner[y0:y1])
    clean[~ink.mask[y0:y1]] = 255.0
    pad = max(2, int(round(margin * height)))
    scaled: list[npt.NDArray[np.float32]] = []
    for gx0, _gy0, gx1, _gy1 in groups:
        canvas = np.full((height + 2 * pad, gx1 - gx0 + 2 * pad), 255.0, np.float32)
        canvas[pad:pad + height, pad:pad + gx1 - gx0] = clean[:, gx0:gx1]
        out_w = min(MAX_WIDTH, max(8, int(round(canvas.shape[1] * REC_HEIGHT / canvas.shape[0]))))
        scaled.append(cv2.resize(canvas, (out_w, REC_HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32))
    width = max(64, max(g.shape[1] for g in scaled) + 16)
    batch = np.ones((len(scaled), 3, REC_HEIGHT, width), dtype=np.float32)
    for i, g in enumerate(scaled):
        batch[i, :, :, 8:8 + g.shape[1]] = g / 127.5 - 1.0
    return batch


def prepare(crop: Any, digits: bool = False) -> Prepared | OcrReading:
    """Model inputs for an inked crop; a BLANK or FAILED reading otherwise."""
    grey = to_grey(crop)
    if isinstance(grey, OcrReading):
        return grey
    inner = trim_border(grey)
    ink = find_ink(inner)
    if ink.box is None:
        return OcrReading("", 0.99, (), ReadingStatus.BLANK, RouteReason.BLANK, "no ink in the box")
    written = model_input(inner, ink.box)
    spaced = respaced_input(inner, ink) if 0 < len(ink.groups) <= MAX_GROUPS else written
    width = max(written.shape[3], spaced.shape[3])
    batch = np.ones((2, 3, REC_HEIGHT, width), dtype=np.float32)
    batch[0, :, :, :written.shape[3]] = written[0]
    batch[1, :, :, :spaced.shape[3]] = spaced[0]
    tallest = max(g[3] - g[1] for g in ink.groups)
    tall = [g for g in ink.groups if g[3] - g[1] >= 0.4 * tallest]
    if not digits or len(tall) > MAX_GROUPS:
        return Prepared(batch, len(tall), count_points(ink.groups, tall))
    # Each group alone goes to the digit classifier only: PP-OCR on each glyph cost 45 % of the reading
    # time and added nothing once the classifier reads the glyphs (same exactness on calibration strings).
    slots = tuple(point_slots(ink.groups, tall))
    return Prepared(batch, len(tall), len(slots), None, classifier_inputs(inner, ink, tall), slots)


def classifier_inputs(inner: GreyImage, ink: Ink, groups: list[Box]) -> npt.NDArray[np.float32]:
    clean = _stretch(inner)
    clean[~ink.mask] = 255.0
    return glyph_images(clean, ink.mask, groups)

def _read(crop: Any, digits: bool, model: RecModel | None, digit_model: DigitModel | None = None) -> OcrReading:
    try:
        prepared = prepare(crop, digits)
    except Exception as exc:  # a crop our checks did not foresee
        return failed(RouteReason.CORRUPT_CROP, f"crop: {type(exc).__name__}: {exc}")
    if isinstance(prepared, OcrReading):
        return prepared
    try:
        rec = model or get_model()
        probs = rec.probabilities(prepared.batch)
        allowed = rec.digit_classes if digits else None
        as_written = ctc_greedy(probs[0], rec.characters, allowed)
        spaced = ctc_greedy(probs[1], rec.characters, allowed)
        glyphs: list[Decoded] = []
        if prepared.glyphs is not None:
            glyphs = [ctc_greedy(p, rec.characters, allowed) for p in rec.probabilities(prepared.glyphs)]
    except Exception as exc:
        return failed(RouteReason.MODEL_FAILURE, f"recogniser: {type(exc).__name__}: {exc}")
    if not digits:
        return _text_reading(as_written, spaced)
    cnn: npt.NDArray[np.float32] | None = None
    if prepared.classifier is not None:
        try:
            cnn = (digit_model or get_digit_model()).probabilities(prepared.classifier)
        except Exception as exc:
            return failed(RouteReason.MODEL_FAILURE, f"digit classifier: {type(exc).__name__}: {exc}")
    return _digits_reading(prepared, as_written, spaced, glyphs, cnn)


def _text_reading(as_written: Decoded, spaced: Decoded) -> OcrReading:
    """Text is read as written (joined-up letters must stay joined); the re-spaced layout checks it."""
    text, confs = as_written
    confidence = float(np.prod(confs)) if confs else 0.0
    detail = ""
    if spaced[0] != text:
        confidence *= DISAGREE_FACTOR
        detail = f"layouts disagree: {text!r} / {spaced[0]!r}"
    return OcrReading(text, round(confidence, 5), confs, detail=detail)


def _digits_reading(prepared: Prepared, as_written: Decoded, spaced: Decoded, glyphs: list[Decoded],
                    cnn: npt.NDArray[np.float32] | None) -> OcrReading:
    """A number: PP-OCR votes per digit between the re-spaced layout, the layout as written and the
    digits read one by one; then the digit classifier reads every ink group on its own. Only a
    reading where both readers see the same digits, as many as the ink groups, can be confident."""
    checks: list[str] = []
    voted = vote_digits([spaced, as_written], glyphs, prepared.groups, prepared.dots)
    columns, _ = digit_columns([spaced, as_written], glyphs, prepared.groups, prepared.dots)
    text, confs = voted if voted is not None else spaced
    factor = 1.0
    if voted is None and as_written[0] != spaced[0]:
        factor *= DISAGREE_FACTOR
        checks.append(f"layouts disagree: {spaced[0]!r} / {as_written[0]!r}")
    if cnn is None:
        factor *= DISAGREE_FACTOR
        checks.append(f"no second reader: {prepared.groups} ink group(s)")
    elif voted is not None:
        joined = agree((text, confs), cnn, columns)
        text, confs = joined.text, joined.confidences
        if not joined.agree:
            factor *= DISAGREE_FACTOR
            checks.append(joined.detail)
    else:  # PP-OCR could not read one digit per ink group: the classifier's reading, for a person
        pp_text = text
        text, confs = classifier_only(cnn, prepared.points_after)
        factor *= DISAGREE_FACTOR
        checks.append(f"PP-OCR read {pp_text!r}, classifier {text!r}")
    n_digits, n_points = len(text.replace(".", "")), text.count(".")
    if n_digits != prepared.groups or n_points != prepared.dots:
        factor *= LENGTH_FACTOR
        checks.append(f"{n_digits} digit(s) and {n_points} point(s) read, {prepared.groups} ink "
                      f"group(s) and {prepared.dots} dot(s) seen")
    confidence = (float(np.prod(confs)) if confs else 0.0) * factor
    return OcrReading(text, round(confidence, 5), confs, detail="; ".join(checks))


def read_text(crop: Any, model: RecModel | None = None) -> OcrReading:
    """Read a handwritten or printed answer from the crop of one box (every character the model knows)."""
    return _read(crop, digits=False, model=model)


def read_digits(crop: Any, model: RecModel | None = None, digit_model: DigitModel | None = None) -> OcrReading:
    """Read a number (digits and '.') from the crop of one box, e.g. a handwritten score: PP-OCR and
    the digit classifier each read it, and only their agreement is confident."""
    return _read(crop, digits=True, model=model, digit_model=digit_model)
