"""Face analysis for proctoring on one core: speed, detection on variations, identity separation and
the false-flag rate on honest simulated sessions, with OpenCV's Haar cascade as the baseline.

Photos ship in packages (tests/face_photos.py: scikit-image's astronaut, matplotlib's grace_hopper,
empty scenes); nothing is downloaded. Honest sessions: one candidate, a 320-px webcam frame every
10 s with small shifts and zoom, slight tilt, lighting x0.6-1.3 and JPEG quality 40-90; each frame's
analysis goes through the real detection rules (proctoring.rules.step), so a "false flag" is a face
flag the rules would raise against an honest candidate.

    .venv/bin/python bench/faces.py                      # 8 sessions x 20 frames, ~2 min
    .venv/bin/python bench/faces.py --sessions 20 --frames 30

Last line: one JSON object (frames_per_s_per_core, false_flag_rate, detection rates, baseline).
``frames_per_s_per_core`` is frames over process CPU seconds (the machine may be shared).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import cv2  # noqa: E402
import face_photos as fp  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from proctoring import rules  # noqa: E402
from proctoring.dlib_faces import DlibFaceEngine  # noqa: E402
from proctoring.face_engine import Embedding, analyse_frame, decode_image, distance, enrol_photo, fit  # noqa: E402
from proctoring.faces import IDENTITY_DISTANCE, MATCH_DISTANCE  # noqa: E402

PEOPLE = ("astronaut", "hopper")
FACE_RULES = {r.value for r in rules.FRAME_RULES}
cv2.setNumThreads(1)


class HaarBaseline:
    """OpenCV's frontal face Haar cascade (ships in opencv-python-headless), usual parameters."""

    def __init__(self) -> None:
        self._cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))

    def count(self, rgb: np.ndarray) -> int:
        grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        return len(self._cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40)))


def variant_cases() -> list[tuple[str, Image.Image, int]]:
    """(variant, image, faces expected) over both people, occlusion, two faces and empty scenes."""
    cases = [(name, image, 1) for person in PEOPLE for name, image in fp.variants(person).items()]
    cases += [("occluded", fp.occlude(fp.photo(p), fp.FACE_BOX[p]), 0) for p in PEOPLE]
    cases += [("two_faces", fp.side_by_side(fp.photo(a), fp.photo(b)), 2) for a, b in
              (("astronaut", "hopper"), ("hopper", "astronaut"), ("hopper", "hopper"))]
    cases += [("empty", image, 0) for image in fp.empty_scenes().values()]
    return cases


def detection(engine: DlibFaceEngine, haar: HaarBaseline) -> dict[str, dict[str, float]]:
    """Per variant: the share of images where each detector counts the expected number of faces."""
    hits: dict[str, list[tuple[bool, bool]]] = {}
    for name, image, expected in variant_cases():
        rgb = fit(decode_image(fp.jpeg(image)))
        ours, base = len(engine.detect(rgb)), haar.count(rgb)
        hits.setdefault(name, []).append((ours == expected, base == expected))
    return {name: {"ours": round(float(np.mean([h[0] for h in v])), 3),
                   "haar": round(float(np.mean([h[1] for h in v])), 3)} for name, v in hits.items()}


def honest(engine: DlibFaceEngine, haar: HaarBaseline, enrolled: dict[str, Embedding], sessions: int,
           frames: int) -> dict[str, Any]:
    flagged, frame_flags, analysed, cpu, distances = 0, 0, 0, 0.0, []
    haar_ok = ours_ok = 0
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for index in range(sessions):
        person = PEOPLE[index % 2]
        state, raised = rules.RuleState(), []
        for k, jpeg in enumerate(fp.honest_session(person, frames, seed=1000 + index)):
            t0 = time.process_time()
            result = analyse_frame(jpeg, engine, enrolled[person])
            cpu += time.process_time() - t0
            analysed += 1
            ours_ok += result.faces == 1
            haar_ok += haar.count(fit(decode_image(jpeg))) == 1
            frame_flags += result.faces != 1 or result.matches is False or bool(result.looking_away)
            if result.match_distance is not None:
                distances.append(result.match_distance)
            obs = rules.Observation("frame_analysed", start + timedelta(seconds=10 * k), data=result.as_dict(),
                                    frame_id=k)
            raised += [c.rule.value for c in rules.step(state, obs)
                       if c.ended_at is None and c.rule.value in FACE_RULES]
        flagged += bool(raised)
    return {"sessions": sessions, "frames": analysed, "sessions_flagged": flagged,
            "false_flag_rate": round(flagged / sessions, 4), "frame_false_rate": round(frame_flags / analysed, 4),
            "frames_per_s_per_core": round(analysed / cpu, 2), "max_same_person_distance": round(max(distances), 4),
            "detect_one_face": {"ours": round(ours_ok / analysed, 3), "haar": round(haar_ok / analysed, 3)}}


def identity_separation(engine: DlibFaceEngine, enrolled: dict[str, Embedding]) -> dict[str, float]:
    same, other = [], []
    for person in PEOPLE:
        for image in fp.variants(person).values():
            result = analyse_frame(fp.jpeg(image), engine, None)
            if result.faces != 1:
                continue
            embedding = enrol_photo(fp.jpeg(image), engine)
            same.append(distance(embedding, enrolled[person]))
            other.append(min(distance(embedding, enrolled[p]) for p in PEOPLE if p != person))
    return {"same_max": round(max(same), 4), "other_min": round(min(other), 4),
            "identity_threshold": IDENTITY_DISTANCE, "monitor_threshold": MATCH_DISTANCE,
            "false_accepts_at_identity_threshold": sum(d <= IDENTITY_DISTANCE for d in other),
            "false_rejects_at_identity_threshold": sum(d > IDENTITY_DISTANCE for d in same)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    t0 = time.process_time()
    engine, haar = DlibFaceEngine(), HaarBaseline()
    load_s = time.process_time() - t0
    enrolled = {p: enrol_photo(fp.jpeg(fp.photo(p)), engine) for p in PEOPLE}
    detect = detection(engine, haar)
    print(json.dumps({"detection": detect}), flush=True)
    separation = identity_separation(engine, enrolled)
    print(json.dumps({"identity": separation}), flush=True)
    session = honest(engine, haar, enrolled, args.sessions, args.frames)
    print(json.dumps({"honest": session}), flush=True)
    print(json.dumps({
        "frames_per_s_per_core": session["frames_per_s_per_core"], "false_flag_rate": session["false_flag_rate"],
        "frame_false_rate": session["frame_false_rate"], "honest_sessions": session["sessions"],
        "honest_frames": session["frames"], "model_load_cpu_s": round(load_s, 2),
        "detection_rate": {k: v["ours"] for k, v in detect.items()},
        "baseline_haar_detection_rate": {k: v["haar"] for k, v in detect.items()},
        "honest_one_face_rate": session["detect_one_face"], "identity": separation,
        "load_average_1m": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
