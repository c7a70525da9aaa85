"""A folder of synthetic scans: files, truth.json, determinism, and (with the reader) a read-back."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from omr.synth.batch import generate_batch, read_truth
from omr.synth.fill import CLEAN
from omr.synth.sample import sample_code, sample_layout


@pytest.fixture(scope="module")
def layout():  # type: ignore[no-untyped-def]
    return sample_layout(questions=10, digits=4, multiple=2, subjective=1)


def test_batch_writes_images_and_truth(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    batch = generate_batch(layout, tmp_path, count=4, seed=3, dpi=(100.0, 150.0), code=sample_code(),
                           render_dpi=150.0)
    assert [s.file for s in batch.sheets] == sorted(p.name for p in tmp_path.iterdir() if p.name != "truth.json")
    for sheet in batch.sheets:
        image = cv2.imread(str(tmp_path / sheet.file), cv2.IMREAD_GRAYSCALE)
        assert image is not None and image.ndim == 2
        assert sheet.file.endswith(".jpg") == (sheet.degradation.jpeg_quality is not None)
        # portrait unless fed sideways
        assert (image.shape[0] > image.shape[1]) == (sheet.degradation.rotation in (0, 180))
    again = read_truth(tmp_path)
    assert again.layout == layout
    assert [(s.file, s.truth, s.degradation) for s in again.sheets] == \
        [(s.file, s.truth, s.degradation) for s in batch.sheets]


def test_same_seed_same_files(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    a = generate_batch(layout, tmp_path / "a", count=2, seed=9, dpi=100.0, render_dpi=150.0)
    b = generate_batch(layout, tmp_path / "b", count=2, seed=9, dpi=100.0, render_dpi=150.0)
    for sa, sb in zip(a.sheets, b.sheets, strict=True):
        assert (a.folder / sa.file).read_bytes() == (b.folder / sb.file).read_bytes()
    assert (a.folder / "truth.json").read_bytes() == (b.folder / "truth.json").read_bytes()


def test_reader_reads_clean_synthetic_sheets(tmp_path: Path, layout) -> None:  # type: ignore[no-untyped-def]
    """Round trip through the reader (when it is installed): clean pen marks on straight scans
    are read exactly."""
    reader = pytest.importorskip("omr.reader")
    batch = generate_batch(layout, tmp_path, count=2, seed=4, dpi=150.0, code=sample_code(), render_dpi=200.0,
                           kinds=("scanner",), mix=CLEAN, smudge_rate=0.0, feed_rate=0.0)
    for sheet in batch.sheets:
        image = cv2.imread(str(tmp_path / sheet.file), cv2.IMREAD_GRAYSCALE)
        reading = reader.read_page(image, lambda code: layout, sheet.file)
        assert not hasattr(reading, "issue"), reading
        if sheet.truth.expected_issues:
            assert reading.blocked
            continue
        read = {(f.block, f.field): f.value for f in reading.fields}
        for t in sheet.truth.fields:
            if t.kind in ("single", "multiple") and not t.ambiguous:
                assert read[(t.block, t.field)] == t.value, t
        assert reading.admission_no == sheet.truth.admission_no
