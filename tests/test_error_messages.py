"""Every API error carries `message` in the reader's language beside its stable code and English detail."""

import importlib
import pkgutil
import re

import pytest
from support import World

import exam_server
import grading
import item_bank
from exam_server.error_messages import MESSAGES, localise, message_for
from exam_server.errors import ServiceError
from grading.errors import GradingError
from item_bank.errors import ItemBankError

CJK = re.compile(r"[\u4e00-\u9fff]")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _all_error_names() -> set[str]:
    for package in (exam_server, grading, item_bank):  # import every module so every error class exists
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    return {cls.__name__ for base in (ServiceError, GradingError, ItemBankError) for cls in _subclasses(base)}


def test_every_error_class_has_a_sentence_in_both_languages() -> None:
    missing = sorted(_all_error_names() - MESSAGES.keys())
    assert missing == [], f"add these codes to exam_server/error_messages.py MESSAGES: {missing}"
    for code, (zh, en) in MESSAGES.items():
        assert CJK.search(zh), f"{code}: the Chinese sentence has no Chinese"
        assert en and not CJK.search(en), f"{code}: the English sentence is missing or not English"


def test_unknown_codes_fall_back_by_status_never_to_nothing() -> None:
    assert message_for("SomethingNew", 404, "en") == MESSAGES["NotFound"][1]
    assert CJK.search(message_for("SomethingNew", 503, "zh"))
    assert message_for("SomethingNew", 418, "en")  # an odd status still gets a sentence
    assert localise({"error": "NotFound", "detail": "x", "message": "kept"}, 404, "en")["message"] == "kept"
    assert localise(["not", "an", "error"], 400, "en") == ["not", "an", "error"]


@pytest.mark.parametrize(("how", "expected"), [
    ({"headers": {"Accept-Language": "en-GB,en;q=0.9"}}, "en"),
    ({"headers": {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}}, "zh"),
    ({"params": {"lang": "en"}}, "en"),
    ({"cookies": {"lang": "en"}}, "en"),
    ({}, "zh"),  # the default, as on the pages
])
def test_an_error_speaks_the_request_language(world: World, how: dict[str, dict[str, str]],
                                              expected: str) -> None:
    cookies = how.get("cookies")
    if cookies:
        world.client.cookies.set("lang", cookies["lang"])
    try:
        r = world.client.get("/api/exams/999999", headers={**world.headers("teacher"), **how.get("headers", {})},
                             params=how.get("params"))
    finally:
        world.client.cookies.clear()
    body = r.json()
    assert r.status_code == 404 and body["error"] == "NotFound" and "999999" in body["detail"]
    assert body["message"] == MESSAGES["NotFound"][0 if expected == "zh" else 1]
    assert int(r.headers["content-length"]) == len(r.content)


def test_middleware_refusals_and_validation_errors_are_localised_too(world: World) -> None:
    bad_json = world.client.post("/api/items", content=b'{"type": ', headers={
        **world.headers("teacher"), "content-type": "application/json", "Accept-Language": "en"})
    assert bad_json.json()["error"] == "MalformedJSON"
    assert bad_json.json()["message"] == MESSAGES["MalformedJSON"][1]
    unsigned = world.client.get("/api/exams", headers={"Accept-Language": "zh"})
    assert unsigned.status_code == 401 and CJK.search(unsigned.json()["message"])
    invalid = world.call("POST", "/api/items", "teacher", json={"type": "crossword", "stem": "x", "definition": {}})
    assert invalid.json()["error"] == "UnknownItemType"
    assert invalid.json()["message"] == MESSAGES["UnknownItemType"][0]


def test_successful_answers_are_untouched(world: World) -> None:
    r = world.call("GET", "/api/exams", "teacher")
    assert r.status_code == 200 and (not isinstance(r.json(), dict) or "message" not in r.json())


def _boom() -> None:
    raise RuntimeError("boom")


def test_pages_answer_errors_as_pages_in_the_reader_language(world: World) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    missing = world.client.get("/teacher/no-such-page", headers=html)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "找不到此页面" in missing.text and '"error"' not in missing.text
    english = world.client.get("/no-such-page?lang=en", headers=html)
    assert english.status_code == 404 and "Page not found" in english.text
    world.client.cookies.clear()
    api = world.client.get("/api/no-such-thing", headers=html)  # the API stays JSON whatever is accepted
    assert api.status_code == 404 and api.json()["error"] == "NotFound"
    script = world.client.get("/no-such-page")  # no text/html in Accept: a script or a probe
    assert script.json()["error"] == "NotFound"
    world.client.app.add_api_route("/test-page-boom", _boom)  # type: ignore[attr-defined]
    crashed = world.client.get("/test-page-boom", headers=html)
    assert crashed.status_code == 500 and "服务器出错" in crashed.text
    assert world.client.get("/test-page-boom").json()["error"] == "InternalError"
