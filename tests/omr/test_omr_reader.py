"""Reading whole pages: round trips through rotations and degradations, every interpretation class
(marked, blank, faint, erased, multiple, ambiguous) and every issue the pure reader raises."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
from omr_sheets import CODE, Truth, example_layout, filled_sheet, mark, random_truth

from omr.layout import SheetLayout
from omr.load import load_pages
from omr.overlay import draw_overlay
from omr.reader import read_page
from omr.reading import BubbleState, FieldStatus, IssueCode, PageFailure, PageReading
from omr.sheet_code import SheetCode

DPI = 150.0
LAYOUT = example_layout()


def layout_for(code: SheetCode | None) -> SheetLayout | None:
    return LAYOUT


@pytest.fixture(scope="module")
def truth() -> Truth:
    t = random_truth(np.random.default_rng(20), LAYOUT)
    t.answers.update({"1": "B", "2": "", "41": "AC", "42": "", "46": "T"})
    return t


@pytest.fixture(scope="module")
def sheet(truth: Truth) -> np.ndarray:
    return filled_sheet(LAYOUT, truth, DPI)


def read_ok(image: np.ndarray, lookup: Callable[[SheetCode | None], SheetLayout | None] = layout_for) -> PageReading:
    reading = read_page(image, lookup, "test#1")
    assert isinstance(reading, PageReading), reading
    return reading


def fields(reading: PageReading) -> dict[str, object]:
    return {f.field: f for f in reading.fields}


def assert_matches(reading: PageReading, truth: Truth) -> None:
    got = {f.field: f.value for f in reading.fields if f.block not in ("admission", "absent")}
    assert got == {name: truth.answers.get(name, "") for name in got}
    assert reading.admission_no == truth.admission_no
    assert not reading.absent


def failure_code(image: np.ndarray, lookup: Callable[[SheetCode | None], SheetLayout | None] = layout_for
                 ) -> IssueCode:
    result = read_page(image, lookup, "bad#3")
    assert isinstance(result, PageFailure), result
    assert "bad#3" in result.issue.reason
    return result.issue.code


def issue_codes(reading: PageReading) -> list[IssueCode]:
    return [i.code for i in reading.issues]


# ----------------------------------------------------------------------------------- round trips

def test_round_trip_at_200_dpi(truth: Truth) -> None:
    reading = read_ok(filled_sheet(LAYOUT, truth, 200.0))
    assert_matches(reading, truth)
    assert reading.issues == [] and not reading.blocked
    assert reading.code == CODE and reading.rotation == 0 and reading.layout_name == LAYOUT.name
    assert reading.admission_confidence > 0.5
    assert {"sharpness", "blank_level", "mark_level", "grid_fit"} <= set(reading.quality)
    assert reading.quality["mark_level"] - reading.quality["blank_level"] > 0.5
    assert reading.image.shape == (round(297 * reading.px_per_mm), round(210 * reading.px_per_mm))
    one = fields(reading)["1"]
    assert one.status == FieldStatus.OK and one.states["B"] == BubbleState.MARKED  # type: ignore[attr-defined]
    assert fields(reading)["2"].status == FieldStatus.BLANK  # type: ignore[attr-defined]
    assert fields(reading)["41"].value == "AC" and fields(reading)["41"].status == FieldStatus.OK  # type: ignore[attr-defined]


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_quarter_turns_and_upside_down_feeds(sheet: np.ndarray, truth: Truth, turns: int) -> None:
    reading = read_ok(np.ascontiguousarray(np.rot90(sheet, turns)))
    assert reading.rotation == (360 - 90 * turns) % 360  # np.rot90 turns counter-clockwise
    assert_matches(reading, truth)


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderValue=255)


def _perspective(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[60, 45], [w - 20, 15], [w - 70, h - 30], [15, h - 90]])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=70)


def _shadow(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    light = np.linspace(0.45, 1.0, w)[None, :] * np.linspace(0.75, 1.0, h)[:, None]
    return (image * light).astype(np.uint8)


def _noise(image: np.ndarray) -> np.ndarray:
    return np.clip(image + np.random.default_rng(1).normal(0, 12, image.shape), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 55])[1], cv2.IMREAD_GRAYSCALE)


@pytest.mark.parametrize("degrade", [
    lambda im: _rotate(im, 2.5), lambda im: _rotate(im, -4.0), _perspective,
    lambda im: cv2.GaussianBlur(im, (0, 0), 1.5), _noise, _shadow, _jpeg,
    lambda im: _noise(_shadow(_rotate(cv2.GaussianBlur(im, (0, 0), 1.0), 1.5))),
], ids=["rot+2.5", "rot-4", "perspective", "blur", "noise", "shadow", "jpeg55", "combined"])
def test_degraded_scans_read_the_same(sheet: np.ndarray, truth: Truth, degrade: Callable[[np.ndarray], np.ndarray]
                                      ) -> None:
    reading = read_ok(degrade(sheet))
    assert_matches(reading, truth)
    assert reading.issues == []


def test_colour_input_is_accepted(sheet: np.ndarray, truth: Truth) -> None:
    assert_matches(read_ok(cv2.cvtColor(sheet, cv2.COLOR_GRAY2BGR)), truth)


def test_from_png_bytes_through_load(sheet: np.ndarray, truth: Truth) -> None:
    data = cv2.imencode(".png", sheet)[1].tobytes()
    ((source, image),) = list(load_pages(data, "scan.png"))  # type: ignore[misc]
    assert source == "scan.png#1"
    assert_matches(read_ok(image), truth)


def test_light_pencil_sheet_is_read_against_its_own_levels(truth: Truth) -> None:
    reading = read_ok(filled_sheet(LAYOUT, truth, DPI, darkness=0.45))
    assert_matches(reading, truth)
    assert reading.quality["mark_level"] < 0.6  # the sheet's own mark level, not a fixed one


def test_partial_fill_counts_as_marked(truth: Truth) -> None:
    image = filled_sheet(LAYOUT, Truth({**truth.answers, "3": ""}, truth.admission_no), DPI)
    mark(image, LAYOUT, "single1", "3", "D", DPI, coverage=0.55)
    reading = read_ok(image)
    assert fields(reading)["3"].value == "D" and fields(reading)["3"].status == FieldStatus.OK  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- interpretation classes

def _sheet_with(truth: Truth, *marks: tuple[str, str, str, float]) -> np.ndarray:
    """The truth sheet with the named fields cleared, then the given (block, field, label, darkness)."""
    cleared = {m[1] for m in marks}
    answers = {k: ("" if k in cleared else v) for k, v in truth.answers.items()}
    image = filled_sheet(LAYOUT, Truth(answers, truth.admission_no), DPI)
    for block, name, label, darkness in marks:
        mark(image, LAYOUT, block, name, label, DPI, darkness=darkness)
    return image


def test_erased_and_remarked_reads_the_clear_mark(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("single1", "5", "A", 0.3), ("single1", "5", "C", 0.95)))
    field = fields(reading)["5"]
    assert field.value == "C" and field.status == FieldStatus.OK  # type: ignore[attr-defined]
    assert field.states["A"] == BubbleState.ERASED and field.states["C"] == BubbleState.MARKED  # type: ignore[attr-defined]
    assert field.confidence < 1.0  # type: ignore[attr-defined]
    assert reading.issues == []


def test_two_marks_on_single_choice_is_multiple(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("single2", "12", "A", 0.95), ("single2", "12", "D", 0.95)))
    field = fields(reading)["12"]
    assert field.status == FieldStatus.MULTIPLE and field.value == "AD"  # type: ignore[attr-defined]
    assert issue_codes(reading) == [IssueCode.MULTIPLE_MARKS]
    assert reading.issues[0].field == "12" and not reading.blocked


def test_faint_mark_alone_is_ambiguous(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("single3", "25", "B", 0.3)))
    field = fields(reading)["25"]
    assert field.status == FieldStatus.AMBIGUOUS and field.states["B"] == BubbleState.FAINT  # type: ignore[attr-defined]
    assert field.value == "" and field.confidence <= 0.3  # type: ignore[attr-defined]
    assert issue_codes(reading) == [IssueCode.AMBIGUOUS_MARK] and reading.issues[0].field == "25"


def test_faint_mark_in_a_multiple_response_set_is_ambiguous(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("multi", "43", "A", 0.95), ("multi", "43", "B", 0.95),
                                  ("multi", "43", "E", 0.42)))
    field = fields(reading)["43"]
    assert field.status == FieldStatus.AMBIGUOUS and field.value == "AB"  # type: ignore[attr-defined]
    assert issue_codes(reading) == [IssueCode.AMBIGUOUS_MARK]


def test_true_false_block(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("truefalse", "47", "F", 0.95)))
    assert fields(reading)["47"].value == "F"  # type: ignore[attr-defined]


def test_admission_digit_blank_is_unreadable(truth: Truth) -> None:
    image = filled_sheet(LAYOUT, Truth(truth.answers, truth.admission_no[:6]), DPI)  # digits 7-10 left empty
    reading = read_ok(image)
    assert reading.admission_no is None
    assert IssueCode.ID_UNREADABLE in issue_codes(reading) and reading.blocked
    issue = next(i for i in reading.issues if i.code == IssueCode.ID_UNREADABLE)
    assert issue.field == "digit7" and "digit7 is blank" in issue.reason


def test_admission_digit_double_marked_is_unreadable(truth: Truth) -> None:
    image = filled_sheet(LAYOUT, truth, DPI)
    other = str((int(truth.admission_no[2]) + 3) % 10)
    mark(image, LAYOUT, "admission", "digit3", other, DPI)
    reading = read_ok(image)
    assert reading.admission_no is None
    issue = next(i for i in reading.issues if i.code == IssueCode.ID_UNREADABLE)
    assert issue.field == "digit3" and "2 marks" in issue.reason


def test_admission_digit_faint_is_unreadable(truth: Truth) -> None:
    image = filled_sheet(LAYOUT, Truth(truth.answers, truth.admission_no[:4]), DPI)
    for i in range(4, 10):
        mark(image, LAYOUT, "admission", f"digit{i + 1}", truth.admission_no[i], DPI,
             darkness=0.3 if i == 8 else 0.95)
    reading = read_ok(image)
    assert reading.admission_no is None
    issue = next(i for i in reading.issues if i.code == IssueCode.ID_UNREADABLE)
    assert issue.field == "digit9" and "faint" in issue.reason


def test_absent_mark_alone(truth: Truth) -> None:
    image = filled_sheet(LAYOUT, Truth({}, truth.admission_no, absent=True), DPI)
    reading = read_ok(image)
    assert reading.absent and reading.issues == []


def test_absent_with_answers(truth: Truth) -> None:
    reading = read_ok(filled_sheet(LAYOUT, Truth(truth.answers, truth.admission_no, absent=True), DPI))
    assert reading.absent
    assert IssueCode.ABSENT_WITH_ANSWERS in issue_codes(reading) and reading.blocked


def test_unmarked_sheet_reads_blank_and_asks_for_the_number() -> None:
    reading = read_ok(filled_sheet(LAYOUT, Truth(), DPI))
    assert all(f.status == FieldStatus.BLANK for f in reading.fields)
    assert issue_codes(reading) == [IssueCode.ID_UNREADABLE]


# ------------------------------------------------------------------------------- locating and failures

def _erase_marker(image: np.ndarray, index: int) -> np.ndarray:
    out = image.copy()
    m = LAYOUT.alignment.markers[index]
    s = DPI / 25.4
    half = m.size * s
    out[int((m.y * s) - half):int((m.y * s) + half), int((m.x * s) - half):int((m.x * s) + half)] = 255
    return out


@pytest.mark.parametrize("index", [0, 2])
def test_one_marker_missing_is_tolerated(sheet: np.ndarray, truth: Truth, index: int) -> None:
    reading = read_ok(_rotate(_erase_marker(sheet, index), 1.5))
    assert_matches(reading, truth)
    assert reading.quality["markers_missing"] == 1


def test_smudged_marker_is_tolerated(sheet: np.ndarray, truth: Truth) -> None:
    image = sheet.copy()
    s = DPI / 25.4
    m = LAYOUT.alignment.markers[1]
    cv2.line(image, (int(m.x * s) - 40, int(m.y * s) + 25), (int(m.x * s) + 10, int(m.y * s) - 5), 0, 9)
    assert_matches(read_ok(image), truth)


def test_no_markers_cannot_locate(sheet: np.ndarray) -> None:
    image = sheet
    for i in range(4):
        image = _erase_marker(image, i)
    assert failure_code(image) == IssueCode.CANNOT_LOCATE


@pytest.mark.parametrize("turns", [0, 1, 2])
def test_third_party_sheet_without_qr(truth: Truth, turns: int) -> None:
    plain = filled_sheet(LAYOUT, truth, DPI, code=None)
    seen: list[SheetCode | None] = []

    def fixed(code: SheetCode | None) -> SheetLayout:
        seen.append(code)
        return LAYOUT

    reading = read_ok(np.ascontiguousarray(np.rot90(plain, turns)), fixed)
    assert seen == [None] and reading.code is None
    assert reading.rotation == (360 - 90 * turns) % 360
    assert_matches(reading, truth)


def test_no_layout_for_the_code_cannot_locate(sheet: np.ndarray) -> None:
    assert failure_code(sheet, lambda code: None) == IssueCode.CANNOT_LOCATE


def test_blank_page_is_unusable() -> None:
    assert failure_code(np.full((1754, 1240), 250, np.uint8)) == IssueCode.UNUSABLE_IMAGE
    rng = np.random.default_rng(0)
    assert failure_code(np.clip(rng.normal(235, 3, (1754, 1240)), 0, 255).astype(np.uint8)) \
        == IssueCode.UNUSABLE_IMAGE


def test_tiny_image_is_unusable(sheet: np.ndarray) -> None:
    assert failure_code(cv2.resize(sheet, (120, 170), interpolation=cv2.INTER_AREA)) == IssueCode.UNUSABLE_IMAGE


def test_heavy_blur_is_unusable(sheet: np.ndarray) -> None:
    assert failure_code(cv2.GaussianBlur(sheet, (0, 0), 7)) == IssueCode.UNUSABLE_IMAGE


@pytest.mark.parametrize("image", [
    np.zeros((0, 0), np.uint8), np.zeros((10,), np.uint8), np.zeros((50, 50, 7), np.uint8),
    np.random.default_rng(1).integers(0, 255, (1200, 900), dtype=np.uint8),
    np.random.default_rng(1).random((900, 700)), np.full((1200, 900), 0, np.uint8),
], ids=["empty", "1d", "7-channel", "noise", "float", "black"])
def test_nonsense_never_raises(image: np.ndarray) -> None:
    result = read_page(image, layout_for, "junk")
    assert isinstance(result, PageFailure)
    assert result.issue.code in (IssueCode.UNUSABLE_IMAGE, IssueCode.CANNOT_LOCATE)


def test_overlay_draws_on_the_rectified_page(truth: Truth) -> None:
    reading = read_ok(_sheet_with(truth, ("single2", "12", "A", 0.95), ("single2", "12", "D", 0.95)))
    picture = draw_overlay(reading)
    assert picture.shape == (*reading.image.shape, 3) and picture.dtype == np.uint8
    red = (picture[..., 2] > 180) & (picture[..., 1] < 80)
    assert red.any()  # the multiple-marked field is flagged in red


def test_sheet_aligned_by_its_paper_edges(truth: Truth) -> None:
    from omr.layout import Alignment, AlignMethod

    edges = LAYOUT.model_copy(update={"alignment": Alignment(method=AlignMethod.EDGES), "name": "edges"})
    page = filled_sheet(edges, truth, DPI, code=None)
    h, w = page.shape
    bed = np.full((h + 160, w + 140), 40, np.uint8)  # the page on a dark scanner lid, a little turned
    bed[70:70 + h, 60:60 + w] = page
    scan = _rotate(bed, 2.0)
    reading = read_ok(np.ascontiguousarray(np.rot90(scan, 2)), lambda code: edges)
    assert reading.rotation == 180
    assert_matches(reading, truth)


def test_symmetric_sheet_without_qr_is_not_read_upside_down() -> None:
    from omr.layout import Alignment, BlockKind, BubbleBlock, Marker

    symmetric = SheetLayout(
        name="symmetric", alignment=Alignment(markers=[Marker(x=12, y=12), Marker(x=198, y=12),
                                                       Marker(x=198, y=285), Marker(x=12, y=285)]),
        bubble_blocks=[BubbleBlock(id="q", kind=BlockKind.SINGLE, origin_x=94.5, origin_y=121.5, rows=10, columns=4,
                                   pitch_x=7, pitch_y=6, bubble_width=5, bubble_height=3.2,
                                   labels=["A", "B", "C", "D"], fields=[str(i + 1) for i in range(10)])])
    image = filled_sheet(symmetric, Truth({"1": "A", "2": "B"}), DPI, code=None)
    result = read_page(np.ascontiguousarray(np.rot90(image, 2)), lambda code: symmetric, "sym#1")
    assert isinstance(result, PageFailure)
    assert result.issue.code == IssueCode.CANNOT_LOCATE and "which way up" in result.issue.reason


def test_markers_cut_by_the_image_edge(sheet: np.ndarray, truth: Truth) -> None:
    s = DPI / 25.4
    cropped = np.ascontiguousarray(sheet[:, int(10 * s):])  # the two left markers are cut
    reading = read_ok(cropped)
    assert_matches(reading, truth)
    assert reading.quality["markers_missing"] == 0


def test_perspective_with_a_marker_missing_uses_the_qr_corners(sheet: np.ndarray, truth: Truth) -> None:
    reading = read_ok(_perspective(_erase_marker(sheet, 1)))
    assert_matches(reading, truth)
    assert reading.quality["markers_missing"] == 1


def test_sheet_aligned_by_a_reference_scan(truth: Truth) -> None:
    from omr.layout import Alignment, AlignMethod
    from omr.reference import register_reference

    by_reference = LAYOUT.model_copy(update={
        "alignment": Alignment(method=AlignMethod.REFERENCE, reference_image="blank.png"), "name": "reference"})

    def printed(t: Truth, dpi: float) -> np.ndarray:
        image = filled_sheet(by_reference, t, dpi, code=None)
        s = dpi / 25.4  # a title and instructions: what features are matched on
        cv2.putText(image, "Midterm exam 2026 - Grade 7 Mathematics", (int(20 * s), int(22 * s)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.09 * s, 0, max(1, int(0.12 * s)))
        cv2.putText(image, "Fill the bubbles fully with a 2B pencil", (int(20 * s), int(30 * s)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.06 * s, 60, 1)
        return image

    register_reference(by_reference, printed(Truth(), DPI))  # a blank scan of the same print
    scan = _rotate(np.ascontiguousarray(np.rot90(printed(truth, DPI), 1)), 2.0)
    reading = read_ok(scan, lambda code: by_reference)
    assert reading.rotation == 270
    assert_matches(reading, truth)


def test_reference_layout_without_its_image_cannot_locate(sheet: np.ndarray) -> None:
    from omr.layout import Alignment, AlignMethod

    missing = LAYOUT.model_copy(update={
        "alignment": Alignment(method=AlignMethod.REFERENCE, reference_image="/nonexistent/blank.png")})
    result = read_page(sheet, lambda code: missing, "ref#1")
    assert isinstance(result, PageFailure) and result.issue.code == IssueCode.CANNOT_LOCATE
    assert "reference" in result.issue.reason
