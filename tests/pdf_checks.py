"""Reading our PDFs back the way a printer or a scanner would: text, fonts, images, QR codes."""

import io
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
from pypdf import PdfReader


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def embedded_fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(base font name, has an embedded TrueType program) for every font the pages use."""
    found = []
    for page in reader(pdf).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
            embedded = any(d is not None and "/FontFile2" in d.get_object() for d in descriptors)
            found.append((str(font["/BaseFont"]), embedded))
    return found


def images_on(pdf: bytes, page_no: int) -> list[Any]:
    return list(reader(pdf).pages[page_no].images)


def decode_qr(pdf: bytes, page_no: int, scale: float = 3.0) -> str:
    """Rasterise the page and read its QR code with OpenCV's detector."""
    page = pdfium.PdfDocument(pdf)[page_no]
    image = np.array(page.render(scale=scale).to_pil().convert("L"))
    value, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return str(value)


def positions(pdf: bytes, page_no: int) -> dict[str, tuple[float, float]]:
    """Where each drawn string starts (x, y in points) on one page."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: Any, tm: Any, *_: Any) -> None:
        if text.strip():
            found.setdefault(text.strip(), (float(tm[4]), float(tm[5])))

    reader(pdf).pages[page_no].extract_text(visitor_text=visit)
    return found


def photo_png(width: int = 60, height: int = 80) -> bytes:
    """A small real portrait-shaped PNG (a grey gradient)."""
    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x * 4 % 256, y * 3 % 256, 128) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
