"""ZIP archives (QTI content packages, XLSX workbooks) read under limits that do not trust the archive.

The sizes a ZIP declares in its headers are only a hint: a zip bomb declares a few kilobytes
and inflates to gigabytes. Every member is therefore inflated by streaming, 64 KiB at a time,
with a running count of the bytes actually produced, per member and for the whole archive; the
read stops (and the archive is refused) at the first byte past either cap. Declared sizes are
used only to refuse early, never to allow. Member names are checked for path tricks, and the
number of members is capped.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from item_bank.formats.draft import FormatError

CHUNK = 64 * 1024
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError, ValueError)


@dataclass(frozen=True)
class ReadLimits:
    """What an import may cost; the service builds one from its settings (``EXAM_MAX_*``)."""

    unpacked_bytes: int = 100 * 1024 * 1024  # all members together, as actually inflated
    member_bytes: int = 50 * 1024 * 1024  # one member, as actually inflated
    members: int = 5_000
    xlsx_rows: int = 25_000  # rows read from a sheet (counted by real row number, not <dimension>)
    xlsx_columns: int = 64  # columns read per row; cells further right are ignored
    xlsx_cells: int = 1_000_000  # non-empty cells read plus shared strings


def unsafe_member_name(name: str) -> bool:
    return (name.startswith(("/", "\\")) or "\\" in name or "\0" in name
            or re.match(r"^[A-Za-z]:", name) is not None or ".." in name.split("/"))


class SafeArchive:
    """A ZIP opened for reading under :class:`ReadLimits`; use as a context manager."""

    def __init__(self, data: bytes, what: str, limits: ReadLimits) -> None:
        self.what = what
        self.limits = limits
        self.inflated = 0  # running total over every member read so far
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except ZIP_ERRORS as exc:
            raise FormatError(f"{what}: not a readable ZIP ({exc})") from None
        self.members = self._members()

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *_: object) -> None:
        self.zip.close()

    def _members(self) -> dict[str, zipfile.ZipInfo]:
        infos = self.zip.infolist()
        if len(infos) > self.limits.members:
            raise FormatError(f"{self.what}: the ZIP has {len(infos)} members; the limit is {self.limits.members}")
        declared = 0
        for info in infos:
            if unsafe_member_name(info.filename):
                raise FormatError(f"{self.what}: refused unsafe path {info.filename!r} in the ZIP")
            declared += info.file_size
        if declared > self.limits.unpacked_bytes:  # an honest big archive is refused before any work
            raise FormatError(f"{self.what}: the ZIP declares {declared} unpacked bytes; "
                              f"the limit is {self.limits.unpacked_bytes}")
        return {info.filename: info for info in infos if not info.is_dir()}

    def read(self, name: str) -> bytes:
        """One member's bytes, inflated under the caps."""
        parts: list[bytes] = []
        self.stream(name, parts.append)
        return b"".join(parts)

    def stream(self, name: str, sink: Callable[[bytes], None]) -> int:
        """Inflate one member chunk by chunk into ``sink``; returns its real size."""
        info = self.members[name]
        size = 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    size += len(chunk)
                    self.inflated += len(chunk)
                    self._check(name, size)
                    sink(chunk)
        except ZIP_ERRORS as exc:
            raise FormatError(f"{self.what}: cannot unpack {name!r} ({type(exc).__name__}: {exc})") from None
        return size

    def _check(self, name: str, size: int) -> None:
        if size > self.limits.member_bytes:
            raise FormatError(f"{self.what}: {name!r} inflates to more than {self.limits.member_bytes} bytes "
                              "(the limit per file in an archive); refused")
        if self.inflated > self.limits.unpacked_bytes:
            raise FormatError(f"{self.what}: the archive inflates to more than {self.limits.unpacked_bytes} bytes "
                              "(the limit for an archive); refused")

    def verify(self) -> None:
        """Inflate every member once, keeping nothing: proves the real sizes are within the caps."""
        for name in self.members:
            self.stream(name, lambda _chunk: None)
