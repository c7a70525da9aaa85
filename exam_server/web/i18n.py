"""UI strings, one dict per language (kept in ``locales/<lang>.json``), and choosing the
language of a request. The same dict feeds the templates and (as a JSON blob) the page scripts,
so every visible string lives in those two files.
"""

import json
from pathlib import Path
from typing import Final

from starlette.requests import Request

Lang = str
LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
COOKIE: Final = "lang"

_LOCALES = Path(__file__).parent / "locales"


def _load(lang: str) -> dict[str, str]:
    strings: dict[str, str] = json.loads((_LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return strings


# Strings live in locales/<lang>.json (one file per language, same keys; a test checks that).
ZH: Final[dict[str, str]] = _load("zh")
EN: Final[dict[str, str]] = _load("en")
STRINGS: Final[dict[Lang, dict[str, str]]] = {"zh": ZH, "en": EN}


def _from_accept_language(header: str) -> Lang | None:
    """The best supported language in an Accept-Language header, by q value then order."""
    ranked: list[tuple[float, int, Lang]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        if base not in LANGS:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, base))
    return min(ranked)[2] if ranked else None


def choose_lang(request: Request) -> tuple[Lang, bool]:
    """The request's language and whether it came from ``?lang=`` (so the cookie should be set)."""
    query = request.query_params.get("lang", "")
    if query in LANGS:
        return query, True
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGS:
        return cookie, False
    return _from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG, False
