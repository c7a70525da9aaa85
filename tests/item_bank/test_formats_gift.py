"""GIFT: every question type, escapes, categories, round trips and per-question errors with lines."""

from pathlib import Path
from typing import Any

from grading import validate_definition
from item_bank.formats import ItemDraft
from item_bank.formats.gift import read_gift, write_gift

SAMPLES = Path(__file__).parent / "samples"


def bank() -> str:
    return (SAMPLES / "gift_bank.gift").read_text(encoding="utf-8")


def essentials(draft: ItemDraft) -> tuple[Any, ...]:
    return (draft.type, draft.stem, draft.definition, draft.knowledge_points, draft.tags, draft.title)


def test_sample_reads_every_type_with_exact_statuses() -> None:
    report = read_gift(bank())
    assert [(o.identifier, o.status, o.draft.type if o.draft else None) for o in report.outcomes] == [
        ('item 1 "二次函数顶点" (line 5)', "converted", "single_choice"),
        ('item 2 "Prime numbers" (line 12)', "imported", "multiple_choice"),
        ('item 3 "分数化简" (line 19)', "imported", "multiple_choice"),
        ('item 4 "Sun rises east" (line 29)', "imported", "true_false"),
        ('item 5 "Moon" (line 31)', "imported", "true_false"),
        ('item 6 "Capital of China" (line 33)', "converted", "fill_blank"),
        ('item 7 "Free fall" (line 35)', "imported", "numeric"),
        ('item 8 "Range" (line 37)', "imported", "numeric"),
        ('item 9 "Pi" (line 39)', "imported", "numeric"),
        ('item 10 "议论文" (line 45)', "converted", "essay"),
        ('item 11 "Capitals" (line 47)', "imported", "matching"),
        ('item 12 "Escapes" (line 54)', "converted", "fill_blank"),
    ]
    for draft in report.drafts:
        assert validate_definition(draft.type, draft.definition) == draft.definition


def test_fields_escapes_and_conversions() -> None:
    report = read_gift(bank())
    drafts = {d.title: d for d in report.drafts}
    first = drafts["二次函数顶点"]
    assert first.stem == "函数 \\(y = x^2+1\\) 的顶点坐标是？"
    assert (first.explanation, first.external_id, first.tags) == ("顶点为 \\((0, 1)\\)。", "MATH-001", ["函数", "高一"])
    assert first.knowledge_points == [("数学", "函数")]
    assert report.outcomes[0].messages == ["per-answer feedback (#...) was dropped"]
    assert drafts["分数化简"].stem == "下列哪些等于 $$\\frac{a}{b}$$ （\\(a=2, b=4\\)）？"
    assert drafts["Prime numbers"].definition["correct"] == ["A", "B"]
    assert drafts["Moon"].definition == {"correct": False}
    assert drafts["Capital of China"].stem == "中国的首都是 _____ 。"
    assert drafts["Range"].definition["answers"] == [{"value": 3.0, "tolerance": 2.0, "fraction": 1.0}]
    assert [a["fraction"] for a in drafts["Pi"].definition["answers"]] == [1.0, 0.5]
    assert drafts["议论文"].stem == "谈谈你对“终身学习”的理解。" and drafts["议论文"].tags == ["写作"]
    # lettered by text, so the letters do not spell the key (France -> Paris is not simply 1 -> A)
    assert drafts["Capitals"].definition["choices"][0] == {"id": "A", "text": "Madrid"}
    assert drafts["Capitals"].definition["correct"] == {"1": "B", "2": "D", "3": "C"}
    escapes = drafts["Escapes"]
    assert escapes.stem == "Type the characters { } ~ = # : exactly as shown, e.g. a:b."
    assert escapes.definition["blanks"][0]["answers"] == [{"text": "a:b", "fraction": 1.0}]
    assert drafts["Sun rises east"].knowledge_points == [("English", "Grammar")]


def test_round_trip_keeps_every_draft() -> None:
    first = read_gift(bank())
    notes: list[str] = []
    text = write_gift(first.drafts, notes)
    assert notes == []
    second = read_gift(text)
    assert [essentials(d) for d in second.drafts] == [essentials(d) for d in first.drafts]
    assert second.drafts == first.drafts
    assert write_gift(second.drafts) == text
    assert "$$\\frac\\{a\\}\\{b\\}$$" in text and "$CATEGORY: $course$/top/English/Grammar" in text


def test_malformed_questions_name_their_line_and_the_rest_import() -> None:
    report = read_gift((SAMPLES / "gift_malformed.gift").read_text(encoding="utf-8"))
    assert [(o.status, o.messages) for o in report.outcomes] == [
        ("imported", []),
        ("rejected", ["item 2 \"Unclosed\" (line 4): line 4: '{' is never closed"]),
        ("rejected", ['item 3 "No answer" (line 6): line 6: no answer block {...} (write {} for an essay)']),
        ("rejected", ["item 4 \"Stray close\" (line 8): line 8: '}' without a matching '{'"]),
        ("rejected", ["item 5 \"Bad number\" (line 10): numeric answer 'twelve:0.1' is not a number, "
                      "number:tolerance or min..max"]),
        ("rejected", ['item 6 "No correct" (line 12): no option has a positive grade, so there is no correct answer']),
        ("converted", ["GIFT short answer imported as fill_blank with one blank"]),
    ]
    assert report.counts() == {"imported": 1, "converted": 1, "rejected": 5}


def test_multiline_errors_point_at_the_brace_line() -> None:
    text = "// header\n::A::First line\nsecond line {\n=a\n=b {\n}\n\n::B::ok {T}\n"
    bad, good = read_gift(text).outcomes
    assert bad.messages == ["item 1 \"A\" (line 2): line 5: '{' is never closed"]
    second = read_gift("Q {=a} and {=b}\n").outcomes[0]
    assert second.messages == ["item 1 (line 1): line 1: unbalanced braces or a second answer block"]
    assert good.status == "imported" and good.identifier == 'item 2 "B" (line 8)'


def test_markers_weights_and_missing_word() -> None:
    text = ("[markdown]Some **bold** question {=yes ~no}\n\n"
            "Single with partial {=best ~%50%good ~bad}\n\n"
            "The {~cat =dog ~bird} barks.\n\n"
            "::Matching with feedback::Pair {=1 -> one =2 -> two #nice}\n\n"
            "$CATEGORY: $course$/top\n\n"
            "No title {}\n")
    outcomes = read_gift(text).outcomes
    assert [o.status for o in outcomes] == ["converted", "converted", "imported", "imported", "imported"]
    assert outcomes[0].messages == ["[markdown] text kept as plain text"]
    assert outcomes[1].draft is not None and outcomes[1].draft.type == "multiple_choice"
    assert outcomes[1].draft.definition["correct"] == ["A", "B"]
    assert outcomes[2].draft is not None and outcomes[2].draft.stem == "The _____ barks."
    assert outcomes[3].draft is not None and outcomes[3].draft.definition["choices"][1]["text"] == "two #nice"
    assert outcomes[4].draft is not None and outcomes[4].draft.knowledge_points == []
    assert outcomes[4].identifier == "item 5 (line 11)"


def test_export_skips_what_gift_cannot_hold() -> None:
    drafts = [
        ItemDraft("ordering", "Order", {"items": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}],
                                        "correct_order": ["a", "b"]}),
        ItemDraft("inline_choice", "Pick [[1]]", {"gaps": [{"options": [{"id": "A", "text": "x"},
                                                                        {"id": "B", "text": "y"}], "correct": "A"}]}),
        ItemDraft("fill_blank", "[[1]] and [[2]]", {"blanks": [{"answers": [{"text": "a", "fraction": 1.0}]},
                                                               {"answers": [{"text": "b", "fraction": 1.0}]}]},
                  title="Two"),
        ItemDraft("numeric", "g?", {"answers": [{"value": 9.8, "tolerance": 0.1}], "unit": "m/s²"}),
        ItemDraft("short_answer", "Why?", {"rubric": "be clear"}),
    ]
    notes: list[str] = []
    text = write_gift(drafts, notes)
    assert notes == [
        "item 1: skipped: GIFT has no ordering question",
        "item 2: skipped: GIFT has no inline_choice question",
        'item 3 "Two": skipped: a GIFT question has one answer block; this fill_blank has several blanks',
        "item 4: GIFT has no units; unit 'm/s²' dropped",
        "item 5: short_answer written as a GIFT essay {}",
        "item 5: reference answer, rubric and max_chars have no place in GIFT",
    ]
    back = read_gift(text).drafts
    assert [(d.type, d.definition) for d in back] == [
        ("numeric", {"answers": [{"value": 9.8, "tolerance": 0.1, "fraction": 1.0}]}), ("essay", {})]
