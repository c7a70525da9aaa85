"""XLSX question list: good and bad rows, cell quirks, header matching, round trip, template."""

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from grading import validate_definition
from item_bank.formats.draft import FormatError, ItemDraft
from item_bank.formats.xlsx import difficulty, knowledge_points, read_xlsx, write_xlsx, xlsx_template

SAMPLES = Path(__file__).parent / "samples"
HEADER = ["编号", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "知识点", "难度", "分值", "标签",
          "来源"]


def workbook(rows: list[list[Any]], header: list[str] | None = None, title: str = "Sheet") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(**cells: Any) -> list[Any]:
    keys = ["id", "type", "stem", "A", "B", "C", "D", "answer", "explanation", "knowledge", "difficulty", "points",
            "tags", "source"]
    return [cells.get(key) for key in keys]


MIXED = [
    row(id="M-01", type="单选题", stem="  函数 \\(f(x)=x^2+1\\) 的最小值是  ", A="0", B="1", C="2", D="不存在",
        answer="B", explanation="配方。", knowledge="数学/函数/二次函数；数学>代数", difficulty="易", points=2,
        tags="函数，基础;期中", source="2023 北京中考"),  # row 2
    row(type="多选题", stem="下列是质数的有", A="2", B="4", C="5", D="9", answer="A,C", difficulty="★★★"),  # row 3
    row(type="判断题", stem="地球是圆的。", answer="√", difficulty=0.7),  # row 4
    row(type="填空题", stem="中国的首都是____，最大城市是____。", answer="北京/Beijing|上海", difficulty=4),  # row 5
    row(type="数值题", stem="7×8=____", answer=56),  # row 6
    row(type="连线题", stem="不支持的题型", answer="A"),  # row 7
    row(type="单选题", stem="答案不是选项", A="甲", B="乙", answer="E"),  # row 8
    [],  # row 9
    row(type="多选题", stem="缺答案", A="甲", B="乙", C="丙"),  # row 10
    row(type="单选题", stem="难度不对", A="甲", B="乙", answer="A", difficulty="很难"),  # row 11
    row(type="numeric", stem="\\(\\pi\\) to two places", answer="３．１４ ± ０．０１"),  # row 12
    row(type="essay", stem="以“家乡”为题写一篇作文。", answer="", points="10分"),  # row 13
    row(type="判断题", stem="答案不是对错", answer="也许"),  # row 14
    row(type="单选题", stem="选项有空缺", A="甲", C="丙", answer="A"),  # row 15
    row(type="多选题", stem="全角答案", A="甲", B="乙", C="丙", answer="ＡＣ", points=-1),  # row 16
]


def test_good_rows_imported_bad_rows_reported_by_row_and_column() -> None:
    report = read_xlsx(workbook(MIXED))
    assert report.format == "xlsx"
    assert report.counts() == {"imported": 7, "converted": 0, "rejected": 7}
    rejected = {o.identifier: o.messages for o in report.outcomes if o.status == "rejected"}
    assert rejected == {
        "第 7 行 (row 7)": ["第 7 行 (row 7), 题型 (type): '连线题' is not a type this list supports "
                            "(单选题/多选题/判断题/填空题/数值题/简答题/作文题, or the English names)"],
        "第 8 行 (row 8)": ["第 8 行 (row 8), 答案 (answer): 'E' is not an option (options: AB)"],
        "第 10 行 (row 10)": ["第 10 行 (row 10), 答案 (answer): the answer is empty"],
        "第 11 行 (row 11)": ["第 11 行 (row 11), 难度 (difficulty): '很难' is not a difficulty "
                              "(易/中/难, 1-5 stars or a proportion 0..1)"],
        "第 14 行 (row 14)": ["第 14 行 (row 14), 答案 (answer): '也许' is not 对/错 "
                              "(true/false; also 正确/错误, T/F, √/×)"],
        "第 15 行 (row 15)": ["第 15 行 (row 15), 选项B (option B): empty, but a later option is filled"],
        "第 16 行 (row 16)": ["第 16 行 (row 16), 分值 (points): '-1' is not a positive number of points"],
    }
    # index counts questions in the file (the empty row 9 is not one)
    assert [o.index for o in report.outcomes] == list(range(14))


def test_good_rows_become_drafts() -> None:
    drafts = {d.stem: d for d in read_xlsx(workbook(MIXED)).drafts}
    single = drafts["函数 \\(f(x)=x^2+1\\) 的最小值是"]
    assert single.type == "single_choice" and single.definition["correct"] == "B"
    assert [o["text"] for o in single.definition["options"]] == ["0", "1", "2", "不存在"]
    assert single.explanation == "配方。"
    assert single.knowledge_points == [("数学", "函数", "二次函数"), ("数学", "代数")]
    assert single.difficulty == 0.85
    assert single.default_points == 2.0
    assert single.tags == ["函数", "基础", "期中"]
    assert (single.source, single.external_id) == ("2023 北京中考", "M-01")

    multiple = drafts["下列是质数的有"]
    assert multiple.definition["correct"] == ["A", "C"] and multiple.difficulty == 0.6
    assert drafts["地球是圆的。"].definition == {"correct": True}
    assert drafts["地球是圆的。"].difficulty == 0.7
    blanks = drafts["中国的首都是____，最大城市是____。"]
    assert blanks.definition["blanks"] == [
        {"answers": [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0}], "case_sensitive": False},
        {"answers": [{"text": "上海", "fraction": 1.0}], "case_sensitive": False}]
    assert blanks.difficulty == 0.45
    assert drafts["7×8=____"].definition == {"answers": [{"value": 56.0, "tolerance": 0.0, "fraction": 1.0}]}
    assert drafts["\\(\\pi\\) to two places"].definition == {
        "answers": [{"value": 3.14, "tolerance": 0.01, "fraction": 1.0}]}
    essay = drafts["以“家乡”为题写一篇作文。"]
    assert essay.type == "essay" and essay.definition == {} and essay.default_points == 10.0


@pytest.mark.parametrize(("answer", "expected"), [
    ("对", True), ("错", False), ("正确", True), ("错误", False), ("T", True), ("f", False), ("√", True),
    ("×", False), ("  TRUE ", True), ("Ｆ", False),
])
def test_true_false_spellings(answer: str, expected: bool) -> None:
    report = read_xlsx(workbook([row(type="判断题", stem="s", answer=answer)]))
    assert report.drafts[0].definition == {"correct": expected}


@pytest.mark.parametrize(("answer", "correct"), [("ACD", ["A", "C", "D"]), ("A,C,D", ["A", "C", "D"]),
                                                 ("A、C，D", ["A", "C", "D"]), ("d a", ["A", "D"])])
def test_multiple_choice_answer_spellings(answer: str, correct: list[str]) -> None:
    cells = row(type="多选题", stem="s", A="1", B="2", C="3", D="4", answer=answer)
    assert read_xlsx(workbook([cells])).drafts[0].definition["correct"] == correct


@pytest.mark.parametrize(("value", "expected"), [
    ("易", 0.85), ("中", 0.6), ("难", 0.35), (1, 0.9), (5, 0.3), ("★★", 0.75), ("★★★★☆", 0.45), ("3星", 0.6),
    (0.42, 0.42), ("0.5", 0.5), ("85%", 0.85), (None, None), ("", None),
])
def test_difficulty_scales(value: Any, expected: float | None) -> None:
    assert difficulty(value) == expected


@pytest.mark.parametrize("value", ["很难", 6, 1.5, "★★★★★★", "-0.1"])
def test_bad_difficulty(value: Any) -> None:
    with pytest.raises(ValueError, match="is not a difficulty"):
        difficulty(value)


def test_knowledge_point_paths() -> None:
    assert knowledge_points("数学/函数/二次函数；数学 > 代数;; 物理") == [
        ("数学", "函数", "二次函数"), ("数学", "代数"), ("物理",)]


def test_headers_in_english_any_order_with_extra_columns_and_title_rows() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2024 春季期中题库"])
    sheet.append(["Answer", "Notes", "Question", "Type", "Option A", "Option B", "Difficulty"])
    sheet.append(["b", "ignored", "Pick B", "single_choice", "x", "y", "中"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = read_xlsx(buffer.getvalue())
    assert report.outcomes[0].identifier == "第 3 行 (row 3)"
    draft = report.drafts[0]
    assert (draft.type, draft.stem, draft.difficulty) == ("single_choice", "Pick B", 0.6)
    assert draft.definition["correct"] == "B"


def test_bilingual_and_fullwidth_headers() -> None:
    header = ["题型（type）", "*题干 (stem)", "选项Ａ", "选项Ｂ", "答案 (answer)"]
    report = read_xlsx(workbook([["单选", "s", "甲", "乙", "Ａ"]], header=header))
    assert report.drafts[0].definition["correct"] == "A"


def test_missing_required_columns_raise_naming_them() -> None:
    with pytest.raises(FormatError, match=r"missing required column\(s\) 题干 \(stem\), 答案 \(answer\)"):
        read_xlsx(workbook([["单选题"]], header=["题型", "解析"]))


@pytest.mark.parametrize("payload", [b"", b"not a workbook at all", b"PK\x03\x04broken zip",
                                     (SAMPLES / "qti_v21_order.xml").read_bytes()])
def test_not_a_workbook_raises(payload: bytes) -> None:
    with pytest.raises(FormatError, match="not a"):
        read_xlsx(payload)


def test_a_zip_that_is_not_a_workbook_raises() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(FormatError, match="not a readable workbook"):
        read_xlsx(buffer.getvalue())


# -- writing ------------------------------------------------------------------------------------

DRAFTS = [
    ItemDraft("single_choice", "函数 \\(f(x)=x^2+1\\) 的最小值是？",
              {"options": [{"id": "A", "text": "0"}, {"id": "B", "text": "1"}], "correct": "B"},
              explanation="配方。", knowledge_points=[("数学", "函数", "二次函数"), ("数学", "代数")], difficulty=0.85,
              default_points=2.0, tags=["函数", "基础"], source="自编", external_id="Q-001"),
    ItemDraft("multiple_choice", "Which are prime?",
              {"options": [{"id": "A", "text": "2"}, {"id": "B", "text": "4"}, {"id": "C", "text": "5"}],
               "correct": ["A", "C"]}, difficulty=0.42),
    ItemDraft("true_false", "地球是圆的。", {"correct": False}, difficulty=1.0),
    ItemDraft("fill_blank", "首都是 ____，分数 ____。",
              {"blanks": [{"answers": [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0}]},
                          {"answers": [{"text": "1/2", "fraction": 1.0}, {"text": "a|b", "fraction": 1.0}]}]}),
    ItemDraft("numeric", "g = ?", {"answers": [{"value": 9.8, "tolerance": 0.05}], "unit": "m/s^2"}),
    ItemDraft("numeric", "7 × 8 = ?", {"answers": [{"value": 56.0}]}, difficulty=0.6),
    ItemDraft("short_answer", "简述牛顿第一定律。", {"reference_answer": "惯性定律"}),
    ItemDraft("essay", "=HYPERLINK(\"http://evil\") 写一篇作文", {}, default_points=30.0),
]


def test_write_then_read_round_trips() -> None:
    report = read_xlsx(write_xlsx(DRAFTS))
    assert report.counts() == {"imported": len(DRAFTS), "converted": 0, "rejected": 0}
    for before, after in zip(DRAFTS, report.drafts, strict=True):
        assert after.type == before.type
        assert after.stem == before.stem
        assert after.definition == validate_definition(before.type, before.definition)
        for name in ("explanation", "knowledge_points", "difficulty", "default_points", "tags", "source",
                     "external_id"):
            assert getattr(after, name) == getattr(before, name), name


def test_written_stem_starting_with_equals_is_text_not_a_formula() -> None:
    sheet = load_workbook(io.BytesIO(write_xlsx(DRAFTS[-1:]))).worksheets[0]
    cell = sheet["C2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_types_without_a_row_form_are_listed_not_written() -> None:
    matching = ItemDraft("matching", "配对", {"prompts": [{"id": "p", "text": "水"}],
                                              "choices": [{"id": "a", "text": "H2O"}, {"id": "b", "text": "CO2"}],
                                              "correct": {"p": "a"}}, external_id="M-9")
    lossy = ItemDraft("fill_blank", "x ____", {"blanks": [{"answers": [{"text": "a", "fraction": 1.0},
                                                                      {"text": "b", "fraction": 0.5}]}]})
    book = load_workbook(io.BytesIO(write_xlsx([matching, lossy])))
    assert book.sheetnames == ["题目 (Questions)", "导出说明 (Export notes)"]
    notes = [tuple(r) for r in book["导出说明 (Export notes)"].iter_rows(min_row=2, values_only=True)]
    assert notes[0][0] == "M-9" and "未导出 (not exported)" in notes[0][1]
    assert notes[1] == ("#2", "部分得分答案未导出 (partial-credit answers dropped)")
    assert [d.stem for d in read_xlsx(write_xlsx([matching, lossy])).drafts] == ["x ____"]


def test_template_has_headers_and_instructions() -> None:
    data = xlsx_template()
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["题目 (Questions)", "说明 (Instructions)"]
    headers = [c.value for c in book["题目 (Questions)"][1]]
    for name in ("题型 (type)", "题干 (stem)", "选项A (option A)", "选项H (option H)", "答案 (answer)",
                 "解析 (explanation)", "知识点 (knowledge points)", "难度 (difficulty)", "分值 (points)",
                 "标签 (tags)", "来源 (source)", "编号 (id)"):
        assert name in headers
    assert book["题目 (Questions)"].max_row == 1
    instructions = "\n".join(str(c.value) for r in book["说明 (Instructions)"].iter_rows() for c in r if c.value)
    assert "北京/Beijing|上海" in instructions and "blanks separated by |" in instructions
    # the empty template reads as an empty list, and filled in it imports
    assert read_xlsx(data).outcomes == []
    sheet = book["题目 (Questions)"]
    sheet.append([None, "判断题", "水是液体", None, None, None, None, None, None, None, None, "对"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_xlsx(buffer.getvalue()).drafts[0].definition == {"correct": True}
