"""Image dimensions from the file header alone (PNG, JPEG, GIF, WebP), without decoding pixels.

A 40 KB PNG can declare 100,000 x 100,000 pixels and cost 40 GB to decode in a browser or an
image library; the pixel cap is checked on these header values before an image is stored.
"""

from __future__ import annotations

import struct

# JPEG start-of-frame markers (C0-CF except DHT C4, JPG C8 and DAC CC) carry the frame size.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header, or None when the format or header is not recognised."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return int(width), int(height)
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        position += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def pixel_problem(data: bytes, name: str, max_pixels: int) -> str | None:
    """Why this image may not be stored (too many pixels, or an unreadable header), else None."""
    size = image_size(data)
    if size is None:
        return f"{name}: the image header cannot be read (PNG, JPEG, GIF or WebP expected)"
    width, height = size
    if width * height > max_pixels:
        return f"{name}: {width}x{height} = {width * height} pixels; the limit is {max_pixels} pixels"
    return None
