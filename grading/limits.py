"""Size limits on responses, per question type: checked on the raw response before anything else.

Free text is bounded per type (an essay may be long, a blank may not); a typed number is bounded
so parsing stays cheap. Choice-like types need no limit of their own: every part of their
response must be one of the item's ids. The service passes limits built from its settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grading.errors import ResponseTooLarge


@dataclass(frozen=True)
class ResponseLimits:
    essay_chars: int = 20_000
    short_answer_chars: int = 5_000
    blank_chars: int = 500
    numeric_chars: int = 100


def check_size(item_type: str, raw: Any, limits: ResponseLimits) -> None:
    """Raise ResponseTooLarge naming the part (blank) and the limit; other shapes pass to validation."""
    if item_type in ("essay", "short_answer", "numeric") and isinstance(raw, str):
        limit = {"essay": limits.essay_chars, "short_answer": limits.short_answer_chars,
                 "numeric": limits.numeric_chars}[item_type]
        if len(raw) > limit:
            label = item_type.replace("_", " ")
            raise ResponseTooLarge(f"response: {len(raw)} characters; the limit for a {label} answer is {limit}")
    if item_type == "fill_blank" and isinstance(raw, list):
        for index, entry in enumerate(raw):
            if isinstance(entry, str) and len(entry) > limits.blank_chars:
                raise ResponseTooLarge(f"response[{index}] (blank {index + 1}): {len(entry)} characters; "
                                       f"the limit per blank is {limits.blank_chars}")
