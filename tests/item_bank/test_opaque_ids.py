"""Entry ids that tend to spell the key are replaced by server-issued ones when an item is stored."""

import copy

import grading
from item_bank.opaque_ids import ISSUED, issue_opaque_ids

ORDERING = {"items": [{"id": "1", "text": "一"}, {"id": "2", "text": "二"}, {"id": "3", "text": "三"}],
            "correct_order": ["1", "2", "3"]}
MATCHING = {"prompts": [{"id": "p1", "text": "中国"}, {"id": "p2", "text": "日本"}],
            "choices": [{"id": "c1", "text": "北京"}, {"id": "c2", "text": "东京"}, {"id": "c3", "text": "首尔"}],
            "correct": {"p1": "c1", "p2": "c2"}}


def test_ordering_ids_are_replaced_and_the_key_follows() -> None:
    stored = issue_opaque_ids("ordering", grading.validate_definition("ordering", copy.deepcopy(ORDERING)))
    ids = [e["id"] for e in stored["items"]]
    assert all(ISSUED.match(i) for i in ids) and len(set(ids)) == 3
    by_text = {e["text"]: e["id"] for e in stored["items"]}
    assert stored["correct_order"] == [by_text["一"], by_text["二"], by_text["三"]]
    assert grading.grade("ordering", stored, stored["correct_order"]).fraction == 1.0


def test_matching_choices_are_replaced_prompts_kept() -> None:
    stored = issue_opaque_ids("matching", grading.validate_definition("matching", copy.deepcopy(MATCHING)))
    by_text = {c["text"]: c["id"] for c in stored["choices"]}
    assert all(ISSUED.match(i) for i in by_text.values())
    assert stored["correct"] == {"p1": by_text["北京"], "p2": by_text["东京"]}
    assert [p["id"] for p in stored["prompts"]] == ["p1", "p2"]


def test_issued_ids_survive_an_edit_and_new_entries_get_their_own() -> None:
    stored = issue_opaque_ids("ordering", grading.validate_definition("ordering", copy.deepcopy(ORDERING)))
    edited = copy.deepcopy(stored)
    edited["items"].append({"id": "4", "text": "四"})
    edited["correct_order"].append("4")
    again = issue_opaque_ids("ordering", grading.validate_definition("ordering", edited))
    assert [e["id"] for e in again["items"][:3]] == [e["id"] for e in stored["items"]]
    assert ISSUED.match(again["items"][3]["id"]) and again["correct_order"][3] == again["items"][3]["id"]


def test_choice_letters_are_left_alone() -> None:
    single = {"options": [{"id": "A", "text": "1"}, {"id": "B", "text": "2"}], "correct": "B"}
    assert issue_opaque_ids("single_choice", copy.deepcopy(single)) == single
