"""Hostile numbers and text in request bodies and queries: a lone UTF-16 surrogate, a NUL, NaN,
±Infinity, literals that overflow, and huge finite numbers where a bound is meaningful. Each is a
422 naming the field (never a 500, never a stored NULL), on both databases."""

import json
from typing import Any

import pytest
from support import World

from exam_server.strict_json import check_body, find_problems

ESSAY, NUMERIC, FILL = 5, 4, 3  # indexes into world.ids["slots"]


def _raw(world: World, method: str, url: str, who: str, body: bytes) -> Any:
    headers = {**world.headers(who), "Content-Type": "application/json"}
    return world.client.request(method, url, headers=headers, content=body)


def _answers(world: World, attempt_id: int) -> list[Any]:
    return world.ok("GET", f"/api/attempts/{attempt_id}", "s1")["answers"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("slot", "response", "error", "path", "words"), [
    (ESSAY, b'"\\ud800"', "ValidationError", "body.response", "lone UTF-16 surrogate"),
    (ESSAY, b'"ok \\udfff then"', "ValidationError", "body.response", "lone UTF-16 surrogate"),
    (ESSAY, b'"a\\u0000b"', "ValidationError", "body.response", "NUL"),
    (FILL, b'["x", "\\ud83d"]', "ValidationError", "body.response.1", "surrogate"),
    (NUMERIC, b"NaN", "InvalidNumber", "body.response", "NaN"),
    (NUMERIC, b"Infinity", "InvalidNumber", "body.response", "Infinity"),
    (NUMERIC, b"-Infinity", "InvalidNumber", "body.response", "-Infinity"),
    (NUMERIC, b"1e400", "InvalidNumber", "body.response", "too large"),
    (NUMERIC, b'{"v": [1, {"w": NaN}]}', "InvalidNumber", "body.response.v.1.w", "NaN"),
])
def test_a_save_with_bad_text_or_a_non_finite_number_is_a_422_naming_the_field(
    world: World, slot: int, response: bytes, error: str, path: str, words: str
) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    url = f"/api/attempts/{attempt_id}/answers/{world.ids['slots'][slot]}"
    r = _raw(world, "PUT", url, "s1", b'{"response": ' + response + b', "client_seq": 1}')
    assert r.status_code == 422, r.text
    assert r.json()["error"] == error and r.json()["detail"].startswith(path + ":") and words in r.json()["detail"]
    assert _answers(world, attempt_id) == []  # nothing stored, not even a NULL
    # the same slot still takes a good answer afterwards
    good = b'"\\ud83d\\ude00 \xe5\xa5\xbd"' if slot == ESSAY else '["北京"]'.encode() if slot == FILL else b"1e308"
    assert _raw(world, "PUT", url, "s1", b'{"response": ' + good + b', "client_seq": 1}').status_code == 200
    [saved] = _answers(world, attempt_id)
    assert saved["response"] == json.loads(good)  # an astral character (a valid surrogate pair) survives


@pytest.mark.parametrize(("body", "error", "path"), [
    ({"default_points": "NaN"}, "InvalidNumber", "body.default_points"),
    ({"irt_b": "-Infinity"}, "InvalidNumber", "body.irt_b"),
    ({"default_points": 1e308}, "ValidationError", "body.default_points"),
    ({"time_seconds": 1e308}, "ValidationError", "body.time_seconds"),
    ({"irt_a": 1e308}, "ValidationError", "body.irt_a"),
    ({"irt_b": 1e308}, "ValidationError", "body.irt_b"),
    ({"stem": "题\\ud800干"}, "ValidationError", "body.stem"),
    ({"tags": ["ok", "x\\u0000"]}, "ValidationError", "body.tags.1"),
    ({"definition": {"reference_answer": "\\udc00"}}, "ValidationError", "body.definition.reference_answer"),
])
def test_item_fields_refuse_bad_text_non_finite_and_huge_numbers(
    world: World, body: dict[str, Any], error: str, path: str
) -> None:
    fields = {"type": "essay", "stem": "写一段话", "definition": {}, **body}
    # Literal NaN/Infinity and escapes go into the raw text, as a hostile client would send them.
    raw = json.dumps(fields).replace('"NaN"', "NaN").replace('"-Infinity"', "-Infinity").replace("\\\\", "\\")
    r = _raw(world, "POST", "/api/items", "teacher", raw.encode())
    assert r.status_code == 422, r.text
    assert r.json()["error"] == error and path in r.json()["detail"]


def test_durations_points_and_minutes_refuse_huge_and_non_finite_values(world: World) -> None:
    exam = world.ok("GET", f"/api/exams/{world.ids['exam']}", "teacher")
    base = {"title": "x", "paper_id": world.ids["paper"], "class_id": world.ids["klass"],
            "opens_at": exam["opens_at"], "closes_at": exam["closes_at"]}
    for duration in (b"1e308", b"NaN", b"Infinity", b"-1"):
        raw = json.dumps({**base, "duration_minutes": 0}).encode().replace(b'"duration_minutes": 0',
                                                                            b'"duration_minutes": ' + duration)
        r = _raw(world, "POST", "/api/exams", "teacher", raw)
        assert r.status_code == 422 and "duration_minutes" in r.json()["detail"], r.text
    slot = {"item_id": world.ids["items"][0], "points": 1e308}
    r = world.call("POST", "/api/papers", "teacher", json={"title": "p", "sections": [{"title": "s", "slots": [slot]}]})
    assert r.status_code == 422 and "points" in r.json()["detail"], r.text
    blueprint = {"sections": [{"name": "s", "count": 1, "points_per_item": 1e308}]}
    r = world.call("POST", "/api/assembly/preview", "teacher", json={"blueprint": blueprint})
    assert r.status_code == 422 and "points_per_item" in r.json()["detail"], r.text
    info = {"thetas": [1e308], "targets": [1.0]}
    r = world.call("POST", "/api/assembly/preview", "teacher",
                   json={"blueprint": {"sections": [{"name": "s", "count": 1}], "information": info}})
    assert r.status_code == 422 and "thetas" in r.json()["detail"], r.text


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(world: World) -> None:
    for query in ("q=%00", "tag=a%00b", "q=ok&tag=%00"):
        r = world.call("GET", f"/api/items?{query}", "teacher")
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", r.text
        assert "query." in r.json()["detail"] and "NUL" in r.json()["detail"]
    assert world.call("GET", "/api/items?q=%E9%A2%98", "teacher").status_code == 200


def test_deep_nesting_and_endless_integers_are_refused_and_malformed_json_still_says_where(world: World) -> None:
    r = _raw(world, "POST", "/api/items", "teacher", b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400 and r.json()["error"] == "MalformedJSON", r.text
    r = _raw(world, "POST", "/api/items", "teacher", b'{"default_points": ' + b"9" * 5000 + b"}")
    assert r.status_code == 422 and r.json()["error"] == "InvalidNumber", r.text
    r = _raw(world, "POST", "/api/items", "teacher", b'{"stem": "x",}')
    assert r.status_code == 400 and r.json()["error"] == "MalformedJSON" and "position" in r.json()["detail"]


def test_find_problems_walks_keys_values_and_depth_without_recursion() -> None:
    deep: Any = "\ud800"
    for _ in range(50_000):
        deep = [deep]
    [(name, path, _)] = find_problems(deep)
    assert name == "ValidationError" and path.count(".0") == 50_000
    found = find_problems({"a\x00": 1, "b": [1.5, float("inf"), {"c": float("nan")}], "d": "fine 好 😀"})
    assert [(n, p) for n, p, _ in found] == [("ValidationError", "body"), ("InvalidNumber", "body.b.1"),
                                            ("InvalidNumber", "body.b.2.c")]
    assert find_problems({"x": [1, 2.5, "ok", None, True, {"y": "😀"}]}) == []
    assert check_body(b'{"x": 1}') is None and check_body(b"{bad") is None  # FastAPI reports malformed JSON
    # Look-alikes that the quick pre-scan flags but the full check lets through.
    for fine in (b'{"path": "C:\\\\u0000"}', b'{"name": "NaNa"}', b'{"n": 1e-400}', b'{"n": 12e+099}'):
        assert check_body(fine) is None, fine
    # Surrogates as raw bytes: json decodes bytes with "surrogatepass", so no \\u escape is needed.
    assert check_body(b'{"a": "x\xed\xa0\x80"}') is not None
    assert check_body('{"a": "\ud800"}'.encode("utf-16-le", "surrogatepass")) is not None
    assert check_body('{"a": "好"}'.encode("utf-16-le")) is None


def test_raw_encoded_surrogates_are_refused_over_http(world: World) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    url = f"/api/attempts/{attempt_id}/answers/{world.ids['slots'][ESSAY]}"
    r = _raw(world, "PUT", url, "s1", b'{"response": "x\xed\xb0\x80", "client_seq": 1}')
    assert r.status_code == 422 and "surrogate" in r.json()["detail"], r.text
    assert _answers(world, attempt_id) == []
