"""The admission ticket's QR code payload, and its parser for whoever scans tickets at the door.

Payload (ASCII, so any decoder reads it): ``EXAMT1|<exam id>|<admission number>|<candidate id>``
where the candidate id is the user id. Example: ``EXAMT1|12|2026010100101|345``. ``EXAMT1`` is
the format tag; a later format gets a new tag, never a changed meaning."""

from dataclasses import dataclass

from reportlab.graphics.barcode import qrencoder

TAG = "EXAMT1"


@dataclass(frozen=True)
class TicketCode:
    exam_id: int
    admission_no: str
    candidate_id: int


def encode(code: TicketCode) -> str:
    if "|" in code.admission_no:
        raise ValueError(f"admission number {code.admission_no!r} contains '|'")
    return f"{TAG}|{code.exam_id}|{code.admission_no}|{code.candidate_id}"


def decode(text: str) -> TicketCode:
    parts = text.split("|")
    if len(parts) != 4 or parts[0] != TAG or not parts[1].isdigit() or not parts[3].isdigit() or not parts[2]:
        raise ValueError(f"not an admission ticket code: {text!r}")
    return TicketCode(int(parts[1]), parts[2], int(parts[3]))


def matrix(text: str) -> list[list[bool]]:
    """The QR modules (dark = True), error correction level M, smallest version that fits."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    n = qr.getModuleCount()
    return [[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)]
