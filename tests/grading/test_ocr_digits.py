"""grading.ocr.digits: the second reader (a digit CNN) on held-out handwriting, and its agreement with
PP-OCR as the confidence rule: every kind of disagreement goes to a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grading.ocr import DEFAULT_THRESHOLD, Action, check_human_score, decide_blank, digits, reader, synth
from grading.ocr.digits import DigitModel, agree, classifier_only, normalise
from grading.ocr.reader import ReadingStatus, RouteReason, read_digits

BLANK_42 = {"answers": [{"text": "42", "fraction": 1.0}]}


@pytest.fixture(scope="module")
def model() -> reader.RecModel:
    return reader.RecModel(threads=1)


@pytest.fixture(scope="module")
def cnn() -> DigitModel:
    return DigitModel(threads=1)


class FixedDigits:
    """A second reader that always answers ``digit`` with probability ``p`` (or fails, or returns junk)."""

    def __init__(self, digit: int = 0, p: float = 0.99, output: Any = None, error: Exception | None = None) -> None:
        self.digit, self.p, self.output, self.error = digit, p, output, error

    def probabilities(self, glyphs: np.ndarray) -> np.ndarray:
        if self.error is not None:
            raise self.error
        if self.output is not None:
            return np.asarray(self.output, np.float32)
        out = np.full((len(glyphs), 10), (1 - self.p) / 9, np.float32)
        out[:, self.digit] = self.p
        return out


# ---------------------------------------------------------------- glyphs and the agreement rule, no model


def test_normalise_draws_a_digit_the_mnist_way() -> None:
    ink = np.zeros((60, 20), np.float32)
    ink[5:55, 8:12] = 1.0  # a tall thin '1' somewhere in a larger image
    out = normalise(ink)
    assert out.shape == (28, 28)
    rows = np.flatnonzero(out.max(axis=1) > 0.05)
    assert rows.max() - rows.min() + 1 == 20  # the longer side scaled to 20 px
    ys, xs = np.nonzero(out)
    centre = (np.average(ys, weights=out[ys, xs]), np.average(xs, weights=out[ys, xs]))
    assert centre == pytest.approx((14, 14), abs=1.0)
    assert not normalise(np.zeros((10, 10), np.float32)).any()  # nothing in, nothing out


def _probs(digits_: str, p: float = 0.98) -> np.ndarray:
    out = np.full((len(digits_), 10), (1 - p) / 9, np.float32)
    for i, d in enumerate(digits_):
        out[i, int(d)] = p
    return out


def test_agreeing_readers_are_surer_than_either() -> None:
    joined = agree(("7.5", (0.97, 0.9, 0.95)), _probs("75", 0.98))
    assert joined.agree and joined.text == "7.5" and joined.detail == ""
    assert joined.confidences[0] == pytest.approx(1 - 0.03 * 0.02, abs=1e-6)
    assert joined.confidences[1] == 0.9  # the point is PP-OCR's alone
    assert joined.confidences[2] > 0.99


@pytest.mark.parametrize(
    ("pp", "pp_conf", "cnn", "cnn_p", "text"),
    [
        ("42", 0.99, "47", 0.60, "42"),  # PP-OCR surer: its digit stands, still a disagreement
        ("42", 0.70, "47", 0.99, "47"),  # the classifier surer
        ("18", 0.999, "13", 0.99, "18"),  # both sure and different
        ("42", 0.99, "42", 0.70, "42"),  # the same digit, but the classifier is unsure of it
        ("42", 0.60, "42", 0.99, "42"),  # ... or PP-OCR is
    ],
)
def test_disagreeing_or_unsure_readers_are_marked(pp: str, pp_conf: float, cnn: str, cnn_p: float,
                                                  text: str) -> None:
    probs = _probs(cnn, 0.99)
    probs[1] = _probs(cnn[1], cnn_p)[0]  # only the second digit is in doubt
    joined = agree((pp, (0.99, pp_conf)), probs)
    assert not joined.agree
    assert joined.text == text
    assert "digit 2" in joined.detail and "classifier" in joined.detail
    assert joined.confidences[0] > 0.99  # the first digit is read alike and surely
    assert joined.confidences[1] < 0.999


def test_the_views_of_ppocr_are_weighed_with_the_classifier() -> None:
    # PP-OCR's layouts read '1', its glyph view '9'; the classifier is fairly sure of '9'.
    columns = [[("1", 0.9), ("1", 0.8), ("9", 0.9)]]
    joined = agree(("1", (0.6,)), _probs("9", 0.9), columns)
    assert joined.text == "9" and not joined.agree


def test_classifier_only_places_points_after_digits() -> None:
    text, confs = classifier_only(_probs("275"), [1])
    assert text == "27.5" and len(confs) == 4


def test_point_slots_find_the_digit_before_the_point() -> None:
    tall = [(0, 0, 10, 30), (14, 0, 24, 30), (30, 0, 40, 30)]
    dot = (25, 25, 28, 29)
    assert reader.point_slots((tall[0], tall[1], dot, tall[2]), tall) == [1]
    assert reader.point_slots((tall[0], (25, 2, 28, 6), tall[1], tall[2]), tall) == []  # high up: a fragment


# ---------------------------------------------------------------- the real classifier on held-out digits


def test_model_is_small_and_packaged() -> None:
    assert digits.MODEL_PATH.is_file()
    assert digits.MODEL_PATH.stat().st_size < 1_000_000


def test_classifier_on_held_out_glyphs(cnn: DigitModel) -> None:
    """Digits from the test split (never trained on), cut out by the reader's own segmentation."""
    test_digits = synth.mnist_split("test")
    rng = np.random.default_rng(11)
    right = total = 0
    for _ in range(40):
        text, rows = synth.digit_string(rng, 5, test_digits)
        prepared = reader.prepare(synth.handwritten_crop(rows, rng, test_digits), digits=True)
        assert not isinstance(prepared, reader.OcrReading) and prepared.classifier is not None
        if len(prepared.classifier) != len(text):
            continue
        picks = cnn.probabilities(prepared.classifier).argmax(axis=1)
        right += sum(int(p) == int(t) for p, t in zip(picks, text, strict=True))
        total += len(text)
    assert total >= 150
    assert right / total >= 0.95


def test_held_out_strings_read_and_no_wrong_one_accepted(model: reader.RecModel, cnn: DigitModel) -> None:
    test_digits = synth.mnist_split("test")
    rng = np.random.default_rng(5)
    exact = 0
    for _ in range(30):
        truth, rows = synth.digit_string(rng, int(rng.integers(3, 7)), test_digits)
        reading = read_digits(synth.handwritten_crop(rows, rng, test_digits), model, cnn)
        assert reading.status is ReadingStatus.READ
        exact += reading.text == truth
        if reading.text != truth:  # a misreading must never be confident
            assert reading.confidence < DEFAULT_THRESHOLD, (truth, reading)
    assert exact >= 26  # >= 85 % on a small sample (the bench measures 1,000 strings)


def test_split_never_shares_a_digit() -> None:
    parts = [set(synth.split_indices(name).tolist()) for name in ("train", "calibration", "test")]
    assert [len(p) for p in parts] == [2500, 1000, 1500]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    labels = synth.mnist_digits()[1][synth.split_indices("test")]
    assert np.bincount(labels).tolist() == [150] * 10


# ---------------------------------------------------------------- every kind of wrong answer is routed


def _crop_42() -> np.ndarray:
    return synth.printed_crop("42", np.random.default_rng(0))


def test_the_readers_agreeing_score_the_blank(model: reader.RecModel, cnn: DigitModel) -> None:
    reading = read_digits(_crop_42(), model, cnn)
    assert reading.text == "42" and reading.confidence >= DEFAULT_THRESHOLD
    assert decide_blank(reading, BLANK_42).action is Action.SCORE


@pytest.mark.parametrize("p", [0.6, 0.99, 1.0])
def test_a_digit_the_classifier_reads_otherwise_goes_to_a_person(model: reader.RecModel, p: float) -> None:
    reading = read_digits(_crop_42(), model, FixedDigits(4, p))  # type: ignore[arg-type]
    assert reading.status is ReadingStatus.READ
    assert reading.confidence < DEFAULT_THRESHOLD
    assert "readers disagree at" in reading.detail and "digit 2: PP-OCR 2" in reading.detail
    decision = decide_blank(reading, BLANK_42)
    assert decision.action is Action.PERSON and decision.reason is RouteReason.LOW_CONFIDENCE
    check = check_human_score(42, reading, tolerance=0.5)
    assert not check.flagged and check.reason is RouteReason.LOW_CONFIDENCE


def test_a_digit_count_the_ink_does_not_support_goes_to_a_person(model: reader.RecModel, cnn: DigitModel) -> None:
    # Two digits written into one another: one ink group, two digits read (or one digit for two).
    crop = synth.printed_crop("88", np.random.default_rng(1))
    touching = crop.copy()
    touching[35:60, 10:-10] = np.minimum(touching[35:60, 10:-10], 40)  # a bar joining everything
    reading = read_digits(touching, model, cnn)
    assert reading.confidence < DEFAULT_THRESHOLD
    assert decide_blank(reading, {"answers": [{"text": "88", "fraction": 1.0}]}).action is Action.PERSON


@pytest.mark.parametrize(
    "fake",
    [
        FixedDigits(error=RuntimeError("onnxruntime: [ONNXRuntimeError]")),
        FixedDigits(error=MemoryError()),
    ],
    ids=["runtime error", "out of memory"],
)
def test_classifier_failure_is_routed(model: reader.RecModel, fake: FixedDigits) -> None:
    reading = read_digits(_crop_42(), model, fake)  # type: ignore[arg-type]
    assert reading.status is ReadingStatus.FAILED and reading.reason is RouteReason.MODEL_FAILURE
    assert reading.detail.startswith("digit classifier:")
    assert decide_blank(reading, BLANK_42).action is Action.PERSON


@pytest.mark.parametrize(
    "output", [np.zeros((2, 9)), np.full((2, 10), np.nan)], ids=["wrong shape", "NaN"]
)
def test_real_classifier_rejects_bad_output(model: reader.RecModel, cnn: DigitModel, output: np.ndarray) -> None:
    class Session:
        def run(self, _names: Any, _feed: Any) -> list[np.ndarray]:
            return [output.astype(np.float32)]

    broken = DigitModel.__new__(DigitModel)
    broken.__dict__.update(cnn.__dict__)
    broken.session = Session()
    reading = read_digits(_crop_42(), model, broken)
    assert reading.reason is RouteReason.MODEL_FAILURE and "digit model output" in reading.detail


def test_missing_classifier_file_routes_every_number(model: reader.RecModel, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digits, "MODEL_PATH", tmp_path / "gone.onnx")
    digits.set_digit_model(None)
    try:
        reading = read_digits(_crop_42(), model)
    finally:
        digits.set_digit_model(None)
    assert reading.status is ReadingStatus.FAILED and reading.reason is RouteReason.MODEL_FAILURE
    assert "gone.onnx is missing" in reading.detail
