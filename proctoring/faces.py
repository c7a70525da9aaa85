"""Face analysis of webcam frames: the result type every part of proctoring shares.

The models (mediapipe 0.10.21's face detector, dlib's 128-d embedding from face_recognition_models)
are injected where they are used, so tests pass small real ones. :class:`FrameAnalysis` is what a
worker stores in ``proctor_frames.analysis`` (``as_dict``) and what the detection rules read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Two embeddings of the same person are usually closer than this (dlib's documented 0.6). Used for
# monitoring frames, where a false mismatch is a false flag against an honest candidate.
MATCH_DISTANCE = 0.6
# The identity check before the exam is stricter: a false reject costs only a proctor's manual check,
# a false accept lets the wrong person in. Measured (bench/faces.py, dlib embedding): the same person
# under lighting, rotation, blur, JPEG q30 and small frames 0.00-0.39 (honest sessions <= 0.31);
# astronaut vs grace_hopper 0.59-0.69 (0.59 with astronaut brightened x1.6, under dlib's 0.6).
IDENTITY_DISTANCE = 0.5


@dataclass(frozen=True)
class FrameAnalysis:
    faces: int  # faces detected
    match_distance: float | None = None  # distance to the enrolled embedding (one face only)
    matches: bool | None = None  # None: no enrolled photo, or not exactly one face
    looking_away: bool | None = None  # None: not estimated
    # False: the frame says nothing about presence (not an image, too large, or no face found in a
    # frame too dark, too bright or too blurred to show one); rules must not count it as face absent.
    usable: bool = True
    reason: str | None = None  # why unusable, or why no match was computed
    # Added by the face analysis (proctoring/face_engine.py); None in analyses made before them.
    brightness: float | None = None  # mean luminance 0..255
    sharpness: float | None = None  # variance of the Laplacian (low = blurred)
    yaw: float | None = None  # nose offset over eye distance (0 frontal; see face_engine.YAW_AWAY)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameAnalysis:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
