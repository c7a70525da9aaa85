"""Per-candidate variants: reproducible, a real permutation, canonical ids kept for scoring."""

from typing import Any

import grading
from item_bank.variants import label_map, variant_view


def _view() -> dict[str, Any]:
    options = [{"id": c, "text": f"option {c}"} for c in "ABCDE"]
    slots = [{"slot_id": n, "type": "single_choice", "points": 1, "stem": f"q{n}", "content": {"options": options}}
             for n in range(1, 9)]
    slots.append({"slot_id": 99, "type": "inline_choice", "points": 1, "stem": "gap",
                  "content": {"gaps": [{"options": [{"id": "x", "text": "X"}, {"id": "y", "text": "Y"}]}]}})
    return {"paper_id": 1, "title": "t", "sections": [{"title": "s", "slots": slots}]}


def _order(view: dict[str, Any]) -> list[int]:
    return [s["slot_id"] for s in view["sections"][0]["slots"]]


def test_same_seed_same_variant_and_input_untouched() -> None:
    base = _view()
    first, again = variant_view(base, 7, True, True), variant_view(base, 7, True, True)
    assert first == again
    assert _order(base) == [1, 2, 3, 4, 5, 6, 7, 8, 99]
    assert "label" not in base["sections"][0]["slots"][0]["content"]["options"][0]


def test_different_seeds_differ_and_keep_every_item_and_option() -> None:
    orders = {tuple(_order(variant_view(_view(), seed, True, True))) for seed in range(20)}
    assert len(orders) > 15
    for seed in range(5):
        view = variant_view(_view(), seed, True, True)
        assert sorted(_order(view)) == [1, 2, 3, 4, 5, 6, 7, 8, 99]
        for slot in view["sections"][0]["slots"]:
            for options in [slot["content"].get("options")] + [g["options"] for g in slot["content"].get("gaps", [])]:
                if options:
                    assert [o["label"] for o in options] == list("ABCDE"[: len(options)])


def test_no_shuffle_keeps_order_but_labels() -> None:
    view = variant_view(_view(), 3, False, False)
    assert _order(view) == [1, 2, 3, 4, 5, 6, 7, 8, 99]
    assert [o["id"] for o in view["sections"][0]["slots"][0]["content"]["options"]] == list("ABCDE")


def test_scoring_maps_back_through_labels() -> None:
    definition = {"options": [{"id": c, "text": f"option {c}"} for c in "ABCDE"], "correct": "D"}
    for seed in range(10):
        view = variant_view(_view(), seed, True, True)
        labels = label_map(view)[1]
        shown = next(s for s in view["sections"][0]["slots"] if s["slot_id"] == 1)["content"]["options"]
        label_of_key = next(o["label"] for o in shown if o["id"] == "D")
        # a candidate who marks the letter beside the right text on their own sheet gets full marks
        outcome = grading.grade("single_choice", definition, labels[label_of_key])
        assert outcome.fraction == 1.0
