"""The reading half of scan ingest: files in, one :class:`ReadOutcome` per page out. No database.

It runs in the worker (in-process on the embedded default) or, for ``exam scans import --workers
N``, in N child processes while the parent writes to the database; so everything here is plain,
picklable data: the layouts of the exam's answer sheets are handed in, never looked up.

Content hash (what makes a re-import a no-op): sha256 of the page's pixels *as decoded* (shape,
then the grey bytes), not of the file. The same page re-bundled into another PDF, renamed, or
sent again inside a zip is the same page; a file that cannot be decoded at all is hashed from its
bytes and its source ("name#page"), so re-sending the same broken file is a duplicate too.

``omr.load.load_pages`` and ``omr.reader.read_page`` are found when first used (:data:`OMR`), so
tests may put small stand-ins there (``EXAM_TEST_TRUTH_READER=1``, tests/scan_fixture.py).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from omr.layout import RegionKind, SheetLayout
from omr.reading import Issue, IssueCode, PageFailure, PageReading
from omr.sheet_code import SheetCode

# Page sources accepted in a batch (by extension; the bytes decide in the loader).
SCAN_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".bmp", ".webp")
LayoutFor = Callable[[SheetCode | None], SheetLayout | None]
Loader = Callable[[bytes, str], Iterator[Any]]
Reader = Callable[[np.ndarray, LayoutFor, str], Any]
LayoutKey = tuple[str, int]  # (form label or "", page number)


CUT_KINDS = (RegionKind.SUBJECTIVE, RegionKind.BLANK, RegionKind.SCORE_BOX)  # cut out and stored as crops


class _Omr:
    """The OMR entry points, resolved on first use (overridable in tests)."""

    def __init__(self) -> None:
        self.load_pages: Loader | None = None
        self.read_page: Reader | None = None

    def loader(self) -> Loader:
        if self.load_pages is None:
            from omr.load import load_pages

            self.load_pages = load_pages
        return self.load_pages

    def reader(self) -> Reader:
        if self.read_page is None:
            from omr.reader import read_page

            self.read_page = read_page
        return self.read_page


OMR = _Omr()


@dataclass
class Crop:
    region_id: str
    kind: str  # subjective, blank, score_box (read by OCR as a check on the human mark)
    field: str | None
    png: bytes


@dataclass
class ReadOutcome:
    """One page: either ``failure`` (nothing could be read) or ``reading`` (its image dropped; the
    rectified page is in ``page_png``), plus the code the reader found and the layout it used."""

    source: str
    content_hash: str
    failure: Issue | None = None
    reading: PageReading | None = None
    code: SheetCode | None = None
    layout: SheetLayout | None = None
    page_png: bytes | None = None
    crops: list[Crop] = field(default_factory=list)


@dataclass(frozen=True)
class ReadSetup:
    """What the reading needs to know of the exam: its id, its printed sheets, a third-party layout."""

    exam_id: int
    layouts: dict[LayoutKey, SheetLayout]
    third_party: SheetLayout | None = None


def pixel_hash(image: np.ndarray) -> str:
    digest = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def failure_hash(data: bytes, source: str) -> str:
    digest = hashlib.sha256(data)
    digest.update(f"#{source}".encode())
    return digest.hexdigest()


def png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - a uint8 array always encodes
        raise ValueError("could not encode the page as PNG")
    return bytes(encoded.tobytes())


def read_file(data: bytes, name: str, setup: ReadSetup) -> Iterator[ReadOutcome]:
    """Every page of one file; never raises for a bad file or page (each becomes a failure)."""
    try:
        for item in OMR.loader()(data, name):
            if isinstance(item, PageFailure):
                yield ReadOutcome(item.source, failure_hash(data, item.source), failure=item.issue)
                continue
            source, image = item
            yield read_image(image, source, setup)
    except Exception as exc:  # noqa: BLE001 - the loader promised not to raise; one file never stops a batch
        yield ReadOutcome(name, failure_hash(data, name),
                          failure=Issue(IssueCode.UNREADABLE_FILE, f"{name}: {type(exc).__name__}: {exc}"[:400]))


def read_image(image: np.ndarray, source: str, setup: ReadSetup) -> ReadOutcome:
    content_hash = pixel_hash(image)
    asked: list[tuple[SheetCode | None, SheetLayout | None]] = []

    def layout_for(code: SheetCode | None) -> SheetLayout | None:
        if code is None:
            found = setup.third_party
        elif code.exam_id != setup.exam_id:
            found = None  # another exam's sheet: WRONG_EXAM, decided by the service
        else:
            found = setup.layouts.get((code.form or "", code.page)) or setup.third_party
        asked.append((code, found))
        return found

    try:
        result = OMR.reader()(image, layout_for, source)
    except Exception as exc:  # noqa: BLE001 - the reader promised not to raise; record and go on
        result = PageFailure(source, Issue(IssueCode.UNUSABLE_IMAGE, f"reader error: {type(exc).__name__}: {exc}"))
    code, layout = asked[-1] if asked else (None, None)
    if isinstance(result, PageFailure):
        return ReadOutcome(source, content_hash, failure=result.issue, code=code, layout=layout)
    outcome = ReadOutcome(source, content_hash, reading=result, code=result.code or code, layout=layout,
                          page_png=png(result.image))
    if layout is not None:
        outcome.crops = [Crop(r.id, r.kind.value, r.field, png(result.crop(r.x, r.y, r.width, r.height)))
                         for r in layout.regions if r.kind in CUT_KINDS]
    result.image = np.zeros((0, 0), np.uint8)  # travels between processes without the page
    return outcome


def read_path(path: str, setup: ReadSetup) -> list[ReadOutcome]:
    """A file by path (the CLI's child processes): all its pages."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        return [ReadOutcome(file.name, failure_hash(str(exc).encode(), file.name),
                            failure=Issue(IssueCode.UNREADABLE_FILE, f"{file.name}: {exc}"))]
    return list(read_file(data, file.name, setup))


# ---- counting pages up front (the progress bar's total) ---------------------------------------

def count_pages(data: bytes, name: str) -> int:
    """Pages in a file, cheaply (PDF page tree, TIFF frames); 1 for anything else or unreadable."""
    try:
        if data.startswith(b"%PDF"):
            import pypdfium2

            pdf = pypdfium2.PdfDocument(data)
            try:
                return max(1, len(pdf))
            finally:
                pdf.close()
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            from PIL import Image

            with Image.open(io.BytesIO(data)) as tiff:
                return max(1, int(getattr(tiff, "n_frames", 1)))
    except Exception:  # noqa: BLE001 - a broken file is one page that will fail to read
        return 1
    return 1


def scan_files(folder: Path) -> list[Path]:
    """The page files of a folder (recursively), in name order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES)


@dataclass(frozen=True)
class UnpackLimits:
    members: int = 5000
    member_bytes: int = 200 * 1024 * 1024
    total_bytes: int = 2 * 1024 * 1024 * 1024


class ArchiveError(ValueError):
    """A zip that cannot be unpacked safely (names the member and the limit)."""


def unpack_zip(data: bytes, out: Path, prefix: str, limits: UnpackLimits) -> list[Path]:
    """Write the page files of a zip into ``out`` (flat, numbered names: member paths are never
    trusted), streaming each member and stopping at the limits (no zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{prefix}: not a zip archive ({exc})") from exc
    members = [m for m in archive.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in SCAN_SUFFIXES]
    if len(members) > limits.members:
        raise ArchiveError(f"{prefix}: {len(members)} files; at most {limits.members}")
    written: list[Path] = []
    total = 0
    for index, member in enumerate(members, start=1):
        target = out / f"{prefix}-{index:05d}{Path(member.filename).suffix.lower()}"
        try:
            total += _unpack_member(archive, member, target, limits, limits.total_bytes - total)
        except ArchiveError as exc:
            raise ArchiveError(f"{prefix}: {exc}") from exc
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError,
                zlib.error) as exc:  # encrypted, unknown compression, truncated, corrupt
            raise ArchiveError(f"{prefix}: {member.filename[:100]} cannot be unpacked ({type(exc).__name__}: "
                               f"{exc})") from exc
        written.append(target)
    return written


def _unpack_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limits: UnpackLimits,
                   room: int) -> int:
    size = 0
    with archive.open(member) as src, target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            size += len(chunk)
            if size > limits.member_bytes or size > room:
                raise ArchiveError(f"{member.filename[:100]} unpacks to more than the limit "
                                   f"({limits.member_bytes} bytes a file, {limits.total_bytes} in all)")
            dst.write(chunk)
    return size
