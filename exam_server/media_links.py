"""Signed, expiring links to stored media, so an <img> tag can load an item's picture without a
bearer token (browsers send none for images) and without making the store public."""

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from exam_server.errors import Forbidden

# Links are short-lived: staff pages get minutes; an exam page gets its sitting (until the
# candidate's deadline plus a little slack), because its pictures load lazily as they scroll.
STAFF_LIFETIME = timedelta(minutes=15)
SITTING_SLACK = timedelta(minutes=5)


def _signature(key: str, sha256: str, expires: int) -> str:
    return hmac.new(key.encode(), f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def signed_url(key: str, sha256: str, until: datetime) -> str:
    expires = int(until.timestamp())
    return f"/media/{sha256}?exp={expires}&sig={_signature(key, sha256, expires)}"


def verify(key: str, sha256: str, expires: int, signature: str, now: datetime) -> None:
    if not hmac.compare_digest(_signature(key, sha256, expires), signature):
        raise Forbidden(f"media {sha256}: the link's signature is not valid")
    if expires < now.timestamp():
        raise Forbidden(f"media {sha256}: the link expired; reload the page for a fresh one")


def link_expiry(now: datetime, deadline: datetime | None) -> datetime:
    """Until the end of the sitting when there is one still running, else a few minutes."""
    if deadline is not None and deadline > now:
        return deadline + SITTING_SLACK
    return now + STAFF_LIFETIME


def with_media_links(view: dict[str, Any], key: str, until: datetime) -> dict[str, Any]:
    """Give each slot's media a signed ``url`` (the view is a per-request copy; edited in place)."""
    for section in view["sections"]:
        for slot in section["slots"]:
            for media in slot.get("media", []):
                media["url"] = signed_url(key, media["sha256"], until)
    return view
