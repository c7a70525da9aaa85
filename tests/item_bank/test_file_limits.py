"""Hostile files: zip bombs (honest and lying headers), XLSX whose dimensions lie or that are too
big in real cells or rows, and images whose headers claim too many pixels."""

import io
import struct
import zipfile
import zlib

import pytest
from openpyxl import Workbook

from item_bank.formats.archive import ReadLimits, SafeArchive
from item_bank.formats.draft import FormatError
from item_bank.formats.qti import read_qti
from item_bank.formats.xlsx import read_xlsx
from item_bank.images import image_size, pixel_problem

MB = 1024 * 1024
HEADER = ["题型", "题干", "选项A", "选项B", "答案"]


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def declare_size(data: bytes, name: bytes, size: int) -> bytes:
    """Patch the sizes a member declares (central directory and local header) to lie."""
    patched = bytearray(data)
    central = patched.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", patched, central + 28)[0]
        if bytes(patched[central + 46:central + 46 + name_len]) == name:
            struct.pack_into("<I", patched, central + 24, size)
            local = struct.unpack_from("<I", patched, central + 42)[0]
            struct.pack_into("<I", patched, local + 22, size)
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


# -- archives ------------------------------------------------------------------------------------


def test_a_member_that_inflates_past_the_cap_is_stopped_while_streaming() -> None:
    limits = ReadLimits(member_bytes=1 * MB)
    package = zip_of({"imsmanifest.xml": b"<manifest/>", "items/big.xml": b"\0" * (5 * MB)})
    with SafeArchive(package, "bomb.zip", limits) as archive:
        with pytest.raises(FormatError, match=r"'items/big.xml' inflates to more than 1048576 bytes"):
            archive.read("items/big.xml")
        assert archive.inflated <= 1 * MB + 64 * 1024, "stopped within one chunk of the cap"


def test_the_running_total_caps_the_whole_archive() -> None:
    limits = ReadLimits(unpacked_bytes=3 * MB, member_bytes=10 * MB)
    members = {f"m{n}.bin": bytes([n]) * MB for n in range(3)}
    with SafeArchive(zip_of(members), "many.zip", limits) as archive:
        archive.read("m0.bin")
        archive.read("m1.bin")
        archive.read("m2.bin")  # exactly at the cap: allowed
        archive.inflated += 1  # one more byte anywhere is too many
        with pytest.raises(FormatError, match="inflates to more than 3145728 bytes"):
            archive.read("m0.bin")


def test_a_zip_bomb_declaring_small_sizes_is_refused_without_inflating_it() -> None:
    bomb = declare_size(zip_of({"items/bomb.xml": b"\0" * (20 * MB)}), b"items/bomb.xml", 1024)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.infolist()[0].file_size == 1024, "the headers lie"
    with pytest.raises(FormatError) as caught:
        SafeArchive(bomb, "bomb.zip", ReadLimits()).read("items/bomb.xml")
    assert "bomb.zip: cannot unpack 'items/bomb.xml'" in caught.value.detail


def test_an_honest_bomb_is_refused_on_its_declared_size_before_any_work() -> None:
    bomb = zip_of({"items/bomb.xml": b"\0" * (101 * MB)})
    assert len(bomb) < MB
    with pytest.raises(FormatError, match="declares 105906176 unpacked bytes; the limit is 104857600"):
        read_qti(bomb, "bomb.zip")


def test_a_lying_qti_package_rejects_the_item_not_the_server() -> None:
    item = b"<assessmentItem xmlns='http://www.imsglobal.org/xsd/imsqti_v2p1' identifier='x'/>"
    padded = item + b" " * (8 * MB)
    package = declare_size(zip_of({"items/a.xml": padded}), b"items/a.xml", 100)
    report = read_qti(package, "lying.zip", ReadLimits(member_bytes=MB))
    assert [o.status for o in report.outcomes] == ["rejected"]
    assert "cannot unpack" in report.outcomes[0].messages[0]


def test_corrupt_deflate_data_is_a_format_error() -> None:
    data = bytearray(zip_of({"a.xml": zlib.compress(b"x" * 10000)}))
    start = data.find(b"a.xml") + 5
    data[start + 5:start + 40] = b"\xff" * 35
    with pytest.raises(FormatError), SafeArchive(bytes(data), "x.zip", ReadLimits()) as archive:
        archive.read("a.xml")


# -- XLSX ----------------------------------------------------------------------------------------


def workbook(rows: list[list[object]], wide: int = 0) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("题库")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row + [None] * (wide - len(row)) + (["x"] if wide else []))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change: "callable[[str], str]") -> bytes:  # type: ignore[valid-type]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = change(body.decode()).encode()
            target.writestr(info.filename, body)
    return out.getvalue()


ROWS: list[list[object]] = [["单选题", f"{n}+1=?", str(n), str(n + 1), "B"] for n in range(1, 31)]


def test_xlsx_declaring_16384_columns_and_a_million_rows_is_read_by_its_real_size() -> None:
    def lie(xml: str) -> str:
        return xml.replace("<sheetData", '<dimension ref="A1:XFD1048576"/><sheetData', 1)

    data = rewrite_sheet(workbook(ROWS), lie)
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    report = read_xlsx(data)
    assert [o.status for o in report.outcomes] == ["imported"] * 30


def test_xlsx_with_real_cells_out_to_column_xfd_reads_only_the_capped_width() -> None:
    report = read_xlsx(workbook(ROWS[:3], wide=16383))
    assert [o.status for o in report.outcomes] == ["imported"] * 3


def test_xlsx_with_more_real_cells_than_the_cap_is_refused() -> None:
    full_row: list[object] = [1] * 2000
    with pytest.raises(FormatError, match=r"XLSX file: 20\d\d cells; the limit is 1000"):
        read_xlsx(workbook([*ROWS[:2], full_row]), ReadLimits(xlsx_cells=1000))


def test_xlsx_with_a_row_past_the_row_cap_is_refused_even_after_a_gap() -> None:
    def far_row(xml: str) -> str:
        return xml.replace("</sheetData>", '<row r="900000"><c r="A900000" t="inlineStr"><is><t>单选题</t></is></c>'
                                           "</row></sheetData>")

    with pytest.raises(FormatError, match="has rows past row 25000; the limit is 25000 rows"):
        read_xlsx(rewrite_sheet(workbook(ROWS), far_row))


def test_xlsx_shared_strings_over_the_cap_are_refused() -> None:
    source = zipfile.ZipFile(io.BytesIO(workbook(ROWS[:2])))
    members = {i.filename: source.read(i) for i in source.infolist()}
    extra = b"".join(b"<si><t>s%d</t></si>" % n for n in range(600))
    members["xl/sharedStrings.xml"] = b"<sst xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'>" \
        + extra + b"</sst>"
    with pytest.raises(FormatError, match="XLSX file: 6\\d\\d shared strings; the limit is 500"):
        read_xlsx(zip_of(members), ReadLimits(xlsx_cells=500))


def test_an_xlsx_sharedstrings_bomb_stops_at_the_member_cap() -> None:
    data = workbook(ROWS[:2])
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {i.filename: source.read(i) for i in source.infolist()}
    members["xl/sharedStrings.xml"] = b"<sst>" + b"<si><t>a</t></si>" * (MB // 4) + b"</sst>"
    with pytest.raises(FormatError, match="sharedStrings.xml' inflates to more than 1048576 bytes"):
        read_xlsx(zip_of(members), ReadLimits(member_bytes=MB))


# -- images --------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\0\0\0"


def webp(kind: bytes, width: int, height: int) -> bytes:
    if kind == b"VP8X":
        body = b"\0" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    elif kind == b"VP8L":
        body = b"\x2f" + ((width - 1) | ((height - 1) << 14)).to_bytes(4, "little")
    else:
        body = b"\0\0\0\x9d\x01\x2a" + struct.pack("<HH", width, height)
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBP" + kind + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("make", [png, jpeg, gif, lambda w, h: webp(b"VP8X", w, h),
                                  lambda w, h: webp(b"VP8L", w, h), lambda w, h: webp(b"VP8 ", w, h)])
def test_image_sizes_come_from_the_header(make: "callable[[int, int], bytes]") -> None:  # type: ignore[valid-type]
    assert image_size(make(640, 480)) == (640, 480)
    assert pixel_problem(make(640, 480), "a.img", 1_000_000) is None
    problem = pixel_problem(make(16000, 16000), "big.img", 25_000_000)
    assert problem == "big.img: 16000x16000 = 256000000 pixels; the limit is 25000000 pixels"


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF8", b"RIFF\0\0\0\0WEBPVP8Z",
                                  b"not an image"])
def test_unreadable_image_headers_are_named(data: bytes) -> None:
    assert image_size(data) is None
    assert "cannot be read" in (pixel_problem(data, "x", 100) or "")
