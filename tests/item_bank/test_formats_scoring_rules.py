"""Exports of items using the scoring rules of issue 8 (pick, ladder, penalty, score_step,
criteria): no exchange format carries them, so every export says which were dropped."""

import io

import pytest
from openpyxl import load_workbook

from item_bank.formats.draft import ItemDraft
from item_bank.formats.qti import read_qti, write_qti
from item_bank.formats.registry import write
from item_bank.formats.xlsx import write_xlsx

OPTIONS = [{"id": i, "text": f"option {i}"} for i in "ABCD"]
LADDER = ItemDraft("multiple_choice", "Which?", {"options": OPTIONS, "correct": ["A", "B", "C"], "pick": 3,
                                                 "partial_credit": "ladder", "ladder": [0.4, 0.4, 1.0]})
PENALTY = ItemDraft("single_choice", "One?", {"options": OPTIONS, "correct": "B", "penalty": "guessing"})
RUBRIC = ItemDraft("essay", "Discuss.", {"score_step": 0.5, "criteria": [{"name": "Content", "max_points": 4}]})
DRAFTS = [LADDER, PENALTY, RUBRIC]
FIELDS = [["pick", "ladder"], ["penalty"], ["score_step", "criteria"]]


@pytest.mark.parametrize(("format_name", "what"), [("moodle_xml", "Moodle XML"), ("gift", "GIFT")])
def test_text_exports_note_each_dropped_rule(format_name: str, what: str) -> None:
    _, notes = write(format_name, DRAFTS)
    expected = [f"item {number}: scoring rule {name} is not part of {what}; dropped"
                for number, fields in enumerate(FIELDS, start=1) for name in fields]
    assert [note for note in notes if "scoring rule" in note] == expected
    assert not any("scoring rule" in note for note in write(format_name, [ItemDraft(
        "single_choice", "One?", {"options": OPTIONS, "correct": "B"})])[1])


def test_xlsx_export_notes_each_dropped_rule() -> None:
    book = load_workbook(io.BytesIO(write_xlsx(DRAFTS)))
    notes = [tuple(r) for r in book["导出说明 (Export notes)"].iter_rows(min_row=2, values_only=True)]
    for number, fields in enumerate(FIELDS, start=1):
        for name in fields:
            assert (f"#{number}", f"评分规则 {name} 未导出 (scoring rule {name} not exported)") in notes


@pytest.mark.parametrize("version", ["3.0", "2.1"])
def test_qti_ladder_item_stays_importable_as_gaokao(version: str) -> None:
    report = read_qti(write_qti([LADDER], version), "ladder.zip")  # type: ignore[arg-type]
    (outcome,) = report.outcomes
    assert outcome.draft is not None, outcome
    assert outcome.draft.definition["partial_credit"] == "gaokao"
    assert outcome.draft.definition["correct"] == ["A", "B", "C"]
