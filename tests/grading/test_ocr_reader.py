"""grading.ocr.reader: blank boxes, the digits-only decoder on real handwriting, and every failure routed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest

from grading.ocr import reader
from grading.ocr.reader import OcrReading, ReadingStatus, RouteReason, ctc_greedy, read_digits, read_text
from grading.ocr.synth import blank_crop, digit_string, handwritten_crop, mnist_split, printed_crop


@pytest.fixture(scope="module")
def model() -> reader.RecModel:
    return reader.RecModel(threads=1)


class ExplodingModel:
    """Stands in for the recogniser: any call is a failure (proves blanks never reach it, and that a
    runtime error is routed, not raised)."""

    characters = ["", *"0123456789.", " "]
    digit_classes = np.arange(12, dtype=np.int64)

    def __init__(self, error: Exception | None = None, output: Any = None) -> None:
        self.error, self.output, self.calls = error, output, 0

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return np.asarray(self.output)


# ---------------------------------------------------------------- blank boxes


@pytest.mark.parametrize("seed", range(6))
def test_empty_box_is_blank_and_never_reaches_the_model(seed: int) -> None:
    crop = blank_crop(np.random.default_rng(seed))
    fake = ExplodingModel(RuntimeError("must not run"))
    reading = read_digits(crop, fake)  # type: ignore[arg-type]
    assert reading.status is ReadingStatus.BLANK
    assert reading.reason is RouteReason.BLANK
    assert reading.confidence >= 0.9
    assert fake.calls == 0


def test_box_border_alone_is_not_ink() -> None:
    crop = np.full((90, 300), 235, np.uint8)
    cv2.rectangle(crop, (2, 2), (297, 87), 40, 3)  # a thick printed border, nothing written
    inner = reader.trim_border(crop)
    assert inner.shape[0] < 90 and inner.shape[1] < 300
    assert inner.min() > 150  # no border line left
    assert read_text(crop, ExplodingModel(RuntimeError("must not run"))).status is ReadingStatus.BLANK  # type: ignore[arg-type]


def test_a_single_stroke_is_not_blank() -> None:
    crop = np.full((90, 300), 235, np.uint8)
    cv2.rectangle(crop, (2, 2), (297, 87), 40, 3)
    cv2.line(crop, (150, 25), (152, 65), 30, 4)  # a handwritten '1'
    fake = ExplodingModel(RuntimeError("boom"))
    reading = read_digits(crop, fake)  # type: ignore[arg-type]
    assert reading.status is ReadingStatus.FAILED and fake.calls == 1  # it was sent to the model


# ---------------------------------------------------------------- real model output


@pytest.mark.parametrize("seed", range(4))
def test_handwritten_digit_strings_read_exactly(model: reader.RecModel, seed: int) -> None:
    digits = mnist_split("test")  # never seen by the digit classifier
    rng = np.random.default_rng(seed)
    truth, rows = digit_string(rng, 4, digits)
    reading = read_digits(handwritten_crop(rows, rng, digits), model)
    assert reading.status is ReadingStatus.READ
    assert reading.text == truth
    assert len(reading.char_confidences) == len(truth)
    product = float(np.prod(reading.char_confidences))
    if "disagree" in reading.detail or "ink group" in reading.detail:  # a check failed: halved, at least
        assert reading.confidence <= 0.5 * product + 1e-4
    else:
        assert reading.confidence == pytest.approx(product, abs=1e-4)


def test_printed_score_with_a_decimal_point(model: reader.RecModel) -> None:
    reading = read_digits(printed_crop("27.5", np.random.default_rng(3)), model)
    assert reading.text == "27.5"
    assert reading.confidence > 0.9 and reading.detail == ""


def test_digits_only_decoder_reads_a_letter_o_as_zero(model: reader.RecModel) -> None:
    crop = printed_crop("5O7", np.random.default_rng(3))  # letter O between digits
    assert read_digits(crop, model).text == "507"
    assert all(ch.isdigit() or ch == "." for ch in read_digits(crop, model).text)


def test_encoded_png_bytes_are_read(model: reader.RecModel) -> None:
    crop = printed_crop("805", np.random.default_rng(3))
    ok, png = cv2.imencode(".png", crop)
    assert ok
    assert read_digits(png.tobytes(), model).text == "805"
    assert read_digits(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), model).text == "805"  # colour crops too


# ---------------------------------------------------------------- CTC decoding, no model


def _probs(frames: list[dict[int, float]], classes: int = 15) -> np.ndarray:
    out = np.full((len(frames), classes), 1e-4, np.float32)
    for t, frame in enumerate(frames):
        for cls, p in frame.items():
            out[t, cls] = p
    return out


CHARS = ["", *"0123456789.", "O", "l", " "]  # 0 blank, 1..10 digits, 11 '.', 12 'O', 13 'l', 14 space
DIGIT_CLASSES = np.arange(12, dtype=np.int64)


def test_ctc_collapses_repeats_but_not_across_a_blank() -> None:
    frames = [{2: 0.9}, {2: 0.8}, {0: 0.9}, {2: 0.95}, {0: 0.9}]
    text, confs = ctc_greedy(_probs(frames), CHARS)
    assert text == "11"
    assert confs == (0.9, 0.95)


def test_digit_mask_picks_the_best_digit_under_a_letter() -> None:
    frames = [{6: 0.9}, {0: 0.9}, {12: 0.7, 1: 0.2}, {0: 0.9}, {13: 0.6, 2: 0.3}]
    full, _ = ctc_greedy(_probs(frames), CHARS)
    digits, confs = ctc_greedy(_probs(frames), CHARS, DIGIT_CLASSES)
    assert full == "5Ol"
    assert digits == "501"
    assert confs[1] == pytest.approx(0.2 / (0.2 + 11 * 1e-4), abs=1e-3)  # renormalised over the kept classes


# ---------------------------------------------------------------- failures route with a reason


CORRUPT: list[tuple[str, Any]] = [
    ("empty array", np.zeros((0, 0), np.uint8)),
    ("float pixels", np.full((60, 200), 0.5, np.float32)),
    ("NaN pixels", np.full((60, 200), np.nan, np.float64)),
    ("int16 pixels", np.zeros((60, 200), np.int16)),
    ("tiny", np.zeros((5, 5), np.uint8)),
    ("huge", np.zeros((10, 9000), np.uint8)),
    ("4-D", np.zeros((2, 60, 200, 3), np.uint8)),
    ("2 channels", np.zeros((60, 200, 2), np.uint8)),
    ("not an image", b"%PDF-1.7 this is not a picture"),
    ("empty bytes", b""),
    ("none", None),
    ("a list", [[0, 1], [1, 0]]),
    ("a string", "12345"),
]


@pytest.mark.parametrize(("what", "crop"), CORRUPT, ids=[c[0] for c in CORRUPT])
@pytest.mark.parametrize("read", [read_text, read_digits], ids=["text", "digits"])
def test_corrupt_crop_is_routed_never_raised(what: str, crop: Any, read: Any) -> None:
    fake = ExplodingModel(RuntimeError("must not run"))
    reading: OcrReading = read(crop, fake)
    assert reading.status is ReadingStatus.FAILED
    assert reading.reason is RouteReason.CORRUPT_CROP
    assert reading.detail.startswith("crop:")
    assert reading.text == "" and reading.confidence == 0.0
    assert fake.calls == 0


def _inked() -> np.ndarray:
    return printed_crop("42", np.random.default_rng(0))


@pytest.mark.parametrize(
    "fake",
    [
        ExplodingModel(RuntimeError("onnxruntime: [ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION")),
        ExplodingModel(MemoryError()),
        ExplodingModel(output=np.zeros((2, 10, 3), np.float32)),  # wrong number of classes
    ],
    ids=["runtime error", "out of memory", "wrong output shape"],
)
def test_model_failure_is_routed(fake: ExplodingModel) -> None:
    if fake.output is not None:  # make the fake check its output the way RecModel does
        def check(batch: np.ndarray) -> np.ndarray:
            fake.calls += 1
            raise RuntimeError(f"model output has shape {np.shape(fake.output)}, expected (n, t, 13)")
        fake.probabilities = check  # type: ignore[method-assign]
    reading = read_digits(_inked(), fake)  # type: ignore[arg-type]
    assert reading.status is ReadingStatus.FAILED
    assert reading.reason is RouteReason.MODEL_FAILURE
    assert reading.detail.startswith("recogniser:")


def test_real_model_rejects_a_bad_output_shape(model: reader.RecModel) -> None:
    class Session:
        def run(self, _names: Any, _feed: Any) -> list[np.ndarray]:
            return [np.zeros((1, 4, 7), np.float32)]

    broken = reader.RecModel.__new__(reader.RecModel)
    broken.__dict__.update(model.__dict__)
    broken.session = Session()
    reading = read_text(_inked(), broken)
    assert reading.reason is RouteReason.MODEL_FAILURE and "shape" in reading.detail


@pytest.fixture
def no_model_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def missing() -> Any:
        raise RuntimeError("rapidocr is not installed (pip install rapidocr==3.10.0)")

    monkeypatch.setattr(reader, "packaged_model_path", missing)
    reader.set_model(None)
    yield
    reader.set_model(None)


@pytest.mark.usefixtures("no_model_file")
def test_missing_model_routes_every_read() -> None:
    reading = read_text(_inked())
    assert reading.status is ReadingStatus.FAILED
    assert reading.reason is RouteReason.MODEL_FAILURE
    assert "rapidocr" in reading.detail


def test_model_file_ships_in_the_rapidocr_wheel() -> None:
    path = reader.packaged_model_path()
    assert path.name == "PP-OCRv6_rec_small.onnx"
    assert path.stat().st_size > 10_000_000


# ---------------------------------------------------------------- the per-digit vote


def dec(text: str, conf: float = 0.99) -> tuple[str, tuple[float, ...]]:
    return text, tuple(conf for _ in text)


@pytest.mark.parametrize(
    ("spaced", "written", "glyphs", "groups", "dots", "expected"),
    [
        ("114", "114", "114", 3, 0, "114"),  # unanimous
        ("115", "114", "114", 3, 0, "114"),  # the digits read one by one break the tie
        ("11", "114", "114", 3, 0, "114"),  # a dropped digit in one layout: the others still vote
        ("1114", "114", "1?4", 3, 0, "114"),  # an unreadable glyph ('?' = not one digit) just does not vote
        ("7.5", "75", "75", 2, 1, "7.5"),  # the point comes from a layout whose points match the dots seen
        ("75", "7.5", "75", 2, 1, "7.5"),
        ("7.5", "75", "75", 2, 0, "75"),  # no dot-like ink: the layout without a point wins
        ("11", "11", "1", 3, 0, None),  # nothing usable for some position
    ],
)
def test_vote_digits(spaced: str, written: str, glyphs: str, groups: int, dots: int, expected: str | None) -> None:
    glyph_reads = [dec("" if g == "?" else g) for g in glyphs]
    voted = reader.vote_digits([dec(spaced), dec(written)], glyph_reads, groups, dots)
    assert (voted[0] if voted else None) == expected


def test_contested_digit_loses_confidence() -> None:
    voted = reader.vote_digits([dec("115"), dec("114")], [dec("1"), dec("1"), dec("4")], 3)
    assert voted is not None
    assert voted[1][:2] == (0.99, 0.99)
    assert voted[1][2] == pytest.approx(0.99 * 2 / 3, abs=1e-4)
