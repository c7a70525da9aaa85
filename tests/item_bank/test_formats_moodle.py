"""Moodle XML: every supported question type, round trips, per-item rejections, unsafe files."""

from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from grading import validate_definition
from item_bank.formats import FormatError, ItemDraft, MediaFile
from item_bank.formats.moodle_xml import read_moodle_xml, write_moodle_xml

SAMPLES = Path(__file__).parent / "samples"


def bank() -> bytes:
    return (SAMPLES / "moodle_bank.xml").read_bytes()


def essentials(draft: ItemDraft) -> tuple[Any, ...]:
    return (draft.type, draft.stem, draft.definition, draft.knowledge_points, draft.tags, draft.title)


def test_sample_reads_every_type_with_exact_statuses() -> None:
    report = read_moodle_xml(bank())
    assert report.format == "moodle_xml"
    assert [(o.identifier, o.status, o.draft.type if o.draft else None) for o in report.outcomes] == [
        ('question 1 "二次函数顶点"', "imported", "single_choice"),
        ('question 2 "Prime numbers"', "imported", "multiple_choice"),
        ('question 3 "分数化简"', "imported", "multiple_choice"),
        ('question 4 "Sun rises east"', "imported", "true_false"),
        ('question 5 "Capital of China"', "converted", "fill_blank"),
        ('question 6 "Free fall"', "imported", "numeric"),
        ('question 7 "议论文"', "imported", "essay"),
        ('question 8 "Capitals"', "imported", "matching"),
        ('question 9 "Verb forms"', "imported", "inline_choice"),
        ('question 10 "化学式"', "converted", "inline_choice"),
        ('question 11 "Cloze capitals"', "converted", "fill_blank"),
        ('question 12 "完形选择"', "converted", "inline_choice"),
    ]
    assert report.counts() == {"imported": 8, "converted": 4, "rejected": 0}
    for draft in report.drafts:
        assert validate_definition(draft.type, draft.definition) == draft.definition


def test_common_fields_image_and_formulas() -> None:
    first, primes, fractions, *rest = read_moodle_xml(bank()).drafts
    assert first.stem == "函数 \\(y = x^2+1\\) 的图像如下：\n![抛物线](media:parabola.png)\n其顶点坐标是？"
    assert first.media == [MediaFile("parabola.png", "image/png", first.media[0].data)]
    assert first.media[0].data.startswith(b"\x89PNG")
    assert first.definition["options"][0] == {"id": "A", "text": "\\((0, 1)\\)"}
    assert (first.title, first.explanation, first.external_id, first.default_points) == (
        "二次函数顶点", "顶点为 \\((0, 1)\\)。", "MATH-001", 2.0)
    assert (first.knowledge_points, first.tags) == ([("数学", "函数")], ["函数", "高一"])
    assert "$$\\frac{a}{b}$$" in fractions.stem
    assert primes.definition["partial_credit"] == "gaokao"  # right 50/50, wrong -100
    assert fractions.definition["partial_credit"] == "proportional"  # wrong -100/(n-k)
    assert rest[0].knowledge_points == [("English", "Grammar")]


def test_type_specific_mappings() -> None:
    drafts = {d.title: d for d in read_moodle_xml(bank()).drafts}
    assert drafts["Capital of China"].definition["blanks"][0]["answers"][2] == {"text": "Peking*", "fraction": 0.5}
    assert drafts["Free fall"].definition == {
        "answers": [{"value": 19.6, "tolerance": 0.1, "fraction": 1.0}, {"value": 20.0, "tolerance": 1.0,
                                                                           "fraction": 0.5}], "unit": "m"}
    assert drafts["议论文"].definition == {"reference_answer": "学习不止于学校。",
                                         "rubric": "观点明确 4 分，论证充分 6 分。"}
    matching = drafts["Capitals"].definition
    # choices are lettered by their text (Madrid, Paris, Rome, 东京), not by the prompts they answer
    assert matching["correct"] == {"1": "B", "2": "D", "3": "C"} and matching["choices"][0]["text"] == "Madrid"
    assert drafts["Verb forms"].stem == "She [[1]] to school every day and [[2]] lunch at noon."
    assert [g["correct"] for g in drafts["Verb forms"].definition["gaps"]] == ["B", "B"]
    cloze = drafts["Cloze capitals"]
    assert cloze.stem == "The capital of France is [[1]] and of Japan is [[2]]."
    assert [b["case_sensitive"] for b in cloze.definition["blanks"]] == [False, True]
    assert [g["correct"] for g in drafts["完形选择"].definition["gaps"]] == ["A", "B"]
    assert [o["text"] for o in drafts["完形选择"].definition["gaps"][1]["options"]] == ["is", "are"]


def test_round_trip_keeps_every_draft() -> None:
    first = read_moodle_xml(bank())
    notes: list[str] = []
    data = write_moodle_xml(first.drafts, notes)
    assert notes == []
    second = read_moodle_xml(data)
    assert [essentials(d) for d in second.drafts] == [essentials(d) for d in first.drafts]
    assert second.drafts == first.drafts  # explanation, points, ids and media too
    assert b'encoding="base64"' in data and b"$course$/top/" in data
    assert write_moodle_xml(second.drafts) == data


def test_export_skips_ordering_and_notes_losses() -> None:
    drafts = [
        ItemDraft("ordering", "Order these", {"items": [{"id": "a", "text": "1"}, {"id": "b", "text": "2"}],
                                              "correct_order": ["a", "b"]}, title="Sort"),
        ItemDraft("short_answer", "Explain photosynthesis.", {"reference_answer": "Light to sugar"},
                  knowledge_points=[("生物",), ("化学",)]),
        ItemDraft("fill_blank", "H [[2]] O and [[1]]",
                  {"blanks": [{"answers": [{"text": "x", "fraction": 1.0}]},
                              {"answers": [{"text": "2", "fraction": 1.0}]},
                              {"answers": [{"text": "z~}", "fraction": 1.0}], "case_sensitive": True}]}),
        ItemDraft("inline_choice", "Pick [[1]]", {"gaps": [{"options": [{"id": "x", "text": "a"},
                                                                        {"id": "y", "text": "b"}], "correct": "y"}]}),
    ]
    notes: list[str] = []
    data = write_moodle_xml(drafts, notes)
    assert notes == [
        'item 1 "Sort": skipped: Moodle has no core question type for ordering',
        "item 2: only the first knowledge point is kept (as the Moodle XML category)",
        "item 2: short_answer (manually graded) written as a Moodle essay",
        "item 3: blanks without a [[n]] marker in the stem were appended to its end",
    ]
    fromstring(data)
    back = read_moodle_xml(data)
    assert [o.status for o in back.outcomes] == ["imported", "converted", "imported"]
    essay, cloze, inline = back.drafts
    assert (essay.type, essay.definition, essay.knowledge_points) == (
        "essay", {"reference_answer": "Light to sugar"}, [("生物",)])
    assert cloze.stem == "H [[1]] O and [[2]] [[3]]"
    assert [b["answers"][0]["text"] for b in cloze.definition["blanks"]] == ["2", "x", "z~}"]
    assert inline.definition["gaps"][0]["correct"] == "B"


def test_malformed_items_are_rejected_one_by_one() -> None:
    report = read_moodle_xml((SAMPLES / "moodle_malformed.xml").read_bytes())
    assert [(o.status, o.messages) for o in report.outcomes if o.status == "rejected"] == [
        ("rejected", ["question 2 \"Instructions\": a Moodle 'description' is not a question"]),
        ("rejected", ["question 3 \"Area formula\": Moodle question type 'calculated' is not supported"]),
        ("rejected", ['question 4 "No correct option": no option has a positive grade, so there is no correct answer']),
        ("rejected", ['question 5 "Mixed cloze": Cloze gap types NUMERICAL, SA: only all-short-answer (fill_blank) '
                      "or all-multichoice (inline_choice) Cloze questions can be imported"]),
        ("rejected", ['question 6 "Only partial": definition.blanks[0].answers: at least one answer must have '
                      "fraction 1.0"]),
        ("rejected", ['question 7 "Lonely group": gap [[1]]: its group has 1 choice(s); a drop-down needs 2..26']),
    ]
    assert [o.status for o in report.outcomes] == ["imported"] + ["rejected"] * 6 + ["converted", "imported"]
    partial = report.outcomes[7]
    assert partial.draft is not None and partial.draft.definition["correct"] == ["A", "B"]
    assert partial.messages[0] == "single-answer question with 2 graded options became multiple_choice"
    assert report.outcomes[8].draft is not None and report.outcomes[8].draft.stem == "\\(\\sqrt{16}\\) = ?"


def quiz(body: str) -> bytes:
    return f'<?xml version="1.0"?><quiz>{body}</quiz>'.encode()


MC = ('<question type="multichoice"><name><text>q</text></name><questiontext format="plain_text"><text>Q</text>'
      "</questiontext><single>{single}</single>{answers}</question>")


@pytest.mark.parametrize(
    ("single", "fractions", "status", "item_type", "rule"),
    [
        ("true", [100, 0, 0], "imported", "single_choice", None),
        ("true", [100, -25, 0], "converted", "single_choice", None),
        ("false", [50, 50, 0, 0], "converted", "multiple_choice", "proportional"),
        ("false", [50, 50, -50, -50], "imported", "multiple_choice", "proportional"),
        ("false", [60, 40, -100], "converted", "multiple_choice", "proportional"),
        ("false", [100, -100], "imported", "multiple_choice", "gaokao"),
    ],
)
def test_multichoice_grade_shapes(single: str, fractions: list[int], status: str, item_type: str,
                                  rule: str | None) -> None:
    answers = "".join(f'<answer fraction="{f}" format="plain_text"><text>o{i}</text></answer>'
                      for i, f in enumerate(fractions))
    outcome = read_moodle_xml(quiz(MC.format(single=single, answers=answers))).outcomes[0]
    assert outcome.status == status and outcome.draft is not None
    assert outcome.draft.type == item_type
    assert outcome.draft.definition.get("partial_credit") == rule


def test_category_paths_and_bad_embedded_file() -> None:
    data = quiz('<question type="category"><category><text>$course$/top/A//B/C</text></category></question>'
                '<question type="truefalse"><name><text>t</text></name><questiontext format="html"><text>x</text>'
                '<file name="a.png" encoding="base64">***</file></questiontext>'
                '<answer fraction="100"><text>false</text></answer></question>'
                '<question type="truefalse"><name><text>u</text></name><questiontext><text>y</text></questiontext>'
                '<answer fraction="100"><text>false</text></answer></question>')
    bad, good = read_moodle_xml(data).outcomes
    assert bad.status == "rejected"
    assert bad.messages == ["question 1 \"t\": embedded file 'a.png' is not valid base64"]
    assert good.draft is not None and good.draft.knowledge_points == [("A/B", "C")]
    assert good.draft.definition == {"correct": False}


def test_entity_bomb_and_dtd_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<quiz>&lol2;</quiz>")
    with pytest.raises(FormatError, match="unsafe XML"):
        read_moodle_xml(bomb)
    external = b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>'
    with pytest.raises(FormatError, match="unsafe XML"):
        read_moodle_xml(external)


def test_not_xml_names_the_position() -> None:
    with pytest.raises(FormatError, match=r"not well-formed XML at line 2, column \d+"):
        read_moodle_xml(b"<quiz>\n<question type='truefalse'></quiz>")
    with pytest.raises(FormatError, match="line 1, column 0"):
        read_moodle_xml(b"::title:: GIFT text {T}")
    with pytest.raises(FormatError, match="expected <quiz>"):
        read_moodle_xml(b"<html><body/></html>")
