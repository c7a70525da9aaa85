"""The face model that ships inside packages: dlib's HOG face detector (built into ``dlib-bin``) and
the 5-point landmarks + ResNet 128-d embedding files of ``face_recognition_models``. Nothing is
downloaded at run time.

Why not mediapipe 0.10.21 (the last release shipping its face models): it requires numpy<2 and
protobuf<5, while this project's ortools, pandas and mlxtend need numpy>=2 and ortools protobuf>=6,
so pip cannot install both. dlib's detector is frontal only, which suits an exam (a face turned
further than ~40 degrees is no longer "looking at the paper"). Measured on bench/faces.py against
OpenCV's Haar cascade.

Load once per process (:func:`default_engine`); dlib objects are used under a lock because their
thread safety is not documented (the worker runs several threads; dlib holds the GIL anyway).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path

import dlib
import numpy as np

from proctoring.face_engine import RGB, FaceBox, FaceDescription

# dlib HOG scores: dlib proposes astronaut's mission patch as a face at up to 0.26 (JPEG q60), while
# real faces under lighting, rotation (<=30 degrees), mild blur and small sizes scored 0.46-1.8
# (astronaut, grace_hopper; bench/faces.py). 0.3 separates them for the best face of a frame.
MIN_SCORE = 0.3
# A second face must score higher: in 320-px honest frames (upsampled) the patch reached 0.32 beside
# the real face (0.78-1.56), and a false "several faces" is a false flag against an honest candidate.
EXTRA_FACE_SCORE = 0.5
# Faces under ~80 px are missed without upsampling: small frames (short side below this) are
# upsampled once, which costs about four times the detection time.
UPSAMPLE_BELOW = 400


class FaceModelMissing(RuntimeError):
    """face_recognition_models is not installed (``pip install face_recognition_models``)."""


def models_dir() -> Path:
    # Located without importing the package: its __init__ imports pkg_resources, gone from recent setuptools.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelMissing("face_recognition_models is not installed; it ships the face embedding model")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class DlibFaceEngine:
    def __init__(self, min_score: float = MIN_SCORE, upsample_below: int = UPSAMPLE_BELOW,
                 extra_face_score: float = EXTRA_FACE_SCORE) -> None:
        root = models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(root / "shape_predictor_5_face_landmarks.dat"))
        self._model = dlib.face_recognition_model_v1(str(root / "dlib_face_recognition_resnet_model_v1.dat"))
        self._min_score, self._upsample_below, self._extra = min_score, upsample_below, extra_face_score
        self._lock = threading.Lock()

    def detect(self, rgb: RGB) -> list[FaceBox]:
        upsample = 1 if min(rgb.shape[:2]) < self._upsample_below else 0
        with self._lock:
            rects, scores, _ = self._detector.run(np.ascontiguousarray(rgb), upsample, self._min_score)
        found = sorted((FaceBox(r.left(), r.top(), r.right(), r.bottom(), float(s))
                        for r, s in zip(rects, scores, strict=True)), key=lambda b: -b.score)
        return [b for i, b in enumerate(found) if b.score >= (self._min_score if i == 0 else self._extra)]

    def describe(self, rgb: RGB, box: FaceBox) -> FaceDescription:
        rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
        image = np.ascontiguousarray(rgb)
        with self._lock:
            shape = self._shape(image, rect)
            vector = self._model.compute_face_descriptor(image, shape)
        points = np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], dtype=np.float64)
        return FaceDescription(np.asarray(vector, dtype=np.float32), _yaw(points))


def _yaw(points: np.ndarray) -> float | None:
    """Nose base (point 4) offset from the eyes' midpoint, over the eye distance (points 0-1, 2-3)."""
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    span = float(np.linalg.norm(eye_a - eye_b))
    if span < 1.0:
        return None
    mid = (eye_a + eye_b) / 2.0
    axis = (eye_b - eye_a) / span  # along the eyes, so a tilted head is not read as turned
    return float(np.dot(points[4] - mid, axis) / span)


@functools.cache
def default_engine() -> DlibFaceEngine:
    """The process's engine, loaded on first use (~0.5 s; the embedding model is 22 MB)."""
    return DlibFaceEngine()
