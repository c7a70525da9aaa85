"""The pure renderers: Chinese text really embedded, QR codes a decoder reads, seats where the
Room model numbers them, tables that run over pages, and a clear error without a font."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pdf_checks import decode_qr, embedded_fonts, images_on, photo_png, positions, reader, text

from exam_server.errors import PrintingUnavailable
from exam_server.printing import fonts, qr
from exam_server.printing.data import CandidateEntry, RoomSheetData
from exam_server.printing.render import PrintKind, render

NAMES = ["张三丰", "欧阳娜娜", "李小龙", "王晓明", "赵敏", "周芷若", "黄蓉"]


def _room(n: int = 7, cols: int = 3, photo: bytes | None = None, absent: int | None = None) -> RoomSheetData:
    cands = [CandidateEntry(user_id=500 + i, admission_no=f"2026S0100{i + 1:02d}", name=NAMES[i % len(NAMES)]
                            + ("" if i < len(NAMES) else str(i)), student_number=f"2025{i:04d}",
                            school="第一中学" if i % 2 else "实验中学", class_name="高一(3)班", seat_no=i + 1,
                            form_label="B", absent=i == absent, photo=photo if i == 0 else None)
             for i in range(n)]
    return RoomSheetData(exam_id=42, exam_title="2026 年春季高一数学联考", sitting_name="第一场",
                         opens_at=datetime(2026, 3, 1, 9, tzinfo=UTC), closes_at=datetime(2026, 3, 1, 11, tzinfo=UTC),
                         site_name="第一中学考点", site_code="S01", site_address="解放路 1 号", room_number=3,
                         room_name="教学楼 103", rows=-(-n // cols), cols=cols, form_label="B", candidates=cands)


def _pdf(kind: PrintKind, *rooms: RoomSheetData) -> bytes:
    out = io.BytesIO()
    render(kind, rooms, out, fonts.cjk_font())
    return out.getvalue()


def test_tickets_one_page_each_with_chinese_text_in_an_embedded_subset() -> None:
    pdf = _pdf(PrintKind.TICKETS, _room(7))
    assert pdf.startswith(b"%PDF") and len(reader(pdf).pages) == 7
    extracted = text(pdf)
    for name in NAMES:
        assert name in extracted
    for label in ("准考证", "考生须知", "第一场", "第 03 考场", "2026S010007", "第一中学考点", "试    卷"):
        assert label in extracted
    used = embedded_fonts(pdf)
    assert used and all(embedded for _, embedded in used), used
    # A subset is named with a six-letter tag and a plus (PDF 32000 9.6.4).
    assert all(name[7] == "+" for name, _ in used), used


def test_the_ticket_qr_code_decodes_to_exam_admission_number_and_candidate() -> None:
    pdf = _pdf(PrintKind.TICKETS, _room(2))
    for page_no, user_id in ((0, 500), (1, 501)):
        code = qr.decode(decode_qr(pdf, page_no))
        assert code == qr.TicketCode(exam_id=42, admission_no=f"2026S0100{page_no + 1:02d}", candidate_id=user_id)


def test_photo_printed_when_enrolled_else_the_empty_box() -> None:
    pdf = _pdf(PrintKind.TICKETS, _room(2, photo=photo_png()))
    assert len(images_on(pdf, 0)) == 1 and images_on(pdf, 1) == []
    pages = [p.extract_text() for p in reader(pdf).pages]
    assert "贴照片处" not in pages[0] and "贴照片处" in pages[1]


def test_a_broken_photo_prints_the_empty_box_instead_of_failing() -> None:
    pdf = _pdf(PrintKind.TICKETS, _room(1, photo=b"\x89PNG not really"))
    assert "贴照片处" in text(pdf) and images_on(pdf, 0) == []


def test_door_list_shows_room_sitting_range_and_candidates() -> None:
    pdf = _pdf(PrintKind.DOOR_LISTS, _room(7), _room(4))
    assert len(reader(pdf).pages) == 2
    first = reader(pdf).pages[0].extract_text()
    assert "门贴" in first and "第 03 考场" in first and "2026S010001 – 2026S010007" in first
    assert all(name in first for name in NAMES)


def test_sign_in_sheet_has_a_row_per_candidate_and_marks_the_absent() -> None:
    pdf = _pdf(PrintKind.SIGN_IN, _room(7, absent=2))
    page = reader(pdf).pages[0].extract_text()
    assert "签到表" in page and "签名" in page
    assert page.count("缺考") == 2, "the column title and the one absent candidate"
    assert all(f"2026S0100{i:02d}" in page for i in range(1, 8))


def test_long_rosters_run_over_pages_with_the_headings_repeated() -> None:
    pdf = _pdf(PrintKind.SIGN_IN, _room(60, cols=6))
    pages = [p.extract_text() for p in reader(pdf).pages]
    assert len(pages) >= 2 and all("签名" in p for p in pages)
    joined = "\n".join(pages)
    assert all(f"2026S0100{i:02d}" in joined for i in range(1, 61))
    assert "续 2" in pages[1]


def test_seat_chart_places_seats_row_major_from_the_front() -> None:
    pdf = _pdf(PrintKind.SEAT_CHARTS, _room(7, cols=3))
    assert len(reader(pdf).pages) == 1
    at = positions(pdf, 0)
    seat = {n: at[f"2026S0100{n:02d}"] for n in range(1, 8)}
    # seat n: row (n-1)//3, column (n-1)%3; row 0 nearest the front (top of the page).
    assert seat[1][1] == seat[2][1] == seat[3][1] > seat[4][1] == seat[6][1] > seat[7][1]
    assert seat[1][0] == seat[4][0] == seat[7][0] < seat[2][0] < seat[3][0]
    assert "讲台（前）" in text(pdf) and "欧阳娜娜" in text(pdf)
    assert "09" in at, "empty places of the grid are drawn with their seat numbers"


@pytest.mark.parametrize("bad", ["", "EXAMT1|1|A", "EXAMT2|1|A|2", "EXAMT1|x|A|2", "EXAMT1|1||2", "EXAMT1|1|A|2|3",
                                 "EXAMT1|1|A|-2"])
def test_qr_payloads_of_every_wrong_shape_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        qr.decode(bad)


def test_an_admission_number_with_the_separator_cannot_be_encoded() -> None:
    with pytest.raises(ValueError):
        qr.encode(qr.TicketCode(1, "20|26", 3))
    assert qr.decode(qr.encode(qr.TicketCode(1, "2026A", 3))) == qr.TicketCode(1, "2026A", 3)


def test_a_missing_font_is_a_clear_error_naming_it_and_how_to_install(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ttc"
    with pytest.raises(PrintingUnavailable) as caught:
        fonts.cjk_font(missing)
    assert str(missing) in caught.value.detail and "fonts-wqy-zenhei" in caught.value.detail
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    with pytest.raises(PrintingUnavailable, match="cannot be used"):
        fonts.cjk_font(junk)
