"""The QR code printed on our answer sheets: which exam, form and page this is, and, on
pre-printed named sheets, whose.

Payload (ASCII): ``EXAMS1|<exam id>|<form label or ->|<page>/<pages>|<candidate user id or ->``,
for example ``EXAMS1|12|A|1/2|-``. ``EXAMS1`` is the format tag: a later format gets a new tag,
never a changed meaning. Error correction level M survives a smudge over up to 15% of the code."""

from __future__ import annotations

import re
from dataclasses import dataclass

TAG = "EXAMS1"
_PATTERN = re.compile(r"^EXAMS1\|(\d{1,12})\|([A-Za-z0-9]{1,10}|-)\|(\d{1,3})/(\d{1,3})\|(\d{1,12}|-)$")


@dataclass(frozen=True)
class SheetCode:
    exam_id: int
    form: str | None
    page: int
    pages: int
    candidate_id: int | None = None


def encode(code: SheetCode) -> str:
    if code.form is not None and not re.fullmatch(r"[A-Za-z0-9]{1,10}", code.form):
        raise ValueError(f"form label {code.form!r}: letters and digits only, at most 10")
    if not 1 <= code.page <= code.pages:
        raise ValueError(f"page {code.page} of {code.pages}")
    candidate = "-" if code.candidate_id is None else str(code.candidate_id)
    return f"{TAG}|{code.exam_id}|{code.form or '-'}|{code.page}/{code.pages}|{candidate}"


def decode(text: str) -> SheetCode:
    match = _PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"not an answer-sheet code: {text[:80]!r}")
    exam, form, page, pages, candidate = match.groups()
    if not 1 <= int(page) <= int(pages):
        raise ValueError(f"answer-sheet code names page {page} of {pages}")
    return SheetCode(int(exam), None if form == "-" else form, int(page), int(pages),
                     None if candidate == "-" else int(candidate))


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR modules (dark = True), error correction level M, smallest version that fits."""
    from reportlab.graphics.barcode import qrencoder

    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    n = qr.getModuleCount()
    return [[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)]
