"""Face analysis of webcam frames: the result type every part of proctoring shares.

The models (mediapipe 0.10.21's face detector, dlib's 128-d embedding from face_recognition_models)
are injected where they are used, so tests pass small real ones. :class:`FrameAnalysis` is what a
worker stores in ``proctor_frames.analysis`` (``as_dict``) and what the detection rules read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Two embeddings of the same person are usually closer than this (dlib's documented 0.6).
MATCH_DISTANCE = 0.6


@dataclass(frozen=True)
class FrameAnalysis:
    faces: int  # faces detected
    match_distance: float | None = None  # distance to the enrolled embedding (one face only)
    matches: bool | None = None  # None: no enrolled photo, or not exactly one face
    looking_away: bool | None = None  # None: not estimated
    usable: bool = True  # False: too dark, too blurred, not a JPEG
    reason: str | None = None  # why unusable, or why no match was computed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameAnalysis:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
