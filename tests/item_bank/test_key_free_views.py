"""Property: what a student receives for an item carries no information about its key.

For every type in the grading registry, one generated item is shown to many attempts (seeds) the
way the exam page gets it (``item_student_view`` then the attempt's ``variant_view``), and three
things are checked:

1. *independence*: items that differ only in their key produce the same view for every seed;
2. *no key material*: no key field name and no key-only value (accepted answers, tolerances,
   reference answers, rubrics) appears anywhere in the view;
3. *uniform position*: where entries are listed, the key's position among the presented orders is
   uniform over attempts (chi-square; seeds are fixed, so the test is deterministic).

Option shuffling off is checked too: ordering entries and matching choices must still be uniform
because their authored order reveals the key; single/multiple/inline choice options then keep the
author's order, which (by 1.) does not depend on the key.

The checker is run on deliberately leaky views as well, to show it catches each kind of leak.
"""

import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import grading
from item_bank.items import item_student_view
from item_bank.variants import variant_view
from models import Item

SEEDS = range(600)
# Far below anything a fair shuffle produces on 600 draws, far above what a biased one does.
P_THRESHOLD = 1e-4
KEY_FIELDS = ("correct", "correct_order", "answers", "tolerance", "fraction", "reference_answer", "rubric",
              "case_sensitive", "partial_credit", "value")

# (item type, definition, seed, shuffle_options) -> the slot exactly as the student receives it
ViewFn = Callable[[str, dict[str, Any], int, bool], dict[str, Any]]
# (slot view, definition) -> (position of the key among the presented entries, number of entries)
PositionFn = Callable[[dict[str, Any], dict[str, Any]], tuple[int, int]]


@dataclass
class Case:
    item_type: str
    definitions: list[dict[str, Any]]  # same presentable content, different keys
    secrets: list[str] = field(default_factory=list)  # strings only the key contains
    position: PositionFn | None = None
    always_shuffled: bool = False  # position must be uniform even with option shuffling off


def real_view(item_type: str, definition: dict[str, Any], seed: int, shuffle_options: bool) -> dict[str, Any]:
    item = Item(type=item_type, stem="题干 stem", definition=grading.validate_definition(item_type, definition))
    slot = {"slot_id": 7, "points": 2.0, **item_student_view(item)}
    paper = {"paper_id": 1, "title": "paper", "sections": [{"title": "one", "slots": [slot]}]}
    shown: dict[str, Any] = variant_view(paper, seed, False, shuffle_options)["sections"][0]["slots"][0]
    return shown


# ----------------------------------------------------------------- generated items, one per type


def _token(rng: random.Random) -> str:
    return f"KEY{rng.getrandbits(48):012x}"


def _options(n: int) -> list[dict[str, str]]:
    return [{"id": f"o{i}", "text": f"选项 option {chr(ord('P') + i)}"} for i in range(n)]


def _index_of(entries: list[dict[str, Any]], entry_id: str) -> tuple[int, int]:
    return [e["id"] for e in entries].index(entry_id), len(entries)


def _choice_cases(rng: random.Random) -> list[Case]:
    single = Case("single_choice", [{"options": _options(5), "correct": key} for key in ("o0", "o3")],
                  position=lambda v, d: _index_of(v["content"]["options"], d["correct"]))
    multiple = Case("multiple_choice", [{"options": _options(5), "correct": key, "partial_credit": rule}
                                        for key, rule in ((["o0", "o1"], "gaokao"), (["o4", "o2"], "proportional"))],
                    position=lambda v, d: _index_of(v["content"]["options"], d["correct"][0]))
    inline = Case("inline_choice", [{"gaps": [{"options": _options(4), "correct": a},
                                              {"options": _options(3), "correct": b}]} for a, b in (("o0", "o2"),
                                                                                                   ("o3", "o0"))],
                  position=lambda v, d: _index_of(v["content"]["gaps"][0]["options"], d["gaps"][0]["correct"]))
    return [single, multiple, inline, Case("true_false", [{"correct": True}, {"correct": False}])]


def _text_cases(rng: random.Random) -> list[Case]:
    secrets = [_token(rng) for _ in range(4)]
    blanks = [{"blanks": [
        {"answers": [{"text": secrets[i], "fraction": 1.0}, {"text": f"{secrets[i]}x", "fraction": 0.5}],
         "case_sensitive": i == 0},
        {"answers": [{"text": secrets[i + 2], "fraction": 1.0}]}]} for i in (0, 1)]
    numeric = [{"answers": [{"value": 31.4159, "tolerance": 0.0271}, {"value": 27.1828, "fraction": 0.5}],
                "unit": "cm"}, {"answers": [{"value": -7.77123, "tolerance": 0.5}], "unit": "cm"}]
    manual = [{"reference_answer": _token(rng), "rubric": _token(rng), "max_chars": 800} for _ in range(2)]
    manual_secrets = [d[k] for d in manual for k in ("reference_answer", "rubric")]
    return [Case("fill_blank", blanks, secrets),
            Case("numeric", numeric, ["31.4159", "0.0271", "27.1828", "7.77123"]),
            Case("short_answer", manual, manual_secrets),
            Case("essay", manual, manual_secrets)]


def _structured_cases(rng: random.Random) -> list[Case]:
    prompts = [{"id": f"p{i}", "text": f"左 prompt {i}"} for i in range(4)]
    choices = [{"id": f"c{i}", "text": f"右 choice {chr(ord('K') + i)}"} for i in range(5)]
    # authored the way importers and the editor template write them: choice i answers prompt i
    in_order = {f"p{i}": f"c{i}" for i in range(4)}
    matching = Case("matching", [{"prompts": prompts, "choices": choices, "correct": key}
                                 for key in (in_order, {"p0": "c4", "p1": "c0", "p2": "c0", "p3": "c1"})],
                    position=lambda v, d: _index_of(v["content"]["choices"], d["correct"]["p0"]), always_shuffled=True)
    cases = [matching]
    for n in (2, 4):
        items = [{"id": chr(ord("a") + i), "text": f"第{i}步 step {i}"} for i in range(n)]
        keys = [[i["id"] for i in items], [i["id"] for i in reversed(items)]]  # authored in key order
        cases.append(Case("ordering", [{"items": items, "correct_order": key} for key in keys],
                          position=lambda v, d: _index_of(v["content"]["items"], d["correct_order"][0]),
                          always_shuffled=True))
    return cases


def generated_cases() -> dict[str, list[Case]]:
    rng = random.Random(20261201)
    by_type: dict[str, list[Case]] = {}
    for case in _choice_cases(rng) + _text_cases(rng) + _structured_cases(rng):
        by_type.setdefault(case.item_type, []).append(case)
    return by_type


CASES = generated_cases()


# ----------------------------------------------------------------- the checker


def chi_square_p(counts: list[int]) -> float:
    """Upper tail of the chi-square statistic of `counts` against uniform (Wilson-Hilferty)."""
    total, k = sum(counts), len(counts)
    expected = total / k
    statistic = sum((c - expected) ** 2 / expected for c in counts)
    df = k - 1
    z = ((statistic / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _json_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _json_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _json_keys(v)}
    return set()


def check_key_free(view: ViewFn, case: Case, shuffle_options: bool) -> None:
    """Raise AssertionError naming the first leak found."""
    positions: list[list[int]] = [[] for _ in case.definitions]
    size = 0
    for seed in SEEDS:
        views = [view(case.item_type, d, seed, shuffle_options) for d in case.definitions]
        assert all(v == views[0] for v in views), f"seed {seed}: the view changes with the key"
        text = json.dumps(views[0], ensure_ascii=False)
        leaked = _json_keys(views[0]) & set(KEY_FIELDS)
        assert not leaked, f"seed {seed}: key field(s) {sorted(leaked)} in the view"
        for secret in case.secrets:
            assert secret not in text, f"seed {seed}: key material {secret!r} in the view"
        if case.position is not None:
            for index, (shown, definition) in enumerate(zip(views, case.definitions, strict=True)):
                place, size = case.position(shown, definition)
                positions[index].append(place)
    if case.position is None or not (shuffle_options or case.always_shuffled):
        return
    for places in positions:
        counts = [places.count(p) for p in range(size)]
        p_value = chi_square_p(counts)
        assert p_value > P_THRESHOLD, f"key position not uniform: counts {counts}, p = {p_value:.2e}"


# ----------------------------------------------------------------- the property, per registered type


def test_every_registered_type_has_a_generated_item() -> None:
    assert set(CASES) == set(grading.ITEM_TYPES)


@pytest.mark.parametrize("shuffle_options", [True, False], ids=["shuffle", "no-shuffle"])
@pytest.mark.parametrize("item_type", grading.ITEM_TYPES)
def test_student_view_carries_no_key_information(item_type: str, shuffle_options: bool) -> None:
    for case in CASES[item_type]:
        check_key_free(real_view, case, shuffle_options)


def test_shown_order_of_an_ordering_item_equals_the_key_as_often_as_chance() -> None:
    case = CASES["ordering"][1]  # four entries: 1 in 24 attempts by chance
    hits = sum(1 for seed in SEEDS
               if [i["id"] for i in real_view("ordering", case.definitions[0], seed, False)["content"]["items"]]
               == case.definitions[0]["correct_order"])
    assert 10 <= hits <= 45  # expected 25; binomial(600, 1/24) stays in this range with p > 0.999


def test_attempts_of_one_item_see_many_orders_and_one_attempt_always_the_same() -> None:
    definition = CASES["ordering"][1].definitions[0]
    orders = {tuple(i["id"] for i in real_view("ordering", definition, seed, False)["content"]["items"])
              for seed in range(200)}
    assert len(orders) == 24
    assert real_view("ordering", definition, 5, False) == real_view("ordering", definition, 5, False)


# ----------------------------------------------------------------- the checker catches leaks


def _old_hash_order_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    """What ordering items did before: a fixed hash order, rotated when it equalled the key."""
    shown = real_view(item_type, definition, seed, shuffle)
    items = sorted(definition["items"], key=lambda o: hashlib.sha256(f"{o['id']}\0{o['text']}".encode()).hexdigest())
    if [i["id"] for i in items] == definition["correct_order"]:
        items = items[1:] + items[:1]
    shown["content"]["items"] = items
    return shown


def _text_order_only_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    """The same order for every attempt (here: by text). It does not change with the key, yet for an
    item authored in key order the key sits in the same place every time, and a class can pool that."""
    view = real_view(item_type, definition, seed, shuffle)
    view["content"] = grading.student_view(item_type, grading.validate_definition(item_type, definition))
    return view


def _key_first_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    view = real_view(item_type, definition, seed, shuffle)
    view["content"]["options"].sort(key=lambda o: o["id"] != definition["correct"])
    return view


def _key_seeded_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    view = real_view(item_type, definition, seed, shuffle)
    random.Random(f"{seed}{definition['correct']}").shuffle(view["content"]["options"])
    return view


def _with_field(name: str, source: Callable[[dict[str, Any]], Any]) -> ViewFn:
    def view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
        shown = real_view(item_type, definition, seed, shuffle)
        shown["content"][name] = source(definition)
        return shown
    return view


def _numeric_hint_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    view = real_view(item_type, definition, seed, shuffle)
    view["stem"] += f" (±{definition['answers'][0]['tolerance']})" if "tolerance" in definition["answers"][0] else ""
    return view


def _fixed_feedback_view(item_type: str, definition: dict[str, Any], seed: int, shuffle: bool) -> dict[str, Any]:
    view = real_view(item_type, definition, seed, shuffle)
    view["content"]["hint"] = "the answer is " + definition["reference_answer"][:20]
    return view


LEAKS: list[tuple[str, ViewFn, str, int, bool, str]] = [
    ("old ordering, two entries", _old_hash_order_view, "ordering", 0, False, "changes with the key|not uniform"),
    ("old ordering, four entries", _old_hash_order_view, "ordering", 1, True, "changes with the key|not uniform"),
    ("fixed order per item", _text_order_only_view, "ordering", 1, False, "not uniform"),
    ("fixed matching choices", _text_order_only_view, "matching", 0, False, "not uniform"),
    ("key listed first", _key_first_view, "single_choice", 0, True, "changes with the key"),
    ("shuffle seeded by the key", _key_seeded_view, "single_choice", 0, True, "changes with the key"),
    ("key field", _with_field("correct", lambda d: "o1"), "single_choice", 0, True, "key field"),
    ("blank answers", _with_field("accepted", lambda d: [a["text"] for a in d["blanks"][0]["answers"]]),
     "fill_blank", 0, True, "changes with the key|key material"),
    ("tolerance in the stem", _numeric_hint_view, "numeric", 0, True, "changes with the key|key material"),
    ("feedback names the answer", _fixed_feedback_view, "essay", 0, True, "changes with the key|key material"),
]


@pytest.mark.parametrize(("leaky", "item_type", "index", "shuffle", "message"),
                         [leak[1:] for leak in LEAKS], ids=[leak[0] for leak in LEAKS])
def test_the_checker_catches_a_leaky_view(leaky: ViewFn, item_type: str, index: int, shuffle: bool,
                                          message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_key_free(leaky, CASES[item_type][index], shuffle)


def test_the_checker_catches_a_single_leaking_definition() -> None:
    """A leak in one definition only (the key in the same place the secret lives) is still caught."""
    case = CASES["fill_blank"][0]
    lone = Case(case.item_type, case.definitions[:1], case.secrets)
    with pytest.raises(AssertionError, match="key material"):
        check_key_free(_with_field("accepted", lambda d: d["blanks"][1]["answers"][0]["text"]), lone, True)


def test_chi_square_rejects_bias_and_accepts_fair_counts() -> None:
    assert chi_square_p([150, 150, 150, 150]) > 0.5
    assert chi_square_p([160, 140, 155, 145]) > 0.1
    assert chi_square_p([600, 0]) < 1e-9
    assert chi_square_p([200, 200, 200, 0]) < 1e-9
