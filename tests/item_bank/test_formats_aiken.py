"""Aiken: single choice, multi-line stems, Chinese full-width variants, per-block errors."""

from pathlib import Path

from grading import validate_definition
from item_bank.formats import ItemDraft
from item_bank.formats.aiken import read_aiken, write_aiken

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_sample_imports_with_formulas_and_multiline_stems() -> None:
    report = read_aiken(sample("aiken_bank.txt"))
    assert report.format == "aiken"
    assert [(o.identifier, o.status) for o in report.outcomes] == [
        ("item 1 (line 1)", "imported"), ("item 2 (line 8)", "imported"), ("item 3 (line 15)", "imported")]
    mars, minimum, fraction = report.drafts
    assert mars.definition["correct"] == "B" and mars.definition["options"][1] == {"id": "B", "text": "Mars"}
    assert minimum.stem == "函数 \\(y = x^2+1\\) 的最小值是？"  # "A)" options too
    assert fraction.stem == "下列哪个等于 $$\\frac{a}{b}$$，其中 a=1, b=2？\nChoose one."
    for draft in report.drafts:
        assert draft.type == "single_choice"
        assert validate_definition(draft.type, draft.definition) == draft.definition


def test_round_trip() -> None:
    for name in ("aiken_bank.txt", "aiken_fullwidth.txt"):
        first = read_aiken(sample(name))
        second = read_aiken(write_aiken(first.drafts))
        assert [(d.type, d.stem, d.definition, d.knowledge_points, d.tags, d.title) for d in second.drafts] == [
            (d.type, d.stem, d.definition, d.knowledge_points, d.tags, d.title) for d in first.drafts]
        assert all(o.status == "imported" for o in second.outcomes)


def test_full_width_variant_is_converted_with_a_note() -> None:
    report = read_aiken(sample("aiken_fullwidth.txt"))
    assert [(o.status, o.messages) for o in report.outcomes] == [
        ("converted", ["Chinese full-width punctuation (A．/答案：) read as Aiken"])] * 2
    capital, even = report.drafts
    assert capital.definition == {"options": [{"id": "A", "text": "上海"}, {"id": "B", "text": "北京"},
                                              {"id": "C", "text": "广州"}], "correct": "B"}
    assert even.definition["correct"] == "B" and [o["id"] for o in even.definition["options"]] == ["A", "B"]


def test_bad_blocks_are_rejected_naming_their_lines() -> None:
    report = read_aiken(sample("aiken_malformed.txt"))
    assert [(o.status, o.messages) for o in report.outcomes] == [
        ("imported", []),
        ("rejected", ["item 2 (line 6): no ANSWER line after the question and its options"]),
        ("rejected", ["item 3 (line 10): line 13: answer 'E' is not one of the options (A, B)"]),
        ("imported", []),
    ]
    assert report.drafts[1].stem == "The last one is fine."


def test_edge_blocks() -> None:
    text = "ANSWER: A\n\nOnly one option?\nA. yes\nANSWER: A\n\nTrailing question\nA. a\nB. b\n"
    outcomes = read_aiken(text).outcomes
    assert [o.status for o in outcomes] == ["rejected"] * 3
    assert outcomes[0].messages == ["item 1 (line 1): ANSWER line without a question before it"]
    assert outcomes[1].messages[0].startswith("item 2 (line 3): definition.options")
    assert outcomes[2].messages == ["item 3 (line 7): no ANSWER line after the question and its options"]


def test_writer_skips_other_types() -> None:
    drafts = [ItemDraft("true_false", "Sky is blue", {"correct": True}),
              ItemDraft("single_choice", "Pick", {"options": [{"id": "x", "text": "one\ntwo"},
                                                              {"id": "y", "text": "three"}], "correct": "y"})]
    notes: list[str] = []
    text = write_aiken(drafts, notes)
    assert text == "Pick\nA. one two\nB. three\nANSWER: B\n"
    assert notes == ["item 1: skipped: Aiken holds only single_choice, not true_false",
                     "item 2: line breaks inside options became spaces"]
