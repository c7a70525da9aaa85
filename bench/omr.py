"""OMR on synthetic scans: reading speed on one core, bubble and admission-number errors, exceptions.

    .venv/bin/python bench/omr.py [--sheets 300] [--dpi 200] [--seed 1] [--mixed-dpi] [--keep-dir]
                                  [--layout design|sample] [--workers N]
    .venv/bin/python bench/omr.py --sheets 40 --dir /tmp/omr-bench     # reuse/keep generated sheets
    .venv/bin/python bench/omr.py --workers 2                          # + throughput of 2 processes

1. **generate** (not timed for the figures): the sheet of ``--layout`` is rendered at 300 dpi with
   its QR code. ``design`` (default): page 1 of the answer sheet our printer lays out
   (``omr.design.design_sheet`` for 60 single-choice, 5 multiple-response, 5 true/false, 2 fill-in
   and 2 subjective questions and a 10-digit admission number; page 1 holds every bubble, page 2
   only the subjective boxes). ``sample``: ``omr.synth.sample`` (60 single-choice, 5
   multiple-response, an 8-digit admission grid, two subjective boxes). Each sheet is filled from
   random answers with the mark mix of ``omr.synth.fill.MarkMix`` (pen, pencil, partial, ticks,
   crosses, faint, erased-and-remarked, stray marks, scribbles; the mix applies to admission digits
   too, so about a third of the sheets carry a ticked, crossed, faint, blank or double digit) and
   printed-and-scanned by ``omr.synth.degrade`` (scanner: skew, border, 90/180/270 feeds, blur,
   noise, JPEG; phone: perspective, scale, uneven light, shadow, motion blur, JPEG; a smudged
   corner marker on some) at ``--dpi``, written as PNG/JPEG files plus ``truth.json``. With
   ``--dir`` the files are kept and reused when the folder holds the same layout, seed and dpi
   (otherwise they are generated again).
2. **read** in this one process with ``cv2.setNumThreads(1)`` and one BLAS/OpenMP thread: for each
   file, bytes from disk -> ``omr.load.load_pages`` -> ``omr.reader.read_page``. The timed part is
   exactly that; ``sheets_per_s_per_core`` uses this process's CPU time (wall time is reported too).
   With ``--workers N`` (N > 1) the same files are then read again by N processes
   (``ProcessPoolExecutor``, spawn, one OpenCV thread each; start-up and a warm-up read excluded):
   ``sheets_per_s_wall_workers`` is their wall-clock throughput, to compare with ``sheets_per_s_wall``.
3. **score** against the truth. A field read with a definite value (status ok/blank) that differs
   from the truth is a bubble error; a field sent to a person (multiple/ambiguous) is an exception,
   expected when the truth calls the field ambiguous (faint, ticked, multiple, erased);
   ``exception_fields_unexpected`` counts the others. A page accepted (not blocked) with an
   admission number other than the truth's counts in ``id_wrong_accepted``. Pages blocked or failed
   are exception sheets: their fields are not scored. ``blocked_pages_unexpected``: blocked although
   the truth expects no page issue; ``id_unreadable_unexpected``: blocked as id_unreadable although
   every digit is clearly marked once; ``id_unreadable_expected_missed``: the truth expects
   id_unreadable (by digit class in ``..._by_digit_class``) and the reader read a number anyway.
4. **baseline**, measured in the same run on the same rectified pages (the reader's
   ``PageReading.image``): a fixed global threshold, as OMRChecker-style tools do: a bubble is marked
   when the mean darkness of its inner 80 % exceeds 0.5; a single-choice field with two marks is
   sent to a person (those tools flag multi-marked sheets), everything else is taken as read.

The last stdout line is one JSON object: ``sheets``, ``layout``, ``sheets_per_s_per_core``,
``bubble_error_rate`` (field errors / fields scored; ``bubble_error_rate_upper95`` is what the sample
can vouch for: 0 errors in 3,000 fields only shows < 1e-3), ``id_wrong_accepted``, ``exception_sheets``
and the ``*_unexpected`` counts above, the targets and whether each is met, the baseline's figures
(``baseline_*``), and breakdowns by truth class and by degradation. Exit status 0 when every target
is met, 1 otherwise, 2 when the reader is not available (the generator still ran).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from omr.design import QuestionKind, QuestionSpec, SheetSpec, design_sheet  # noqa: E402
from omr.layout import BlockKind, BubbleBlock, SheetLayout  # noqa: E402
from omr.sheet_code import SheetCode  # noqa: E402
from omr.synth.batch import Batch, generate_batch, read_truth  # noqa: E402
from omr.synth.fill import SheetTruth, TruthClass  # noqa: E402
from omr.synth.sample import sample_code, sample_layout  # noqa: E402

TARGET_SHEETS_PER_S = 15.0
TARGET_BUBBLE_ERROR_RATE = 1e-4
TARGET_ID_WRONG = 0
FIXED_THRESHOLD = 0.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def design_spec(exam_id: int) -> SheetSpec:
    """The paper the ``design`` layout is printed for: 60 single-choice, 5 multiple-response,
    5 true/false, 2 fill-in and 2 subjective questions, a 10-digit admission number, form A."""
    questions = [QuestionSpec(str(i + 1), QuestionKind.SINGLE, options=4) for i in range(60)]
    questions += [QuestionSpec(str(61 + i), QuestionKind.MULTIPLE, options=5) for i in range(5)]
    questions += [QuestionSpec(str(66 + i), QuestionKind.TRUE_FALSE) for i in range(5)]
    questions += [QuestionSpec(str(71 + i), QuestionKind.FILL_IN, blanks=1) for i in range(2)]
    questions += [QuestionSpec(str(73 + i), QuestionKind.SUBJECTIVE, lines=4) for i in range(2)]
    return SheetSpec("Benchmark", exam_id, "A", 10, questions)


def bench_layout(kind: str, exam_id: int) -> tuple[SheetLayout, SheetCode]:
    """The layout the sheets are generated from and the QR code printed on them. ``design``: page 1
    of our own printed sheet (``omr.design.design_sheet``; it holds every bubble, page 2 only the
    subjective answer boxes); ``sample``: ``omr.synth.sample``."""
    if kind == "sample":
        return sample_layout(), sample_code(exam_id)
    spec = design_spec(exam_id)
    first = design_sheet(spec)[0]
    return first, SheetCode(exam_id=exam_id, form=spec.form, page=first.page_no, pages=first.pages)


def generate(args: argparse.Namespace, folder: Path) -> tuple[Batch, float]:
    layout, code = bench_layout(args.layout, args.exam_id)
    dpi: float | tuple[float, ...] = (150.0, 200.0, 300.0) if args.mixed_dpi else float(args.dpi)
    if (folder / "truth.json").exists():
        meta = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        same = (meta.get("layout") == layout.name and meta.get("seed") == args.seed
                and meta.get("dpi") == (list(dpi) if isinstance(dpi, tuple) else dpi))
        if same and len(meta.get("sheets", [])) >= args.sheets:
            batch = read_truth(folder)
            batch.sheets = batch.sheets[:args.sheets]
            log(f"reusing {len(batch.sheets)} sheets in {folder}")
            return batch, 0.0
        log(f"{folder} holds other sheets (layout {meta.get('layout')!r}, seed {meta.get('seed')}, dpi "
            f"{meta.get('dpi')}, {len(meta.get('sheets', []))} sheets): generating again")
        for old in folder.glob("sheet-*.*"):
            old.unlink()
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            log(f"generated {done}/{total}")

    batch = generate_batch(layout, folder, count=args.sheets, seed=args.seed, dpi=dpi, code=code,
                           progress=progress)
    return batch, time.perf_counter() - start


def fixed_threshold_fields(image: np.ndarray, px_per_mm: float,
                           layout: SheetLayout) -> dict[tuple[str, str], str | None]:
    """The baseline: mean darkness of each bubble's inner 80 % > 0.5 means marked (None: flagged)."""
    out: dict[tuple[str, str], str | None] = {}
    for block in layout.bubble_blocks:
        for f, name in enumerate(block.fields):
            marked = [label for o, label in enumerate(block.options_of(f))
                      if _darkness(image, px_per_mm, block, f, o) > FIXED_THRESHOLD]
            one = block.kind in (BlockKind.SINGLE, BlockKind.DIGITS, BlockKind.ABSENT)
            out[(block.id, name)] = None if one and len(marked) > 1 else "".join(marked)
    return out


def _darkness(image: np.ndarray, s: float, block: BubbleBlock, f: int, o: int) -> float:
    x, y = block.bubble_centre(f, o)
    hw, hh = block.bubble_width / 2 * s * 0.8, block.bubble_height / 2 * s * 0.8
    x0, y0 = int(round(x * s - hw)), int(round(y * s - hh))
    patch = image[max(0, y0):max(0, y0) + int(round(2 * hh)) + 1, max(0, x0):max(0, x0) + int(round(2 * hw)) + 1]
    if patch.size == 0:
        return 0.0
    mask = np.zeros(patch.shape[:2], np.uint8)
    cv2.ellipse(mask, (patch.shape[1] // 2, patch.shape[0] // 2), (max(1, int(hw)), max(1, int(hh))), 0, 0, 360,
                255, -1)
    return float(1.0 - cv2.mean(patch, mask)[0] / 255.0)


def upper95(errors: int, n: int) -> float:
    """One-sided 95 % upper bound of an error rate (exact when there are no errors, Wilson otherwise):
    how small a rate the sample can vouch for (0 errors in 3,000 fields only shows < 1e-3)."""
    if n == 0:
        return 1.0
    if errors == 0:
        return float(1.0 - 0.05 ** (1.0 / n))
    z, p = 1.645, errors / n
    centre = p + z * z / (2 * n)
    spread = z * float((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    return min(1.0, (centre + spread) / (1 + z * z / n))


class Tally:
    def __init__(self) -> None:
        self.fields = 0
        self.bubbles = 0
        self.errors = 0
        self.field_exceptions = 0
        self.field_exceptions_expected = 0
        self.errors_by_class: Counter[str] = Counter()
        self.exceptions_by_class: Counter[str] = Counter()
        self.errors_by_degradation: Counter[str] = Counter()
        self.id_wrong_accepted = 0
        self.id_exceptions = 0
        self.examples: list[str] = []

    def field(self, truth_value: str, truth_cls: str, ambiguous: bool, options: int, read: str | None,
              effects: list[str], where: str) -> None:
        self.fields += 1
        self.bubbles += options
        if read is None:
            self.field_exceptions += 1
            self.field_exceptions_expected += ambiguous
            self.exceptions_by_class[truth_cls] += 1
        elif read != truth_value:
            self.errors += 1
            self.errors_by_class[truth_cls] += 1
            for e in effects:
                self.errors_by_degradation[e] += 1
            if len(self.examples) < 12:
                self.examples.append(f"{where}: read {read!r}, truth {truth_value!r} ({truth_cls})")


def score_page(reading: Any, truth: SheetTruth, layout: SheetLayout, effects: list[str], file: str,
               tally: Tally) -> bool:
    """Score one accepted page; returns True when any field was sent to a person."""
    from omr.reading import FieldStatus

    truths = {(t.block, t.field): t for t in truth.fields}
    sizes = {(b.id, name): len(b.options_of(f)) for b in layout.bubble_blocks for f, name in enumerate(b.fields)}
    seen = set()
    any_exception = False
    for fr in reading.fields:
        t = truths.get((fr.block, fr.field))
        if t is None or t.kind not in (BlockKind.SINGLE, BlockKind.MULTIPLE):
            continue
        seen.add((fr.block, fr.field))
        sent = fr.status in (FieldStatus.MULTIPLE, FieldStatus.AMBIGUOUS)
        any_exception |= sent
        tally.field(t.value, str(t.cls), t.ambiguous, sizes[(fr.block, fr.field)], None if sent else fr.value,
                    effects, f"{file} {fr.block}/{fr.field}")
    for key, t in truths.items():  # a field the reader did not report is an error
        if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE) and key not in seen:
            tally.field(t.value, str(t.cls), t.ambiguous, sizes[key], "<missing>", effects, f"{file} {key}")
    if truth.admission_no is not None and reading.admission_no != truth.admission_no:
        tally.id_wrong_accepted += 1
        tally.examples.append(f"{file}: admission accepted {reading.admission_no!r}, truth {truth.admission_no!r}")
    return any_exception


def score_baseline(image: np.ndarray, px_per_mm: float, truth: SheetTruth, layout: SheetLayout,
                   effects: list[str], file: str, tally: Tally) -> None:
    read = fixed_threshold_fields(image, px_per_mm, layout)
    sizes = {(b.id, name): len(b.options_of(f)) for b in layout.bubble_blocks for f, name in enumerate(b.fields)}
    digits: list[str | None] = []
    for t in truth.fields:
        key = (t.block, t.field)
        if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE):
            tally.field(t.value, str(t.cls), t.ambiguous, sizes[key], read[key], effects, f"{file} {key}")
        elif t.kind == BlockKind.DIGITS:
            digits.append(read[key])
    if truth.admission_no is not None:
        if any(d is None or len(d) != 1 for d in digits):
            tally.id_exceptions += 1
        elif "".join(d for d in digits if d) != truth.admission_no:
            tally.id_wrong_accepted += 1


_WORKER: dict[str, Any] = {}


def _worker_init(layout_json: str, exam_id: int) -> None:
    """A worker process: one OpenCV thread (one core), the layout, the reader imported."""
    cv2.setNumThreads(1)
    from omr.load import load_pages
    from omr.reader import read_page

    _WORKER.update(layout=SheetLayout.model_validate_json(layout_json), exam_id=exam_id, load_pages=load_pages,
                   read_page=read_page)


def _worker_read(path: str) -> bool:
    """Read one file in a worker exactly as the single-process loop does; True when a page was read
    (not blocked, not failed)."""
    from omr.reading import PageReading

    layout: SheetLayout = _WORKER["layout"]

    def layout_for(code: SheetCode | None) -> SheetLayout | None:
        if code is None or (code.exam_id == _WORKER["exam_id"] and code.page == layout.page_no):
            return layout
        return None

    for item in _WORKER["load_pages"](Path(path).read_bytes(), Path(path).name):
        if isinstance(item, tuple):
            got = _WORKER["read_page"](item[1], layout_for, item[0])
            return isinstance(got, PageReading) and not got.blocked
        return False
    return False


def _worker_warm(path: str) -> int:
    """Warm-up task: one read, then a pause, so every worker process is started before timing."""
    _worker_read(path)
    time.sleep(0.5)
    return os.getpid()


def read_with_workers(files: list[Path], layout: SheetLayout, exam_id: int, workers: int) -> dict[str, Any]:
    """The same files read by ``workers`` processes (each one core, one OpenCV thread): wall-clock
    throughput, process start-up and warm-up excluded."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                             initargs=(layout.model_dump_json(), exam_id)) as pool:
        pids = set(pool.map(_worker_warm, [str(files[0])] * workers))
        wall0 = time.perf_counter()
        read = sum(pool.map(_worker_read, [str(f) for f in files], chunksize=4))
        wall_s = time.perf_counter() - wall0
    return {"workers": workers, "worker_processes_started": len(pids),
            "sheets_per_s_wall_workers": round(len(files) / wall_s, 2) if wall_s > 0 else 0.0,
            "read_wall_s_workers": round(wall_s, 2), "pages_read_workers": read}


def run(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    cv2.setNumThreads(1)
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="omr-bench-"))
    batch, generate_s = generate(args, folder)
    layout = batch.layout
    report: dict[str, Any] = {"sheets": len(batch.sheets), "dpi": "150/200/300" if args.mixed_dpi else args.dpi,
                              "seed": args.seed, "layout": f"{args.layout}: {layout.name}",
                              "generate_s": round(generate_s, 1), "folder": str(folder)}
    kinds = Counter(s.degradation.kind for s in batch.sheets)
    effects_count = Counter(e for s in batch.sheets for e in s.degradation.applied)
    classes = Counter(str(t.cls) for s in batch.sheets for t in s.truth.fields
                      if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE))
    report.update({"degradation_kinds": dict(kinds), "degradation_effects": dict(effects_count),
                   "truth_classes": dict(classes)})
    try:
        from omr.load import load_pages
        from omr.reader import read_page
        from omr.reading import PAGE_ISSUES, PageFailure, PageReading
    except ImportError as exc:
        report.update({"reader_available": False, "error": f"omr.reader/omr.load not importable: {exc}"})
        return report, 2

    def layout_for(code: SheetCode | None) -> SheetLayout | None:
        if code is None or (code.exam_id == args.exam_id and code.page == layout.page_no):
            return layout
        return None

    # Warm-up (imports, QR detector initialisation) on the first sheet, outside the timing.
    first = batch.sheets[0]
    for item in load_pages((folder / first.file).read_bytes(), first.file):
        if not isinstance(item, PageFailure):
            read_page(item[1], layout_for, item[0])

    results: list[Any] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i, sheet in enumerate(batch.sheets):
        data = (folder / sheet.file).read_bytes()
        got: Any = None
        for item in load_pages(data, sheet.file):
            got = item if isinstance(item, PageFailure) else read_page(item[1], layout_for, item[0])
            break
        results.append(got)
        if (i + 1) % 50 == 0:
            log(f"read {i + 1}/{len(batch.sheets)}")
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    if args.workers > 1:
        log(f"reading again with {args.workers} worker processes")
        report.update(read_with_workers([folder / s.file for s in batch.sheets], layout, args.exam_id, args.workers))

    adaptive, baseline, blocked_fields = Tally(), Tally(), Tally()
    exception_sheets = blocked = failures = unexpected_exception_sheets = 0
    blocked_unexpected = id_unreadable_unexpected = id_unreadable_expected_missed = 0
    blocked_unexpected_by_issue: Counter[str] = Counter()
    blocked_examples: list[str] = []
    missed_by_class: Counter[str] = Counter()
    issue_codes: Counter[str] = Counter()
    exceptions_by_effect: Counter[str] = Counter()
    absent_wrong = 0
    for sheet, got in zip(batch.sheets, results, strict=True):
        truth, effects = sheet.truth, sheet.degradation.applied + [sheet.degradation.kind]
        expected_any = bool(truth.expected_issues) or any(
            t.ambiguous for t in truth.fields if t.kind in (BlockKind.SINGLE, BlockKind.MULTIPLE))
        if got is None or isinstance(got, PageFailure):
            failures += 1
            exception_sheets += 1
            issue_codes[got.issue.code if got is not None else "no_page"] += 1
            unexpected_exception_sheets += 1  # synthetic sheets are all readable
            for e in effects:
                exceptions_by_effect[e] += 1
            continue
        assert isinstance(got, PageReading)
        for issue in got.issues:
            issue_codes[str(issue.code)] += 1
        score_baseline(got.image, got.px_per_mm, truth, layout, effects, sheet.file, baseline)
        codes = {str(issue.code) for issue in got.issues}
        if "id_unreadable" not in codes and "id_unreadable" in truth.expected_issues:
            id_unreadable_expected_missed += 1
            missed_by_class.update(str(t.cls) for t in truth.fields if t.kind == BlockKind.DIGITS
                                   and (t.cls not in (TruthClass.MARKED, TruthClass.ERASED_REMARKED)
                                        or len(t.value) != 1))
        if got.blocked:
            score_page(got, truth, layout, effects, sheet.file, blocked_fields)  # diagnostics only
            blocked += 1
            exception_sheets += 1
            unexpected_exception_sheets += not truth.expected_issues
            if not truth.expected_issues:
                blocked_unexpected += 1
                blocked_unexpected_by_issue.update(codes & {str(c) for c in PAGE_ISSUES})
            if "id_unreadable" in codes and truth.id_readable:
                id_unreadable_unexpected += 1
                if len(blocked_examples) < 12:
                    why = next(i.reason for i in got.issues if str(i.code) == "id_unreadable")
                    blocked_examples.append(f"{sheet.file}: {why}")
            for e in effects:
                exceptions_by_effect[e] += 1
            continue
        if got.absent != truth.absent:
            absent_wrong += 1
        if score_page(got, truth, layout, effects, sheet.file, adaptive) or got.issues:
            exception_sheets += 1
            unexpected_exception_sheets += not expected_any
            for e in effects:
                exceptions_by_effect[e] += 1

    n = len(batch.sheets)
    per_core = n / cpu_s if cpu_s > 0 else 0.0
    rate = adaptive.errors / adaptive.fields if adaptive.fields else 1.0
    base_rate = baseline.errors / baseline.fields if baseline.fields else 1.0
    report.update({
        "reader_available": True,
        "sheets_per_s_per_core": round(per_core, 2),
        "sheets_per_s_wall": round(n / wall_s, 2) if wall_s > 0 else 0.0,
        "read_cpu_s": round(cpu_s, 2),
        "bubble_error_rate": rate,
        "bubble_error_rate_upper95": upper95(adaptive.errors, adaptive.fields),
        "bubble_errors": adaptive.errors,
        "fields_scored": adaptive.fields,
        "bubbles_scored": adaptive.bubbles,
        "field_exceptions": adaptive.field_exceptions,
        "field_exceptions_expected": adaptive.field_exceptions_expected,
        # fields sent to a person although the truth calls them clear (a plain mark, a blank, an
        # erasure next to a clear mark)
        "exception_fields_unexpected": adaptive.field_exceptions - adaptive.field_exceptions_expected,
        "id_wrong_accepted": adaptive.id_wrong_accepted,
        "absent_wrong": absent_wrong,
        "exception_sheets": exception_sheets,
        "exception_sheets_unexpected": unexpected_exception_sheets,
        "blocked_pages": blocked,
        # blocked although the truth expects no page issue (every digit clearly marked once, no
        # absent mark with answers), and by issue code
        "blocked_pages_unexpected": blocked_unexpected,
        "blocked_pages_unexpected_by_issue": dict(blocked_unexpected_by_issue),
        # blocked as id_unreadable although the truth says every digit is clearly marked once
        "id_unreadable_unexpected": id_unreadable_unexpected,
        # the truth expects id_unreadable (a blank, double, faint, ticked or crossed digit) and the
        # reader did not raise it (harmless when the number read is right: see id_wrong_accepted)
        "id_unreadable_expected_missed": id_unreadable_expected_missed,
        "id_unreadable_expected_missed_by_digit_class": dict(missed_by_class),
        "sheets_id_unreadable_in_truth": sum(not s.truth.id_readable for s in batch.sheets),
        "page_failures": failures,
        "issues": dict(issue_codes),
        "exceptions_by_degradation": dict(exceptions_by_effect),
        "errors_by_truth_class": dict(adaptive.errors_by_class),
        "errors_by_degradation": dict(adaptive.errors_by_degradation),
        "field_exceptions_by_truth_class": dict(adaptive.exceptions_by_class),
        # the fields of blocked pages, scored the same way (not part of bubble_error_rate): how the
        # reader did on pages a person will look at anyway
        "blocked_pages_fields_scored": blocked_fields.fields,
        "blocked_pages_field_errors": blocked_fields.errors,
        "blocked_pages_field_exceptions": blocked_fields.field_exceptions,
        "error_examples": adaptive.examples,
        "id_unreadable_unexpected_examples": blocked_examples,
        "baseline": f"fixed global threshold: inner-80% darkness > {FIXED_THRESHOLD} = marked, same rectified pages",
        "baseline_bubble_error_rate": base_rate,
        "baseline_bubble_errors": baseline.errors,
        "baseline_fields_scored": baseline.fields,
        "baseline_field_exceptions": baseline.field_exceptions,
        "baseline_errors_by_truth_class": dict(baseline.errors_by_class),
        "baseline_id_wrong_accepted": baseline.id_wrong_accepted,
        "target_sheets_per_s_per_core": TARGET_SHEETS_PER_S,
        "target_bubble_error_rate": TARGET_BUBBLE_ERROR_RATE,
        "target_id_wrong_accepted": TARGET_ID_WRONG,
    })
    met = {
        "sheets_per_s_met": per_core >= TARGET_SHEETS_PER_S,
        "bubble_error_rate_met": rate <= TARGET_BUBBLE_ERROR_RATE,
        "id_wrong_accepted_met": adaptive.id_wrong_accepted <= TARGET_ID_WRONG,
    }
    report.update(met)
    return report, 0 if all(met.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheets", type=int, default=300)
    parser.add_argument("--dpi", type=float, default=200.0)
    parser.add_argument("--mixed-dpi", action="store_true", help="scan at 150, 200 and 300 dpi (mixed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--exam-id", type=int, default=7)
    parser.add_argument("--dir", default=None, help="generate into (or reuse) this folder; kept afterwards")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temp folder")
    parser.add_argument("--layout", choices=("design", "sample"), default="design",
                        help="design: page 1 of our printed sheet (omr.design); sample: omr.synth.sample")
    parser.add_argument("--workers", type=int, default=1,
                        help="also read the files with N worker processes (1 core each) and report "
                             "sheets_per_s_wall_workers (default 1: skipped)")
    args = parser.parse_args()
    if args.sheets < 1:
        parser.error("--sheets must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    report, status = run(args)
    if not args.dir and not args.keep_dir:
        shutil.rmtree(report["folder"], ignore_errors=True)
        report["folder"] = None
    print(json.dumps(report, ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
