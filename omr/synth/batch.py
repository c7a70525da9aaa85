"""Generate a folder of synthetic scans with their ground truth.

    generate_batch(layout, out_dir, count=300, seed=1, dpi=200, code=...)

writes ``sheet-0001.png`` / ``.jpg`` (JPEG when the degradation chose a JPEG quality: the file on
disk is then exactly what a phone or scanner would deliver) and ``truth.json``::

    {"layout": ..., "seed": ..., "dpi": ..., "render_dpi": ...,
     "sheets": [{"file": "sheet-0001.jpg", "truth": {SheetTruth}, "degradation": {Degradation}}]}

Deterministic for a given layout, seed and options. The blank is rendered once (at
``render_dpi``, the "printer"), each sheet is filled and degraded from its own child generator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr.layout import SheetLayout
from omr.sheet_code import SheetCode
from omr.synth.degrade import Degradation, apply_degradation, sample_degradation
from omr.synth.fill import DEFAULT_MIX, MarkMix, SheetTruth, fill_sheet, random_answers
from omr.synth.render import render_blank


@dataclass
class SyntheticSheet:
    file: str
    truth: SheetTruth
    degradation: Degradation


@dataclass
class Batch:
    folder: Path
    layout: SheetLayout
    sheets: list[SyntheticSheet] = field(default_factory=list)

    def truth_by_file(self) -> dict[str, SyntheticSheet]:
        return {s.file: s for s in self.sheets}


def generate_batch(layout: SheetLayout, out_dir: Path, count: int = 300, seed: int = 1,
                   dpi: float | tuple[float, ...] = 200.0, code: SheetCode | None = None, render_dpi: float = 300.0,
                   kinds: tuple[str, ...] = ("scanner", "scanner", "phone"), mix: MarkMix = DEFAULT_MIX,
                   smudge_rate: float = 0.08, feed_rate: float = 0.3,
                   progress: Callable[[int, int], None] | None = None) -> Batch:
    """``count`` filled and degraded sheets of ``layout`` in ``out_dir`` plus ``truth.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    blank = render_blank(layout, render_dpi, code)
    batch = Batch(out_dir, layout)
    children = np.random.default_rng(seed).spawn(count)
    for i, rng in enumerate(children):
        answers = random_answers(layout, rng)
        filled, truth = fill_sheet(blank, layout, answers, render_dpi, rng, mix)
        d = sample_degradation(rng, dpi=dpi, kinds=kinds, feed_rate=feed_rate, smudge_rate=smudge_rate)
        image = apply_degradation(filled, render_dpi, replace_jpeg(d), layout)
        name = f"sheet-{i + 1:04d}"
        if d.jpeg_quality is not None:
            name += ".jpg"
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(d.jpeg_quality)])
        else:
            name += ".png"
            ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:  # pragma: no cover - cv2 encodes any uint8 grey image
            raise RuntimeError(f"could not encode {name}")
        (out_dir / name).write_bytes(data.tobytes())
        batch.sheets.append(SyntheticSheet(name, truth, d))
        if progress is not None:
            progress(i + 1, count)
    write_truth(batch, seed=seed, dpi=dpi, render_dpi=render_dpi)
    return batch


def replace_jpeg(d: Degradation) -> Degradation:
    """The degradation without its JPEG step (the file is encoded once, when written)."""
    from dataclasses import replace

    return replace(d, jpeg_quality=None)


def write_truth(batch: Batch, **meta: Any) -> Path:
    path = batch.folder / "truth.json"
    data = {"layout": batch.layout.name, "layout_json": batch.layout.model_dump(mode="json"), **meta,
            "sheets": [{"file": s.file, "truth": s.truth.to_dict(), "degradation": s.degradation.to_dict()}
                       for s in batch.sheets]}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def read_truth(folder: Path) -> Batch:
    data = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    layout = SheetLayout.model_validate(data["layout_json"])
    sheets = [SyntheticSheet(s["file"], SheetTruth.from_dict(s["truth"]), Degradation.from_dict(s["degradation"]))
              for s in data["sheets"]]
    return Batch(folder, layout, sheets)
