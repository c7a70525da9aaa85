"""Face analysis on real photos that ship in packages (astronaut, grace_hopper, empty scenes), with
lighting, rotation, blur, occlusion, two faces and broken input. The real dlib model, no fakes."""

from __future__ import annotations

import io
import struct
import zlib

import face_photos as fp
import numpy as np
import pytest
from PIL import Image

from proctoring.dlib_faces import DlibFaceEngine, default_engine
from proctoring.face_engine import (
    Embedding,
    EnrolmentRefused,
    analyse_frame,
    embedding_bytes,
    embedding_from_bytes,
    enrol_photo,
)
from proctoring.faces import IDENTITY_DISTANCE, MATCH_DISTANCE, FrameAnalysis


@pytest.fixture(scope="module")
def engine() -> DlibFaceEngine:
    return default_engine()


@pytest.fixture(scope="module")
def enrolled(engine: DlibFaceEngine) -> dict[str, Embedding]:
    return {name: enrol_photo(fp.jpeg(fp.photo(name)), engine) for name in ("astronaut", "hopper")}


@pytest.mark.parametrize("person", ["astronaut", "hopper"])
def test_the_same_person_matches_under_every_variation(engine: DlibFaceEngine, enrolled: dict[str, Embedding],
                                                       person: str) -> None:
    for variant, image in fp.variants(person).items():
        result = analyse_frame(fp.jpeg(image), engine, enrolled[person], IDENTITY_DISTANCE)
        assert result.faces == 1, variant
        assert result.matches is True and result.match_distance is not None, variant
        assert result.match_distance < IDENTITY_DISTANCE and result.reason is None, variant
        assert result.looking_away is False, variant  # frontal photos


@pytest.mark.parametrize("person,other", [("astronaut", "hopper"), ("hopper", "astronaut")])
def test_another_person_does_not_match(engine: DlibFaceEngine, enrolled: dict[str, Embedding],
                                       person: str, other: str) -> None:
    for variant, image in fp.variants(other).items():
        result = analyse_frame(fp.jpeg(image), engine, enrolled[person], IDENTITY_DISTANCE)
        assert result.faces == 1 and result.matches is False, variant
        assert result.reason == "face_mismatch" and result.match_distance is not None
        assert result.match_distance > IDENTITY_DISTANCE, variant


def test_plain_photos_of_two_people_are_apart_at_the_monitoring_threshold(enrolled: dict[str, Embedding]) -> None:
    gap = float(np.linalg.norm(enrolled["astronaut"] - enrolled["hopper"]))
    assert gap > MATCH_DISTANCE


@pytest.mark.parametrize("person", ["astronaut", "hopper"])
def test_a_covered_face_is_no_face_in_a_usable_frame(engine: DlibFaceEngine, enrolled: dict[str, Embedding],
                                                     person: str) -> None:
    result = analyse_frame(fp.jpeg(fp.occlude(fp.photo(person), fp.FACE_BOX[person])), engine, enrolled[person])
    assert result == FrameAnalysis(faces=0, usable=True, reason="no_face", brightness=result.brightness,
                                   sharpness=result.sharpness)


@pytest.mark.parametrize("left,right", [("astronaut", "hopper"), ("hopper", "hopper")])
def test_two_photos_side_by_side_are_several_faces(engine: DlibFaceEngine, enrolled: dict[str, Embedding],
                                                   left: str, right: str) -> None:
    result = analyse_frame(fp.jpeg(fp.side_by_side(fp.photo(left), fp.photo(right))), engine, enrolled[left])
    assert result.faces == 2 and result.reason == "several_faces" and result.matches is None


def test_empty_scenes_have_no_face(engine: DlibFaceEngine) -> None:
    for name, image in fp.empty_scenes().items():
        result = analyse_frame(fp.jpeg(image), engine, None)
        assert (result.faces, result.usable, result.reason) == (0, True, "no_face"), name


def test_a_dark_or_blurred_frame_without_a_face_is_unusable_not_absent(engine: DlibFaceEngine) -> None:
    black = Image.new("RGB", (320, 240), (8, 8, 8))
    assert analyse_frame(fp.jpeg(black), engine, None).reason == "too_dark"
    assert analyse_frame(fp.jpeg(black), engine, None).usable is False
    white = Image.new("RGB", (320, 240), (250, 250, 250))
    assert analyse_frame(fp.jpeg(white), engine, None).reason == "too_bright"
    from PIL import ImageFilter

    smeared = fp.occlude(fp.astronaut(), fp.FACE_BOX["astronaut"]).filter(ImageFilter.GaussianBlur(8))
    result = analyse_frame(fp.jpeg(smeared), engine, None)
    assert (result.faces, result.usable, result.reason) == (0, False, "blurred")


def test_a_face_in_a_dark_frame_still_counts(engine: DlibFaceEngine, enrolled: dict[str, Embedding]) -> None:
    result = analyse_frame(fp.jpeg(fp.variants("hopper")["very_dark"]), engine, enrolled["hopper"])
    assert result.usable and result.faces == 1 and result.brightness is not None and result.brightness < 30


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size (a decompression bomb is a small file)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000))
            + _chunk(b"IEND", b""))


def test_broken_input_is_an_unusable_frame_with_the_reason(engine: DlibFaceEngine) -> None:
    good = fp.jpeg(fp.astronaut())
    gif = io.BytesIO()
    fp.astronaut().save(gif, "GIF")
    cases = {b"": "not_an_image", b"hello, not a picture": "not_an_image", good[: len(good) // 3]: "corrupt",
             gif.getvalue(): "not_an_image", _png_header(5000, 5000): "too_many_pixels",
             _png_header(50_000, 50_000) + b" ": "too_many_pixels",
             b"\xff\xd8\xff" + b"\0" * 600_000: "too_large"}
    for data, reason in cases.items():
        result = analyse_frame(data, engine, None)
        assert (result.faces, result.usable, result.reason) == (0, False, reason), reason


def test_enrolment_needs_exactly_one_face(engine: DlibFaceEngine) -> None:
    with pytest.raises(EnrolmentRefused) as none:
        enrol_photo(fp.jpeg(fp.empty_scenes()["coffee"]), engine)
    assert none.value.reason == "no_face"
    with pytest.raises(EnrolmentRefused) as two:
        enrol_photo(fp.png(fp.side_by_side(fp.astronaut(), fp.hopper())), engine)
    assert two.value.reason == "several_faces"
    with pytest.raises(EnrolmentRefused) as bad:
        enrol_photo(b"%PDF-1.4 not a photo", engine)
    assert bad.value.reason == "not_an_image"
    png_embedding = enrol_photo(fp.png(fp.hopper()), engine)
    assert png_embedding.shape == (128,) and png_embedding.dtype == np.float32


def test_embedding_bytes_round_trip(enrolled: dict[str, Embedding]) -> None:
    data = embedding_bytes(enrolled["astronaut"])
    assert len(data) == 512
    assert np.array_equal(embedding_from_bytes(data), enrolled["astronaut"])
    with pytest.raises(ValueError):
        embedding_from_bytes(data[:-1])


def test_analysis_dict_round_trip_keeps_old_rows_readable() -> None:
    analysis = FrameAnalysis(faces=1, match_distance=0.31, matches=True, looking_away=False, brightness=101.5,
                             sharpness=850.0, yaw=-0.02)
    assert FrameAnalysis.from_dict(analysis.as_dict()) == analysis
    assert FrameAnalysis.from_dict({"faces": 0, "usable": False, "reason": "too_dark"}).brightness is None


def test_honest_sessions_are_one_matching_face(engine: DlibFaceEngine, enrolled: dict[str, Embedding]) -> None:
    for person, seed in (("astronaut", 1), ("hopper", 2)):
        results = [analyse_frame(frame, engine, enrolled[person]) for frame in fp.honest_session(person, 12, seed)]
        assert all(r.faces == 1 and r.matches for r in results), [r.reason for r in results]
