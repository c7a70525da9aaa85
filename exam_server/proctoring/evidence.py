"""Proctoring evidence (webcam frames, enrolled photos, embeddings) encrypted at rest.

AES-256-GCM with one key per deployment: ``EXAM_EVIDENCE_KEY`` (32 bytes, urlsafe base64), or a key
generated once into ``<data_dir>/evidence_key`` (mode 0600) when none is configured. Each blob is
``nonce(12) || ciphertext+tag`` in ``<data_dir>/evidence/<ab>/<key>``; the blob's name is random (it
reveals nothing) and is bound to the ciphertext as associated data, so blobs cannot be swapped.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class EvidenceError(Exception):
    """A blob is missing, or was altered or encrypted with another key."""


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    if configured:
        key = base64.urlsafe_b64decode(configured.encode())
        if len(key) != 32:
            raise ValueError("EXAM_EVIDENCE_KEY: must be 32 bytes in urlsafe base64")
        return key
    key_file = data_dir / "evidence_key"
    if key_file.exists():
        return base64.urlsafe_b64decode(key_file.read_text().strip().encode())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    key_file.write_text(base64.urlsafe_b64encode(key).decode())
    key_file.chmod(0o600)
    return key


class EvidenceStore:
    def __init__(self, root: Path, key: bytes) -> None:
        self._root = root
        self._aead = AESGCM(key)

    def _path(self, name: str) -> Path:
        if not name.isalnum():
            raise EvidenceError(f"evidence key {name!r} is not a key this store made")
        return self._root / name[:2] / name

    def put(self, data: bytes) -> str:
        name = secrets.token_hex(16)
        nonce = os.urandom(_NONCE)
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(nonce + self._aead.encrypt(nonce, data, name.encode()))
        return name

    def get(self, name: str) -> bytes:
        try:
            blob = self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceError(f"evidence {name} does not exist (purged?)") from exc
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], name.encode())
        except InvalidTag as exc:
            raise EvidenceError(f"evidence {name} was altered or encrypted with another key") from exc

    def seal(self, data: bytes, context: str) -> bytes:
        """``nonce || ciphertext+tag`` of a small value kept outside the store (a database column)."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, b"sealed:" + context.encode())

    def unseal(self, blob: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], b"sealed:" + context.encode())
        except InvalidTag as exc:
            raise EvidenceError(f"sealed value for {context} was altered or encrypted with another key") from exc

    def delete(self, name: str) -> bool:
        """Remove a blob; False when it was already gone."""
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True


def build_evidence_store(configured_key: str | None, data_dir: Path) -> EvidenceStore:
    """The deployment's store: ``<data_dir>/evidence`` with the configured or generated key."""
    return EvidenceStore(data_dir / "evidence", load_or_create_key(configured_key, data_dir))

