"""One table of the interchange formats: how to recognise, read and write each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from item_bank.formats.aiken import read_aiken, write_aiken
from item_bank.formats.archive import ReadLimits
from item_bank.formats.common import check_size
from item_bank.formats.draft import FormatError, ImportReport, ItemDraft
from item_bank.formats.gift import read_gift, write_gift
from item_bank.formats.moodle_xml import read_moodle_xml, write_moodle_xml
from item_bank.formats.qti import read_qti, write_qti
from item_bank.formats.xlsx import read_xlsx, write_xlsx

Reader = Callable[[bytes, str, ReadLimits], ImportReport]
Writer = Callable[[Sequence[ItemDraft], list[str]], bytes]


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    media_type: str
    read: Reader | None
    write: Writer | None


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Chinese Windows editors save by default."""
    check_size(data, what)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FormatError(f"{what}: text is neither UTF-8 nor GB18030")


def _text_reader(read: Callable[[str], ImportReport]) -> Reader:
    return lambda data, filename, _limits: read(decode_text(data, filename or "file"))


def _text_writer(write: Callable[[Sequence[ItemDraft], list[str]], str]) -> Writer:
    return lambda drafts, notes: write(drafts, notes).encode("utf-8")


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("moodle_xml", "Moodle XML", ".xml", "application/xml",
           lambda data, _name, _limits: read_moodle_xml(data), lambda drafts, notes: write_moodle_xml(drafts, notes)),
    Format("gift", "GIFT", ".gift", "text/plain; charset=utf-8", _text_reader(read_gift), _text_writer(write_gift)),
    Format("aiken", "Aiken", ".txt", "text/plain; charset=utf-8", _text_reader(read_aiken),
           _text_writer(write_aiken)),
    Format("qti3", "IMS QTI 3.0 package", ".zip", "application/zip", read_qti,
           lambda drafts, _: write_qti(drafts, "3.0")),
    Format("qti21", "IMS QTI 2.1 package", ".zip", "application/zip", read_qti,
           lambda drafts, _: write_qti(drafts, "2.1")),
    Format("xlsx", "Excel question list (题库表)", ".xlsx",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           lambda data, _, limits: read_xlsx(data, limits), lambda drafts, _: write_xlsx(drafts)),
]}


def detect(filename: str, data: bytes) -> str:
    """Guess the format from the content first, the file name second."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    name = filename.lower()
    if head.startswith(b"PK"):
        return "xlsx" if name.endswith((".xlsx", ".xlsm")) or b"xl/" in data[:65536] else "qti3"
    if head.startswith(b"<"):
        return "moodle_xml" if b"<quiz" in data[:65536] else "qti3"
    if name.endswith(".gift") or b"{" in data[:65536]:
        return "gift"
    if name.endswith(".txt"):
        return "aiken"
    raise FormatError(f"{filename or 'file'}: cannot tell the format; choose one of {', '.join(FORMATS)}")


def read(format_name: str, data: bytes, filename: str = "", limits: ReadLimits | None = None) -> ImportReport:
    spec = _format(format_name)
    if spec.read is None:
        raise FormatError(f"format: {spec.label} cannot be imported")
    return spec.read(data, filename, limits or ReadLimits())


def write(format_name: str, drafts: Sequence[ItemDraft]) -> tuple[bytes, list[str]]:
    spec = _format(format_name)
    if spec.write is None:
        raise FormatError(f"format: {spec.label} cannot be exported")
    notes: list[str] = []
    return spec.write(drafts, notes), notes


def _format(name: str) -> Format:
    if name not in FORMATS:
        raise FormatError(f"format: unknown format {name!r}; known: {', '.join(FORMATS)}")
    return FORMATS[name]
