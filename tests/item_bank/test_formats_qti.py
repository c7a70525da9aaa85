"""IMS QTI 3.0 / 2.1: reading sample items and packages, round trips, rejections, unsafe input."""

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grading import validate_definition
from item_bank.formats.draft import FormatError, ItemDraft, MediaFile
from item_bank.formats.qti import read_qti, write_qti

SAMPLES = Path(__file__).parent / "samples"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def only(data: bytes, filename: str = "") -> Any:
    report = read_qti(data, filename)
    assert report.format == "qti"
    assert len(report.outcomes) == 1
    return report.outcomes[0]


def roundtrip(draft: ItemDraft, version: str) -> Any:
    report = read_qti(write_qti([draft], version), "roundtrip.zip")  # type: ignore[arg-type]
    assert len(report.outcomes) == 1
    return report.outcomes[0]


def assert_same(before: ItemDraft, after: ItemDraft | None) -> None:
    assert after is not None
    assert after.type == before.type
    assert after.stem == before.stem
    assert after.definition == validate_definition(before.type, before.definition)


# -- samples: what each interaction becomes ----------------------------------------------------

EXPECTED = {
    "qti_v3_choice_zh.xml": ("single_choice", {"correct": "B"}),
    "qti_v21_choice_multiple.xml": ("multiple_choice", {"correct": ["ChoiceA", "ChoiceC"],
                                                        "partial_credit": "all_or_nothing"}),
    "qti_v21_true_false.xml": ("true_false", {"correct": False}),
    "qti_v21_yes_no.xml": ("single_choice", {"correct": "Y"}),
    "qti_v3_text_entry_blanks.xml": ("fill_blank", {}),
    "qti_v21_text_entry.xml": ("fill_blank", {}),
    "qti_v3_numeric.xml": ("numeric", {"answers": [{"value": 9.8, "tolerance": 0.0, "fraction": 1.0}]}),
    "qti_v21_numeric.xml": ("numeric", {"answers": [{"value": 314.0, "tolerance": 0.0, "fraction": 1.0}]}),
    "qti_v3_inline_choice.xml": ("inline_choice", {}),
    "qti_v21_inline_choice.xml": ("inline_choice", {}),
    "qti_v3_match.xml": ("matching", {"correct": {"water": "H2O", "salt": "NaCl"}, "partial_credit": "per_pair"}),
    "qti_v21_match.xml": ("matching", {"correct": {"A1": "B2", "A2": "B1"}, "partial_credit": "all_or_nothing"}),
    "qti_v3_order.xml": ("ordering", {"correct_order": ["qin", "han", "tang", "song"],
                                      "partial_credit": "all_or_nothing"}),
    "qti_v21_order.xml": ("ordering", {"correct_order": ["Mercury", "Venus", "Earth"]}),
    "qti_v3_extended_text.xml": ("essay", {"rubric": "内容 20 分，语言 20 分，结构 10 分。"}),
    "qti_v21_extended_text.xml": ("essay", {"reference_answer": "An object stays at rest or in uniform motion "
                                                                "unless acted on by a net force."}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_reads_as_expected_type(name: str) -> None:
    item_type, expected = EXPECTED[name]
    outcome = only(sample(name), name)
    assert outcome.status in ("imported", "converted"), outcome.messages
    assert outcome.draft.type == item_type
    for key, value in expected.items():
        assert outcome.draft.definition[key] == value
    assert outcome.draft.definition == validate_definition(item_type, outcome.draft.definition)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("version", ["3.0", "2.1"])
def test_sample_round_trips(name: str, version: str) -> None:
    first = only(sample(name), name).draft
    again = roundtrip(first, version)
    # The lone choice_zh file came without its image; the package still lacks it and says so.
    assert again.status == "imported" or all("not in the package" in m for m in again.messages), again.messages
    assert_same(first, again.draft)
    assert again.draft.explanation == first.explanation
    assert again.draft.default_points == first.default_points


def test_single_choice_stem_keeps_formula_prompt_image_and_feedback() -> None:
    outcome = only(sample("qti_v3_choice_zh.xml"), "qti_v3_choice_zh.xml")
    draft = outcome.draft
    assert draft.stem == "函数 \\(f(x)=x^2+1\\) 的图像如下：\n![抛物线](media:parabola.png)\n\\(f(x)\\) 的最小值是（ ）"
    assert [o["text"] for o in draft.definition["options"]] == ["0", "1", "2", "不存在"]
    assert draft.explanation == "因为 \\(x^2\\ge 0\\)，所以 \\(f(x)\\ge 1\\)，当 \\(x=0\\) 时取到。"
    assert draft.default_points == 3.0
    assert (draft.title, draft.external_id) == ("二次函数最小值", "math-quad-001")
    # A lone item file carries no images: kept as a reference, reported.
    assert outcome.status == "converted"
    assert "parabola.png" in outcome.messages[0] and "package" in outcome.messages[0]


def test_text_entry_blanks_mapping_and_custom_processing() -> None:
    outcome = only(sample("qti_v3_text_entry_blanks.xml"))
    assert outcome.status == "converted"
    assert outcome.messages == ["custom response processing: the key was taken from correctResponse"]
    assert outcome.draft.stem == "The capital of China is [[1]], and the capital of France is [[2]]."
    first, second = outcome.draft.definition["blanks"]
    assert first["answers"] == [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0},
                                {"text": "Peking", "fraction": 0.5}]
    assert first["case_sensitive"] is False
    # Only a correctResponse: QTI compares strings exactly.
    assert second == {"answers": [{"text": "Paris", "fraction": 1.0}], "case_sensitive": True}


def test_mapping_values_are_scaled_to_fractions() -> None:
    draft = only(sample("qti_v21_text_entry.xml")).draft
    assert draft.stem == "床前[[1]]，疑是地上霜。"
    assert draft.definition["blanks"][0]["answers"] == [{"text": "明月光", "fraction": 1.0},
                                                        {"text": "明月光。", "fraction": 1.0}]


def test_inline_gaps_are_shown_in_the_stem() -> None:
    assert only(sample("qti_v3_inline_choice.xml")).draft.stem == "She [[1]] eating [[2]] apple."
    stem = only(sample("qti_v21_inline_choice.xml")).draft.stem
    assert stem.endswith("Now is the winter of our discontent\nMade glorious summer by this sun of [[1]];")


def test_match_drops_subscript_formatting_with_a_note() -> None:
    outcome = only(sample("qti_v3_match.xml"))
    assert outcome.status == "converted"
    assert "formatting" in outcome.messages[0]
    assert [c["text"] for c in outcome.draft.definition["choices"]] == ["H2O", "NaCl", "CO2"]


# -- rejected -----------------------------------------------------------------------------------


def test_mixed_interactions_rejected_naming_the_kinds() -> None:
    outcome = only(sample("qti_v3_mixed.xml"))
    assert outcome.status == "rejected" and outcome.draft is None
    assert outcome.messages == ["mixed interaction kinds in one item: qti-choice-interaction, "
                                "qti-text-entry-interaction"]


def test_unsupported_interaction_rejected_naming_it() -> None:
    outcome = only(sample("qti_v21_hotspot.xml"))
    assert outcome.status == "rejected"
    assert outcome.messages == ["unsupported interaction: hotspotInteraction"]


@pytest.mark.parametrize("interaction", ["qti-upload-interaction", "qti-drawing-interaction",
                                         "qti-slider-interaction", "qti-graphic-order-interaction"])
def test_other_unsupported_interactions(interaction: str) -> None:
    xml = (f'<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">'
           f'<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="file"/>'
           f'<qti-item-body><p>Do it.</p><{interaction} response-identifier="RESPONSE"/></qti-item-body>'
           f'</qti-assessment-item>')
    outcome = only(xml.encode())
    assert outcome.status == "rejected"
    assert interaction in outcome.messages[0]


def test_two_choice_interactions_rejected() -> None:
    xml = b"""<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="two" title="t">
      <responseDeclaration identifier="R1" cardinality="single" baseType="identifier">
        <correctResponse><value>A</value></correctResponse></responseDeclaration>
      <responseDeclaration identifier="R2" cardinality="single" baseType="identifier">
        <correctResponse><value>A</value></correctResponse></responseDeclaration>
      <itemBody>
        <choiceInteraction responseIdentifier="R1" maxChoices="1">
          <simpleChoice identifier="A">a</simpleChoice><simpleChoice identifier="B">b</simpleChoice>
        </choiceInteraction>
        <choiceInteraction responseIdentifier="R2" maxChoices="1">
          <simpleChoice identifier="A">a</simpleChoice><simpleChoice identifier="B">b</simpleChoice>
        </choiceInteraction>
      </itemBody></assessmentItem>"""
    outcome = only(xml)
    assert outcome.status == "rejected"
    assert "2 choiceInteractions in one item" in outcome.messages[0]


def test_no_correct_response_rejected() -> None:
    xml = sample("qti_v21_true_false.xml").replace(b"<correctResponse><value>false</value></correctResponse>", b"")
    outcome = only(xml)
    assert outcome.status == "rejected"
    assert "no correct response" in outcome.messages[0]


def test_key_that_is_not_an_option_rejected_by_the_registry() -> None:
    xml = sample("qti_v21_yes_no.xml").replace(b"<value>Y</value>", b"<value>Maybe</value>")
    outcome = only(xml)
    assert outcome.status == "rejected"
    assert "'Maybe' is not an option id" in outcome.messages[0]


def test_missing_response_processing_is_converted_with_a_note() -> None:
    xml = sample("qti_v21_order.xml").replace(
        b'<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>', b"")
    outcome = only(xml)
    assert outcome.status == "converted"
    assert outcome.messages == ["no response processing: the key was taken from correctResponse"]
    assert outcome.draft.definition["partial_credit"] == "position"


# -- packages -----------------------------------------------------------------------------------


def build_package(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_package_with_manifest_media_and_metadata() -> None:
    package = build_package({
        "imsmanifest.xml": sample("qti_v3_imsmanifest.xml"),
        "items/qti_v3_choice_zh.xml": sample("qti_v3_choice_zh.xml"),
        "items/qti_v3_text_entry_blanks.xml": sample("qti_v3_text_entry_blanks.xml"),
        "items/qti_v21_hotspot.xml": sample("qti_v21_hotspot.xml"),
        "items/images/parabola.png": PNG,
    })
    report = read_qti(package, "math.zip")
    assert report.counts() == {"imported": 1, "converted": 1, "rejected": 2}
    quad, capitals, hotspot, missing = report.outcomes
    assert quad.status == "imported", quad.messages
    assert quad.identifier == "math-quad-001 (items/qti_v3_choice_zh.xml)"
    assert quad.draft.media == [MediaFile("parabola.png", "image/png", PNG)]
    assert "![抛物线](media:parabola.png)" in quad.draft.stem
    assert quad.draft.tags == ["函数", "期中"]
    assert quad.draft.knowledge_points == [("数学", "函数", "二次函数")]
    assert capitals.status == "converted"
    assert hotspot.messages == ["unsupported interaction: hotspotInteraction"]
    assert missing.messages == ["items/missing.xml: listed in imsmanifest.xml but not in the package"]


def test_package_without_manifest_reads_every_item_file() -> None:
    package = build_package({"a.xml": sample("qti_v21_order.xml"), "b.xml": sample("qti_v3_order.xml")})
    assert [o.draft.type for o in read_qti(package).outcomes] == ["ordering", "ordering"]


def test_unsafe_item_inside_a_package_is_rejected_not_fatal() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><assessmentItem>&a;</assessmentItem>'
    package = build_package({"a.xml": sample("qti_v21_order.xml"), "b.xml": bomb})
    good, bad = read_qti(package).outcomes
    assert good.status == "imported"
    assert bad.status == "rejected" and "unsafe XML" in bad.messages[0]


# -- unreadable or unsafe files -----------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1">&lol2;</assessmentItem>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0">&xxe;</qti-assessment-item>',
])
def test_unsafe_xml_raises(payload: bytes) -> None:
    with pytest.raises(FormatError, match="unsafe XML"):
        read_qti(payload, "evil.xml")


def test_not_xml_and_not_an_item_raise() -> None:
    with pytest.raises(FormatError, match="not well-formed"):
        read_qti(b"<assessmentItem", "broken.xml")
    with pytest.raises(FormatError, match="not a QTI assessment item"):
        read_qti(b"<quiz/>", "moodle.xml")


@pytest.mark.parametrize("name", ["../evil.xml", "items/../../evil.xml", "/etc/passwd", "C:/evil.xml",
                                  "items\\..\\evil.xml"])
def test_zip_with_traversal_names_raises(name: str) -> None:
    package = build_package({"imsmanifest.xml": b"<manifest/>", name: sample("qti_v21_order.xml")})
    with pytest.raises(FormatError, match="unsafe path"):
        read_qti(package, "evil.zip")


def test_zip_with_too_many_members_raises() -> None:
    package = build_package({f"media/{n}.txt": b"" for n in range(5_001)})
    with pytest.raises(FormatError, match="members; the limit is 5000"):
        read_qti(package, "many.zip")


def test_zip_that_unpacks_too_large_raises() -> None:
    package = build_package({"big.bin": b"\0" * (201 * 1024 * 1024)})
    with pytest.raises(FormatError, match="declares 210763776 unpacked bytes; the limit is 104857600"):
        read_qti(package, "bomb.zip")


def test_broken_zip_raises() -> None:
    with pytest.raises(FormatError, match="not a readable ZIP"):
        read_qti(b"PK\x03\x04 this is not really a zip", "broken.zip")


def test_package_without_items_raises() -> None:
    with pytest.raises(FormatError, match="no QTI assessment items"):
        read_qti(build_package({"imsmanifest.xml": b"<manifest><resources/></manifest>"}), "empty.zip")


# -- writing: every type, both versions ---------------------------------------------------------

DRAFTS = [
    ItemDraft("single_choice", "函数 \\(f(x)=x^2+1\\) 的最小值是？\n![图像](media:graph.png)",
              {"options": [{"id": "A", "text": "0"}, {"id": "B", "text": "1\n（最小）"}], "correct": "B"},
              media=[MediaFile("graph.png", "image/png", PNG)], explanation="配方即得。", default_points=2.0,
              tags=["函数", "基础"], knowledge_points=[("数学", "函数", "二次函数")], external_id="Q-1",
              title="二次函数"),
    ItemDraft("multiple_choice", "Which are prime?",
              {"options": [{"id": "A", "text": "2"}, {"id": "B", "text": "4"}, {"id": "C", "text": "5"}],
               "correct": ["A", "C"], "partial_credit": "proportional"}),
    ItemDraft("multiple_choice", "全选 (all correct)",
              {"options": [{"id": "A", "text": "甲"}, {"id": "B", "text": "乙"}], "correct": ["A", "B"]}),
    ItemDraft("true_false", "地球是圆的。", {"correct": True}),
    ItemDraft("fill_blank", "中国的首都是 [[1]]，最大的城市是 [[2]]。",
              {"blanks": [{"answers": [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0}]},
                          {"answers": [{"text": "沪", "fraction": 0.5}, {"text": "上海", "fraction": 1.0}],
                           "case_sensitive": True}]}),
    ItemDraft("fill_blank", "Fill in the missing word:\n[[1]]",
              {"blanks": [{"answers": [{"text": "x*", "fraction": 1}]}]}),
    ItemDraft("fill_blank", "No marker in this stem.", {"blanks": [{"answers": [{"text": "a", "fraction": 1.0}]}]}),
    ItemDraft("numeric", "Compute \\(\\pi\\) to two decimal places.",
              {"answers": [{"value": 3.14, "tolerance": 0.01, "fraction": 1.0},
                           {"value": 3.0, "tolerance": 0.2, "fraction": 0.5}], "unit": "rad"}),
    ItemDraft("numeric", "1 + 1 = [[1]]", {"answers": [{"value": 2.0}]}),
    ItemDraft("short_answer", "简述牛顿第一定律。", {"reference_answer": "惯性定律", "rubric": "提到惯性得 2 分"}),
    ItemDraft("essay", "Write an essay about your hometown.", {"max_chars": 800}),
    ItemDraft("matching", "Match the substance with its formula.",
              {"prompts": [{"id": "p1", "text": "水"}, {"id": "p2", "text": "盐"}],
               "choices": [{"id": "c1", "text": "H2O"}, {"id": "c2", "text": "NaCl"}, {"id": "c3", "text": "CO2"}],
               "correct": {"p1": "c1", "p2": "c2"}}),
    ItemDraft("matching", "All or nothing.",
              {"prompts": [{"id": "p1", "text": "1"}],
               "choices": [{"id": "c1", "text": "一"}, {"id": "c2", "text": "二"}],
               "correct": {"p1": "c1"}, "partial_credit": "all_or_nothing"}),
    ItemDraft("ordering", "Order the seasons.",
              {"items": [{"id": "a", "text": "春"}, {"id": "b", "text": "夏"}, {"id": "c", "text": "秋"}],
               "correct_order": ["a", "b", "c"], "partial_credit": "adjacent_pairs"}),
    ItemDraft("inline_choice", "He [[1]] a student and ate [[2]] apple.",
              {"gaps": [{"options": [{"id": "1", "text": "is"}, {"id": "2", "text": "are"}], "correct": "1"},
                        {"options": [{"id": "1", "text": "a"}, {"id": "2", "text": "an"}], "correct": "2"}]}),
    ItemDraft("inline_choice", "x < y & y > z: [[1]]",
              {"gaps": [{"options": [{"id": "t", "text": "<true>"}, {"id": "f", "text": "false"}], "correct": "t"}]}),
]


@pytest.mark.parametrize("version", ["3.0", "2.1"])
@pytest.mark.parametrize("draft", DRAFTS, ids=lambda d: d.type)
def test_every_type_round_trips(draft: ItemDraft, version: str) -> None:
    outcome = roundtrip(draft, version)
    assert outcome.status == "imported", outcome.messages
    assert_same(draft, outcome.draft)
    assert outcome.draft.explanation == draft.explanation
    assert outcome.draft.default_points == draft.default_points
    assert outcome.draft.media == draft.media
    assert outcome.draft.tags == draft.tags
    assert outcome.draft.knowledge_points == draft.knowledge_points


@pytest.mark.parametrize("version", ["3.0", "2.1"])
def test_written_package_layout_and_templates(version: str) -> None:
    data = write_qti(DRAFTS[:2], version)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        manifest = archive.read("imsmanifest.xml").decode()
        single = archive.read("items/Q-1.xml").decode()
        multiple = archive.read("items/item-0002.xml").decode()
    assert sorted(names) == ["imsmanifest.xml", "items/Q-1.xml", "items/item-0002.xml", "media/graph.png"]
    if version == "3.0":
        assert "imsqti_item_xmlv3p0" in manifest
        assert single.count("<qti-assessment-item") == 1
        assert 'xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"' in single
        assert "rptemplates/match_correct.xml" in single and "rptemplates/map_response.xml" in multiple
        assert 'src="../media/graph.png"' in single
    else:
        assert "imsqti_item_xmlv2p1" in manifest
        assert "<assessmentItem" in single and 'xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"' in single
        assert "qti_v2p1/rptemplates/match_correct" in single and "rptemplates/map_response" in multiple
    assert '<file href="media/graph.png"' in manifest


def test_media_names_that_clash_are_kept_apart() -> None:
    other = b"GIF89a..."
    drafts = [ItemDraft("true_false", "![](media:a.png)", {"correct": True},
                        media=[MediaFile("a.png", "image/png", PNG)]),
              ItemDraft("true_false", "![](media:a.png)", {"correct": False},
                        media=[MediaFile("a.png", "image/png", other)])]
    report = read_qti(write_qti(drafts, "3.0"))
    assert [o.draft.media[0].data for o in report.outcomes] == [PNG, other]
    assert [o.draft.stem for o in report.outcomes] == ["![](media:a.png)", "![](media:a.png)"]


def test_written_item_reads_as_a_single_file_too() -> None:
    with zipfile.ZipFile(io.BytesIO(write_qti([DRAFTS[4]], "2.1"))) as archive:
        item = archive.read("items/item-0001.xml")
    outcome = only(item, "item-0001.xml")
    assert outcome.status == "imported"
    assert_same(DRAFTS[4], outcome.draft)
