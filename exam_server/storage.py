"""Content-addressed file storage under the data directory (item media, later scans and evidence)."""

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from exam_server.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


_SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
               (b"%PDF", "application/pdf")]


def sniff_media_type(data: bytes) -> str:
    """The type from the bytes themselves, never from an uploaded name (which may lie)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _SIGNATURES if data.startswith(magic)), "application/octet-stream")


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise NotFound(f"media {sha256!r}: not a content id")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, name: str, mime_type: str) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(path)  # atomic: a reader never sees half a file
        return {"name": name, "mime_type": mime_type, "sha256": digest, "size": len(data)}

    def has(self, sha256: str) -> bool:
        return bool(_SHA256.match(sha256)) and self._path(sha256).exists()

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.exists():
            raise NotFound(f"media {sha256} is not stored")
        return path.read_bytes()
