"""Security headers on every kind of response, HSTS and Secure cookies only over HTTPS (with
X-Forwarded-Proto trusted only when configured), and pages without inline script."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import START, World, make_runtime

from exam_server.app import create_app
from exam_server.clock import ManualClock
from exam_server.http_headers import CONTENT_SECURITY_POLICY

EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
PAGES = ["/login", "/student", "/exam/1", "/teacher", "/teacher/bank", "/teacher/import", "/teacher/assemble",
         "/teacher/exams", "/docs"]


def _assert_secure_headers(response: Any, what: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{what}: {name} = {response.headers.get(name)!r}"
    assert "strict-transport-security" not in response.headers, what  # plain HTTP: no HSTS


def test_the_policy_forbids_inline_script_and_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_redoc_relaxes_styles_and_workers_only(world: World) -> None:
    response = world.client.get("/redoc")
    directives = dict(d.split(" ", 1) for d in response.headers["content-security-policy"].split("; "))
    expected = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives.pop("style-src") == "'self' 'unsafe-inline'" and directives.pop("worker-src") == "'self' blob:"
    expected.pop("style-src")
    assert directives == expected  # scripts, framing, objects: as strict as every other page
    assert response.headers["x-frame-options"] == "DENY"


def test_every_kind_of_response_carries_the_headers(world: World) -> None:
    client = world.client
    teacher = world.headers("teacher")

    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    client.app.add_api_route("/test-boom", boom)  # type: ignore[attr-defined]
    responses = {
        **{f"page {p}": client.get(p) for p in PAGES},
        "redirect /": client.get("/", follow_redirects=False),
        "openapi": client.get("/openapi.json"),
        "api 200": client.get("/api/items", headers=teacher),
        "api 401": client.get("/api/items"),
        "api 404": client.get("/api/items/999999", headers=teacher),
        "api 405": client.delete("/api/auth/login"),
        "api 422 validation": client.post("/api/items", headers=teacher, json={"stem": 1}),
        "api 422 strict json": client.post("/api/items", headers={**teacher, "Content-Type": "application/json"},
                                           content=b'{"default_points": NaN}'),
        "api 400 malformed": client.post("/api/items", headers={**teacher, "Content-Type": "application/json"},
                                         content=b"{"),
        "static css": client.get("/static/app.css"),
        "static js": client.get("/static/exam.js"),
        "static 404": client.get("/static/nope.js"),
        "swagger bundle": client.get("/static/vendor/swagger-ui/swagger-ui.css"),
        "unknown path": client.get("/nope"),
        "health": client.get("/health"),
        "head": client.head("/login"),
        "crash": client.get("/test-boom"),
    }
    for what, response in responses.items():
        _assert_secure_headers(response, what)
    assert responses["crash"].status_code == 500 and responses["crash"].json()["error"] == "InternalError"
    assert responses["api 422 strict json"].json()["error"] == "InvalidNumber"
    assert responses["page /docs"].status_code == 200 and responses["static 404"].status_code == 404


def test_hsts_and_secure_cookies_only_over_https(database_url: str, tmp_path: Any) -> None:
    clock = ManualClock(START)
    plain = make_runtime(database_url, tmp_path, clock)
    http = TestClient(create_app(runtime=plain))
    https = TestClient(create_app(runtime=plain), base_url="https://testserver")
    forwarded = {"X-Forwarded-Proto": "https"}

    r = http.get("/login?lang=en")
    assert "strict-transport-security" not in r.headers
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie.replace("httponly", "")
    # An untrusted X-Forwarded-Proto changes nothing (anyone can send it).
    r = http.get("/login?lang=en", headers=forwarded)
    assert "strict-transport-security" not in r.headers and "; secure" not in r.headers["set-cookie"].lower()

    r = https.get("/login?lang=en")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "; secure" in r.headers["set-cookie"].lower() and "httponly" in r.headers["set-cookie"].lower()
    assert https.get("/static/app.css").headers["strict-transport-security"].startswith("max-age=")

    trusting = make_runtime(database_url, tmp_path, clock, trust_forwarded_proto=True, hsts_seconds=600)
    behind_proxy = TestClient(create_app(runtime=trusting))
    r = behind_proxy.get("/login?lang=zh", headers=forwarded)
    assert r.headers["strict-transport-security"] == "max-age=600; includeSubDomains"
    assert "; secure" in r.headers["set-cookie"].lower()
    r = behind_proxy.get("/login?lang=zh", headers={"X-Forwarded-Proto": "http"})
    assert "strict-transport-security" not in r.headers and "; secure" not in r.headers["set-cookie"].lower()
    no_hsts = make_runtime(database_url, tmp_path, clock, hsts_seconds=0)
    assert "strict-transport-security" not in TestClient(create_app(runtime=no_hsts),
                                                         base_url="https://testserver").get("/login").headers
    for runtime in (plain, trusting, no_hsts):
        runtime.close()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.I)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_have_no_inline_script_handlers_or_styles(world: World, path: str, lang: str) -> None:
    html = world.client.get(f"{path}?lang={lang}").text
    assert "<script" in html  # the checks below look at real pages
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html)
    assert "javascript:" not in html.lower()


def test_inline_checks_catch_what_they_look_for() -> None:
    assert INLINE_SCRIPT.search('<script>alert(1)</script>') and INLINE_SCRIPT.search("<script defer>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="i18n">{}</script>')
    assert INLINE_HANDLER.search('<button onclick="x()">') and INLINE_HANDLER.search('<img src=x onerror=y>')
    assert not INLINE_HANDLER.search('<a data-online="true">')
    assert INLINE_STYLE.search('<div style="color:red">') and INLINE_STYLE.search("<style>p{}</style>")
