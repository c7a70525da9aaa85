"""The paper PDF: numbered items with their options, sections with points, blanks, formulas,
pictures, page numbers; the teacher's copy with keys; A3 in two landscape columns."""

import io
from typing import Any

from pdf_checks import embedded_fonts, images_on, photo_png, reader, text

from exam_server.printing import fonts
from exam_server.printing.paper_pdf import ItemKey, PaperPrint, render_paper
from item_bank.variants import variant_view

PNG = photo_png(120, 80)
OPTIONS = [{"id": "o1", "text": "一"}, {"id": "o2", "text": "二"}, {"id": "o3", "text": "三"}]


def _view(extra: int = 0) -> dict[str, Any]:
    choice = [
        {"slot_id": 1, "points": 2, "type": "single_choice",
         "stem": "1+1 等于几？ 已知 $x^2 = 4$ ![图一](media:fig.png)",
         "media": [{"name": "fig.png", "sha256": "sha-fig"}], "content": {"options": OPTIONS}},
        {"slot_id": 2, "points": 4, "type": "multiple_choice", "stem": "哪些是质数 Which are primes?",
         "content": {"options": [{"id": "m1", "text": "2"}, {"id": "m2", "text": "4"}, {"id": "m3", "text": "5"}]}},
        {"slot_id": 3, "points": 1, "type": "true_false", "stem": "地球是圆的 <round> & more", "content": {}},
    ]
    choice += [{"slot_id": 100 + i, "points": 1, "type": "single_choice", "stem": f"补充题 extra {i} " * 8,
                "content": {"options": OPTIONS}} for i in range(extra)]
    other = [
        {"slot_id": 4, "points": 3, "type": "fill_blank", "stem": "中国的首都是 [[1]]，最大的城市是 [[2]]。",
         "content": {"blanks": 2}},
        {"slot_id": 5, "points": 10, "type": "essay", "stem": "写一段话 Write a paragraph.", "content": {}},
    ]
    return {"paper_id": 1, "title": "P", "sections": [{"title": "选择题", "slots": choice},
                                                       {"title": "非选择题", "slots": other}]}


KEYS = {1: ItemKey("single_choice", {"correct": "o2"}, "因为 1+1=2"),
        2: ItemKey("multiple_choice", {"correct": ["m1", "m3"]}),
        3: ItemKey("true_false", {"correct": True}),
        4: ItemKey("fill_blank", {"blanks": [{"answers": [{"text": "北京", "fraction": 1.0}]},
                                             {"answers": [{"text": "上海", "fraction": 1.0}]}]}),
        5: ItemKey("essay", {"reference_answer": "REFERENCE-ANSWER-TEXT", "rubric": "RUBRIC-TEXT"})}


def _pdf(**kwargs: Any) -> bytes:
    out = io.BytesIO()
    args: dict[str, Any] = {"title": "2026 春季期中考试", "view": _view(), "form": "A",
                            "media": lambda sha: PNG if sha == "sha-fig" else None}
    args.update(kwargs)
    render_paper(PaperPrint(**args), out, fonts.cjk_font())
    return out.getvalue()


def test_the_student_copy_shows_numbered_items_options_sections_and_no_keys() -> None:
    pdf = _pdf()
    shown = text(pdf)
    for words in ("2026 春季期中考试", "一、选择题", "二、非选择题", "（共 3 题，7 分）", "1.（2分）1+1 等于几？",
                  "A. 一", "B. 二", "C. 三", "2.（4分）哪些是质数", "3.（1分）地球是圆的 <round> & more",
                  "4.（3分）中国的首都是", "(1)", "(2)", "5.（10分）写一段话", "第 1 页 / 共 1 页", "A 卷"):
        assert words in shown, words
    for secret in ("答案", "Key", "REFERENCE-ANSWER-TEXT", "RUBRIC-TEXT", "北京", "因为"):
        assert secret not in shown
    assert "x^2" not in shown, "the formula is typeset, not printed as its source"
    assert any(embedded for _, embedded in embedded_fonts(pdf)), "the CJK font is embedded"
    assert len(images_on(pdf, 0)) == 2, "the picture from the media store and the typeset formula"


def test_the_teachers_copy_shows_keys_reference_answers_and_explanations() -> None:
    shown = text(_pdf(keys=KEYS))
    for words in ("教师用卷", "答案 Key: B", "答案 Key: A C", "答案 Key: 对 True", "答案 Key (1): 北京",
                  "答案 Key (2): 上海", "参考答案 Reference answer: REFERENCE-ANSWER-TEXT",
                  "评分标准 Rubric: RUBRIC-TEXT",
                  "解析 Explanation: 因为 1+1=2"):
        assert words in shown, words


def test_a_variant_prints_the_candidates_order_and_labels_and_the_key_follows_them() -> None:
    base = _view(extra=4)
    for seed in range(50):
        variant = variant_view(base, seed, shuffle_items=True, shuffle_options=True)
        first = variant["sections"][0]["slots"][0]
        if first["slot_id"] != 1 and variant["sections"][0]["slots"][1]["slot_id"] == 1:
            break
    shown = text(_pdf(view=variant, keys=KEYS, candidate="张三 2026001"))
    assert "张三 2026001" in shown
    slot1 = variant["sections"][0]["slots"][1]
    assert "2.（2分）1+1 等于几？" in shown, "the item is numbered in the variant's order"
    label = next(o["label"] for o in slot1["content"]["options"] if o["id"] == "o2")
    assert f"答案 Key: {label}" in shown


def test_a3_is_landscape_in_two_columns_with_page_numbers_over_several_pages() -> None:
    pdf = _pdf(view=_view(extra=60), size="A3")
    pages = reader(pdf).pages
    assert float(pages[0].mediabox.width) > float(pages[0].mediabox.height)
    assert len(pages) >= 2
    shown = text(pdf)
    assert f"第 2 页 / 共 {len(pages)} 页" in shown
    a4 = reader(_pdf(view=_view(extra=60))).pages
    assert len(a4) > len(pages), "two columns hold more per page"


def test_a_missing_picture_prints_its_name() -> None:
    shown = text(_pdf(media=lambda sha: None))
    assert "missing picture: 图一" in shown


def test_a_formula_mathtext_cannot_typeset_prints_as_its_source() -> None:
    from exam_server.printing import formulas
    from exam_server.printing.paper_pdf import rich

    assert formulas.render(r"\frac{1}{2} + \sqrt{x}") is not None
    assert formulas.render(r"\frac{1}{") is None
    assert "Courier" in rich(r"an unfinished $\frac{1}{$ formula")
    assert "<img" in rich(r"a half: $\frac{1}{2}$")
