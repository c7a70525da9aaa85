"""Loading uploaded files: every format, EXIF orientation, multi-page files, and every way a file
can be bad (corrupt, truncated, a decompression bomb, too many pages) gives a clear failure while
the rest of the file is still read."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from omr.load import LoadLimits, load_pages, sniff
from omr.reading import IssueCode, PageFailure


def _page(width: int = 120, height: int = 80, value: int = 0) -> np.ndarray:
    """A white page with a dark square in its top-left quarter (shows the orientation)."""
    image = np.full((height, width), 255, np.uint8)
    image[5:25, 5:25] = value
    return image


def _encode(image: np.ndarray, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _pages(data: bytes, name: str = "scan", limits: LoadLimits | None = None
           ) -> list[tuple[str, np.ndarray] | PageFailure]:
    return list(load_pages(data, name, limits))


def test_png_comes_out_grey_and_named() -> None:
    (item,) = _pages(_encode(_page(), "PNG"), "a.png")
    assert not isinstance(item, PageFailure)
    source, image = item
    assert source == "a.png#1"
    assert image.dtype == np.uint8 and image.shape == (80, 120)
    assert image[10, 10] == 0 and image[70, 100] == 255


def test_colour_png_with_alpha_is_composited_on_white() -> None:
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent: white paper
    rgba[:10, :10] = (0, 0, 0, 255)
    (item,) = _pages(_encode(rgba, "PNG"))
    assert not isinstance(item, PageFailure)
    assert item[1][5, 5] == 0 and item[1][30, 30] == 255


def test_type_is_sniffed_from_bytes_not_name() -> None:
    data = _encode(_page(), "JPEG", quality=95)
    assert sniff(data) is not None and sniff(data).value == "jpeg"  # type: ignore[union-attr]
    (item,) = _pages(data, "looks-like.pdf")
    assert not isinstance(item, PageFailure)


def test_jpeg_exif_orientation_is_applied() -> None:
    upright = _page()
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # turned counter-clockwise: the square goes bottom-left
    exif = Image.Exif()
    exif[0x0112] = 6  # 6: the viewer turns it 90° clockwise to show it upright
    data = _encode(stored, "JPEG", quality=95, exif=exif.tobytes())
    (item,) = _pages(data)
    assert not isinstance(item, PageFailure)
    image = item[1]
    assert image.shape == upright.shape
    assert image[15, 15] < 60  # the dark square is back at the top-left


def test_multi_page_tiff_yields_every_page() -> None:
    frames = [Image.fromarray(_page(value=v)) for v in (0, 50, 100)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    items = _pages(buffer.getvalue(), "batch.tif")
    assert [i[0] for i in items if not isinstance(i, PageFailure)] == ["batch.tif#1", "batch.tif#2", "batch.tif#3"]
    assert [int(i[1][10, 10]) for i in items if not isinstance(i, PageFailure)] == [0, 50, 100]


def test_tiff_with_one_corrupt_page_fails_that_page_only() -> None:
    rng = np.random.default_rng(5)
    frames = [Image.fromarray(rng.integers(0, 255, (80, 120), dtype=np.uint8)) for _ in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    data = bytearray(buffer.getvalue())
    # Corrupt the compressed strip of the second page (its offset from the StripOffsets tag).
    probe = Image.open(io.BytesIO(bytes(data)))
    probe.seek(1)
    offset = int(probe.tag_v2[273][0]) if isinstance(probe.tag_v2[273], tuple) else int(probe.tag_v2[273])
    data[offset:offset + 200] = b"\x00\xff" * 100
    items = _pages(bytes(data), "batch.tif")
    assert len(items) == 3
    assert not isinstance(items[0], PageFailure) and not isinstance(items[2], PageFailure)
    failure = items[1]
    assert isinstance(failure, PageFailure)
    assert failure.issue.code == IssueCode.UNREADABLE_FILE
    assert failure.source == "batch.tif#2" and "batch.tif#2" in failure.issue.reason


def _two_page_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for n in (1, 2):
        pdf.rect(20 * n, 700, 100, 100, fill=1)
        pdf.drawString(100, 500, f"page {n}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_pdf_pages_render_grey_at_200_dpi() -> None:
    items = _pages(_two_page_pdf(), "sheets.pdf")
    assert [i[0] for i in items if not isinstance(i, PageFailure)] == ["sheets.pdf#1", "sheets.pdf#2"]
    image = items[0][1]  # type: ignore[index]
    assert image.dtype == np.uint8 and image.ndim == 2
    assert abs(image.shape[1] - round(210 / 25.4 * 200)) <= 2  # A4 width at 200 dpi
    assert image.min() == 0 and image.max() == 255


def test_pdf_page_too_large_for_the_pixel_limit_fails_before_rendering() -> None:
    items = _pages(_two_page_pdf(), "big.pdf", LoadLimits(max_pixels=1_000_000))
    assert len(items) == 2 and all(isinstance(i, PageFailure) for i in items)
    assert "big.pdf#1" in items[0].issue.reason and "limit" in items[0].issue.reason  # type: ignore[union-attr]


@pytest.mark.parametrize("data, needle", [
    (b"", "not a PNG"),
    (b"hello, this is not an image at all", "not a PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "PNG"),
    (b"%PDF-1.7\n garbage without any objects", "PDF"),
])
def test_not_an_image_gives_one_clear_failure(data: bytes, needle: str) -> None:
    (item,) = _pages(data, "bad.bin")
    assert isinstance(item, PageFailure)
    assert item.issue.code == IssueCode.UNREADABLE_FILE
    assert "bad.bin" in item.issue.reason and needle in item.issue.reason


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_fails_clearly(fmt: str) -> None:
    rng = np.random.default_rng(3)
    data = _encode(rng.integers(0, 255, (200, 200), dtype=np.uint8), fmt)
    (item,) = _pages(data[: len(data) // 2], f"cut.{fmt.lower()}")
    assert isinstance(item, PageFailure)
    assert item.issue.code == IssueCode.UNREADABLE_FILE and "cut." in item.issue.reason


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header() -> None:
    (item,) = _pages(_png_header_only(100_000, 100_000), "bomb.png")
    assert isinstance(item, PageFailure)
    assert item.issue.code == IssueCode.UNREADABLE_FILE
    assert "bomb.png" in item.issue.reason and ("large" in item.issue.reason or "limit" in item.issue.reason)


def test_image_over_the_pixel_limit_is_refused() -> None:
    (item,) = _pages(_encode(_page(), "PNG"), "big.png", LoadLimits(max_pixels=5000))
    assert isinstance(item, PageFailure) and "limit" in item.issue.reason


def test_file_over_the_byte_limit_is_refused() -> None:
    (item,) = _pages(_encode(_page(), "PNG"), "heavy.png", LoadLimits(max_bytes=100))
    assert isinstance(item, PageFailure) and "heavy.png" in item.issue.reason and "bytes" in item.issue.reason


def test_pages_beyond_the_limit_are_reported_not_read() -> None:
    frames = [Image.fromarray(_page(value=v)) for v in (0, 50, 100)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    items = _pages(buffer.getvalue(), "many.tif", LoadLimits(max_pages=2))
    assert [isinstance(i, PageFailure) for i in items] == [False, False, True]
    assert "more than 2 pages" in items[2].issue.reason  # type: ignore[union-attr]
    pdf_items = _pages(_two_page_pdf(), "many.pdf", LoadLimits(max_pages=1))
    assert [isinstance(i, PageFailure) for i in pdf_items] == [False, True]
