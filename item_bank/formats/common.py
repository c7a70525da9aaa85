"""Helpers shared by the format readers: safe XML parsing, HTML to plain text, size limits."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for types and serialising; parsing goes through defusedxml
from urllib.parse import quote, unquote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from item_bank.formats.draft import FormatError

MAX_FILE_BYTES = 20 * 1024 * 1024  # a generous question bank; larger files are refused, not parsed
MAX_ITEMS = 20_000


def check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise FormatError(f"{what}: file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}")


def parse_xml(data: bytes, what: str) -> ET.Element:
    """Parse untrusted XML: no DTDs, no external entities, no entity expansion bombs, size-capped."""
    check_size(data, what)
    try:
        root: ET.Element = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException as exc:
        raise FormatError(f"{what}: refused unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise FormatError(f"{what}: not well-formed XML at line {line}, column {column}: {exc}") from None


_BLOCK_TAGS = re.compile(r"<\s*/?\s*(p|div|br|li|tr|h[1-6])\b[^>]*>", re.IGNORECASE)
_IMG = re.compile(r"<\s*img\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG = re.compile(r"<[^>]+>")
_FORMATTING = re.compile(r"<\s*(b|strong|i|em|u|sub|sup|table|span|font)\b", re.IGNORECASE)


def html_to_text(markup: str) -> tuple[str, list[str]]:
    """Plain text from light HTML. Returns the text and notes of what was lost in conversion.

    Images become ``![alt](media:NAME)`` references (NAME is the src's last path part, with
    Moodle's @@PLUGINFILE@@ prefix removed); formulas in text form are kept as they are.
    """
    notes: list[str] = []
    if _FORMATTING.search(markup):
        notes.append("HTML formatting (bold, tables, sub/superscript, ...) was dropped; text kept")

    def image(match: re.Match[str]) -> str:
        attrs = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                 for m in _ATTR.finditer(match.group(1))}
        name = unquote(html.unescape(attrs.get("src", "")).replace("@@PLUGINFILE@@/", "").rsplit("/", 1)[-1])
        return f"![{html.unescape(attrs.get('alt', ''))}](media:{name})"

    text = _IMG.sub(image, markup)
    text = _BLOCK_TAGS.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line), notes


def text_to_html(text: str) -> str:
    """Plain text (with media references) back to minimal HTML for formats that want HTML."""
    escaped = html.escape(text)
    escaped = re.sub(r"!\[([^\]]*)\]\(media:([^)]+)\)",
                     lambda m: f'<img src="@@PLUGINFILE@@/{quote(m.group(2))}" alt="{m.group(1)}">', escaped)
    return "".join(f"<p>{line}</p>" for line in escaped.split("\n"))
