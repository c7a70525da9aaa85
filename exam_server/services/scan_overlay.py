"""The exception page's picture: the stored reading drawn over the rectified page by
``omr.overlay.draw_overlay`` when that module is installed (else the page is shown as it is)."""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from omr.layout import SheetLayout
from omr.reading import BubbleState, FieldReading, FieldStatus, Issue, IssueCode, PageReading
from omr.sheet_code import SheetCode

log = logging.getLogger(__name__)


def reading_from_json(image: np.ndarray, data: dict[str, Any], layout: SheetLayout | None = None) -> PageReading:
    """A PageReading rebuilt from what a scan page stored (question fields and reader issues)."""
    code = data.get("code")
    known = {c.value for c in IssueCode}
    fields = [FieldReading(f.get("block", ""), name, f.get("value", ""), FieldStatus(f.get("status", "ok")),
                           float(f.get("confidence", 0.0)), dict(f.get("fills") or {}),
                           {label: BubbleState.MARKED if label in f.get("value", "") else BubbleState.BLANK
                            for label in (f.get("fills") or {})})
              for name, f in (data.get("fields") or {}).items()]
    return PageReading(
        layout_name=str(data.get("layout_name", "")), page_no=int(data.get("page_no") or 1),
        code=SheetCode(**code) if code else None, rotation=int(data.get("rotation") or 0),
        px_per_mm=float(data.get("px_per_mm") or 1.0), image=image, fields=fields,
        admission_no=data.get("admission_no"), admission_confidence=float(data.get("admission_confidence") or 0),
        absent=bool(data.get("absent")),
        issues=[Issue(IssueCode(i["code"]), i.get("reason", ""), i.get("field"))
                for i in data.get("issues", []) if i.get("code") in known], layout=layout)


def overlay_png(page_png: bytes, reading: dict[str, Any] | None, layout: SheetLayout | None = None) -> bytes | None:
    """The overlay as PNG, or None (no overlay module, no reading, or drawing failed)."""
    if not reading:
        return None
    try:
        from omr.overlay import draw_overlay
    except ImportError:
        return None
    try:
        image = cv2.imdecode(np.frombuffer(page_png, np.uint8), cv2.IMREAD_GRAYSCALE)
        if image is None:
            return None
        picture = draw_overlay(reading_from_json(image, reading, layout))
        ok, encoded = cv2.imencode(".png", picture)
        return bytes(encoded.tobytes()) if ok else None
    except Exception:  # noqa: BLE001 - a debug picture never stops a person from seeing the page
        log.exception("overlay failed; showing the page")
        return None
