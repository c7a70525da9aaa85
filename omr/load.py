"""Load: the bytes of one uploaded file -> grey pages.

PNG, JPEG (EXIF orientation applied), TIFF (every page) and PDF (every page, rendered at
``LoadLimits.pdf_dpi``). The type is sniffed from the bytes, never from the name. Sizes are checked
against :class:`LoadLimits` from the header, before anything is decoded (decompression bombs), and
every failure is a :class:`~omr.reading.PageFailure` naming the file and page: one bad page of a
multi-page file fails alone and the other pages still come out.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from omr.reading import Issue, IssueCode, PageFailure


@dataclass(frozen=True)
class LoadLimits:
    max_bytes: int = 200 * 1024 * 1024  # per file
    max_pixels: int = 80_000_000  # per page (A3 at 600 dpi is ~70 Mpx)
    max_pages: int = 500  # per file
    pdf_dpi: float = 200.0


class FileKind(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    PDF = "pdf"


def sniff(data: bytes) -> FileKind | None:
    """The file type from its first bytes (None: not a format we read)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return FileKind.TIFF
    if b"%PDF-" in data[:1024]:
        return FileKind.PDF
    return None


def _fail(source: str, reason: str) -> PageFailure:
    return PageFailure(source=source, issue=Issue(IssueCode.UNREADABLE_FILE, f"{source}: {reason}"))


def load_pages(data: bytes, name: str, limits: LoadLimits | None = None
               ) -> Iterator[tuple[str, np.ndarray] | PageFailure]:
    """Yield ``("name#page", grey uint8 image)`` per page, or a PageFailure per page that cannot be read.

    Never raises on bad content: a file that is not an image at all gives one failure for ``name``."""
    limits = limits or LoadLimits()
    if len(data) > limits.max_bytes:
        yield _fail(name, f"file of {len(data)} bytes is larger than the limit of {limits.max_bytes}")
        return
    kind = sniff(data)
    if kind is None:
        yield _fail(name, "not a PNG, JPEG, TIFF or PDF file")
        return
    if kind == FileKind.PDF:
        yield from _pdf_pages(data, name, limits)
    else:
        yield from _raster_pages(data, name, kind, limits)


def _raster_pages(data: bytes, name: str, kind: FileKind, limits: LoadLimits
                  ) -> Iterator[tuple[str, np.ndarray] | PageFailure]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.size  # noqa: B018 - the header is read by open
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        yield _fail(f"{name}#1", f"image too large (decompression bomb): {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds on bad headers
        yield _fail(name, f"cannot read the {kind.value.upper()} header: {exc}")
        return
    if kind != FileKind.TIFF:
        yield _one_frame(image, data, f"{name}#1", kind, limits)
        return
    page = 0
    while page < limits.max_pages:
        source = f"{name}#{page + 1}"
        try:
            image.seek(page)
        except EOFError:
            return
        except Exception as exc:  # noqa: BLE001 - a broken page directory: later pages are unreachable
            yield _fail(source, f"cannot reach this TIFF page: {exc}")
            return
        yield _one_frame(image, data, source, kind, limits)
        page += 1
    try:
        image.seek(page)
    except Exception:  # noqa: BLE001 - EOFError: exactly max_pages pages
        return
    yield _fail(f"{name}#{page + 1}", f"more than {limits.max_pages} pages; the rest is not read")


def _one_frame(image: object, data: bytes, source: str, kind: FileKind, limits: LoadLimits
               ) -> tuple[str, np.ndarray] | PageFailure:
    from PIL import Image, ImageOps

    assert isinstance(image, Image.Image)
    width, height = image.size
    if width < 1 or height < 1:
        return _fail(source, f"empty image ({width}x{height})")
    if width * height > limits.max_pixels:
        return _fail(source, f"image of {width}x{height} pixels is larger than the limit of "
                             f"{limits.max_pixels} pixels (decompression bomb?)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            orientation = image.getexif().get(0x0112, 1) if kind in (FileKind.JPEG, FileKind.TIFF) else 1
            if kind == FileKind.PNG and image.mode in ("L", "RGB") and "transparency" not in image.info:
                # libpng through OpenCV is faster than Pillow; the header was checked above.
                grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
                if grey is None:
                    raise OSError("PNG data is corrupt or truncated")
            else:
                if kind == FileKind.JPEG:
                    image.draft("L", image.size)  # decode straight to grey
                image.load()
                if orientation not in (None, 1):
                    transposed = ImageOps.exif_transpose(image)
                    if transposed is not None:
                        image = transposed
                assert isinstance(image, Image.Image)
                grey = _to_grey(image)
            if grey.shape[0] < 1 or grey.shape[1] < 1:
                raise OSError("empty image")
            return source, np.ascontiguousarray(grey)
    except Exception as exc:  # noqa: BLE001 - corrupt, truncated, unsupported mode...
        return _fail(source, f"cannot decode the image: {exc}")


def _to_grey(image: object) -> np.ndarray:
    from PIL import Image

    assert isinstance(image, Image.Image)
    mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image).astype(np.float64)
        top = float(values.max()) if values.size else 1.0
        scale = 255.0 / (65535.0 if mode.startswith("I;16") or top > 255 else max(top, 1.0))
        return np.clip(values * scale, 0, 255).astype(np.uint8)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.uint8)
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _pdf_pages(data: bytes, name: str, limits: LoadLimits) -> Iterator[tuple[str, np.ndarray] | PageFailure]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception as exc:  # noqa: BLE001 - PdfiumError, password, garbage
        yield _fail(name, f"cannot open the PDF: {exc}")
        return
    try:
        count = len(document)
        if count == 0:
            yield _fail(name, "the PDF has no pages")
        scale = limits.pdf_dpi / 72.0
        for index in range(min(count, limits.max_pages)):
            source = f"{name}#{index + 1}"
            try:
                page = document[index]
                try:
                    width, height = page.get_size()
                    pixels = (width * scale) * (height * scale)
                    if pixels > limits.max_pixels:
                        yield _fail(source, f"page of {width:.0f}x{height:.0f} pt is {pixels:.0f} pixels at "
                                            f"{limits.pdf_dpi:.0f} dpi, more than the limit of {limits.max_pixels}")
                        continue
                    bitmap = page.render(scale=scale, grayscale=True)
                    array = bitmap.to_numpy()
                    if array.ndim == 3:
                        array = array[..., 0] if array.shape[2] == 1 else cv2.cvtColor(array[..., :3],
                                                                                      cv2.COLOR_BGR2GRAY)
                    grey = array
                    yield source, np.ascontiguousarray(grey, dtype=np.uint8)
                finally:
                    page.close()
            except Exception as exc:  # noqa: BLE001 - a corrupt page fails alone
                yield _fail(source, f"cannot render this PDF page: {exc}")
        if count > limits.max_pages:
            yield _fail(f"{name}#{limits.max_pages + 1}",
                        f"{count} pages, more than the limit of {limits.max_pages}; the rest is not read")
    finally:
        document.close()
