"""Convert an OMRChecker ``template.json`` (github.com/Udayraj123/OMRChecker) into a SheetLayout,
so sheets teachers already read with OMRChecker go through our reader without a new template.

OMRChecker's format (pixels of the page image after its pre-processors):

* ``pageDimensions`` (or ``templateDimensions`` in newer versions): ``[width, height]`` in px;
* ``bubbleDimensions``: ``[width, height]`` of a bubble's box, px (a block may override it);
* ``fieldBlocks``: name -> block with ``origin`` (top-left corner of the first bubble's box),
  ``fieldType`` / ``bubbleFieldType`` (``QTYPE_MCQ4``, ``QTYPE_MCQ5``, ``QTYPE_INT``,
  ``QTYPE_INT_FROM_1`` or a name from ``customBubbleFieldTypes``) or explicit ``bubbleValues`` +
  ``direction``, ``bubblesGap`` (distance between the boxes of one field's bubbles),
  ``labelsGap`` (distance between consecutive fields) and ``fieldLabels`` (names, with ranges
  such as ``"q1..20"``);
* ``direction`` ``horizontal`` (a field's bubbles run along x: a question row) or ``vertical``
  (they run down: a digit column);
* ``customLabels``: name -> field labels concatenated into one value (``"Roll": ["roll1..9"]``);
* ``preProcessors``: ``CropOnMarkers`` (four corner markers; the page is cropped between the
  markers' centres and resized to ``pageDimensions``), ``CropPage`` (the page's edges), others
  (blur, levels, feature alignment) which do not change coordinates.

Mapping: a page of ``pageDimensions`` px at ``dpi`` (a template is drawn at the resolution its
author scanned at: pass it). With ``CropOnMarkers`` the template's (0, 0) is the top-left marker's
centre, so the layout puts the markers ``margin_mm`` in from the paper edge and shifts everything
by that margin; the marker size comes from ``markerDimensions``/``dimensions`` (px) or
``sheetToMarkerWidthRatio``. Without markers the alignment is ``edges``. Horizontal blocks become
``direction: rows``, vertical ones ``columns``; bubble centres are the boxes' centres. Fields in
the custom label named ``admission_label`` (default ``Roll``) become a ``digits`` block; every
other block is ``single`` (OMRChecker has no multiple-response type; it flags multi-marked fields).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from omr.layout import (
    Alignment,
    AlignMethod,
    BlockKind,
    BubbleBlock,
    Direction,
    LayoutFileError,
    Marker,
    PageSize,
    SheetLayout,
)

BUILTIN_TYPES: dict[str, tuple[list[str], str]] = {
    "QTYPE_INT": ([str(d) for d in range(10)], "vertical"),
    "QTYPE_INT_FROM_1": ([str(d) for d in range(1, 10)] + ["0"], "vertical"),
    "QTYPE_MCQ4": (["A", "B", "C", "D"], "horizontal"),
    "QTYPE_MCQ5": (["A", "B", "C", "D", "E"], "horizontal"),
}
_RANGE = re.compile(r"^([^.\d]*?)(\d+)\.\.(\d+)$")


class TemplateError(LayoutFileError):
    """An OMRChecker template we cannot convert; the message names the key path."""


def expand_labels(labels: list[str], where: str) -> list[str]:
    """``["q1..3", "x"]`` -> ``["q1", "q2", "q3", "x"]``."""
    out: list[str] = []
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise TemplateError(f"{where}[{i}]: a field label is a string, got {label!r}")
        m = _RANGE.match(label)
        if m:
            prefix, a, b = m.group(1), int(m.group(2)), int(m.group(3))
            if b < a or b - a > 500:
                raise TemplateError(f"{where}[{i}]: bad range {label!r}")
            out.extend(f"{prefix}{n}" for n in range(a, b + 1))
        else:
            out.append(label)
    return out


def _pair(value: Any, where: str) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value)):
        raise TemplateError(f"{where}: expected [x, y] of two non-negative numbers, got {value!r}")
    return float(value[0]), float(value[1])


def _number(block: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = block.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise TemplateError(f"{where}.{key}: expected a non-negative number, got {value!r}")
    return float(value)


def _block_id(name: str) -> str:
    cleaned = re.sub(r"\s+", "-", name.strip())[:60]
    return cleaned or "block"


def convert_template(template: dict[str, Any], dpi: float = 200.0, name: str = "omrchecker",
                     margin_mm: float = 10.0, admission_label: str | None = "Roll") -> SheetLayout:
    """A SheetLayout for an OMRChecker template (a parsed ``template.json``)."""
    if not isinstance(template, dict):
        raise TemplateError("template: a JSON object at the top level")
    if dpi <= 0 or dpi > 2400:
        raise TemplateError(f"dpi {dpi}: between 1 and 2400")
    dims_key = "pageDimensions" if "pageDimensions" in template else "templateDimensions"
    if dims_key not in template:
        raise TemplateError("template: pageDimensions (or templateDimensions) is required")
    page_w, page_h = _pair(template[dims_key], dims_key)
    if page_w <= 0 or page_h <= 0:
        raise TemplateError(f"{dims_key}: width and height must be > 0")
    bubble_default = _pair(template.get("bubbleDimensions", [40, 40]), "bubbleDimensions")
    mm = 25.4 / dpi

    processors = template.get("preProcessors", [])
    if not isinstance(processors, list):
        raise TemplateError("preProcessors: a list")
    names = [p.get("name") for p in processors if isinstance(p, dict)]
    markers_used = "CropOnMarkers" in names
    offset = margin_mm if markers_used else 0.0
    width_mm, height_mm = page_w * mm + 2 * offset, page_h * mm + 2 * offset
    if markers_used:
        options = next(p for p in processors if isinstance(p, dict) and p.get("name") == "CropOnMarkers").get(
            "options", {}) or {}
        size_px: float | None = None
        for key in ("markerDimensions", "dimensions"):
            if key in options:
                size_px = max(_pair(options[key], f"preProcessors.CropOnMarkers.options.{key}"))
        if size_px is not None:
            size = size_px * mm
        elif "sheetToMarkerWidthRatio" in options:
            ratio = _number(options, "sheetToMarkerWidthRatio", "preProcessors.CropOnMarkers.options")
            size = width_mm / ratio if ratio > 0 else 6.0
        else:
            size = 6.0
        size = max(2.0, min(size, 2 * margin_mm - 1))
        corners = [(offset, offset), (offset + page_w * mm, offset), (offset + page_w * mm, offset + page_h * mm),
                   (offset, offset + page_h * mm)]
        alignment = Alignment(method=AlignMethod.MARKERS, markers=[Marker(x=x, y=y, size=size) for x, y in corners])
    else:
        alignment = Alignment(method=AlignMethod.EDGES)

    custom_types: dict[str, Any] = template.get("customBubbleFieldTypes", {}) or {}
    custom_labels: dict[str, Any] = template.get("customLabels", {}) or {}
    admission_fields: set[str] = set()
    if admission_label and admission_label in custom_labels:
        admission_fields = set(expand_labels(list(custom_labels[admission_label]), f"customLabels.{admission_label}"))

    blocks_in = template.get("fieldBlocks")
    if not isinstance(blocks_in, dict) or not blocks_in:
        raise TemplateError("fieldBlocks: a non-empty object of named blocks")
    blocks: list[BubbleBlock] = []
    for block_name, spec in blocks_in.items():
        where = f"fieldBlocks.{block_name}"
        if not isinstance(spec, dict):
            raise TemplateError(f"{where}: an object")
        if spec.get("fieldDetectionType", "BUBBLES_THRESHOLD") != "BUBBLES_THRESHOLD":
            continue  # OCR / barcode zones: not bubbles
        type_name = spec.get("bubbleFieldType", spec.get("fieldType"))
        if "bubbleValues" in spec:
            values, direction = list(spec["bubbleValues"]), str(spec.get("direction", "horizontal"))
        elif isinstance(type_name, str) and type_name in custom_types:
            custom = custom_types[type_name]
            values, direction = list(custom.get("bubbleValues", [])), str(custom.get("direction", "horizontal"))
        elif isinstance(type_name, str) and type_name in BUILTIN_TYPES:
            values, direction = list(BUILTIN_TYPES[type_name][0]), BUILTIN_TYPES[type_name][1]
        else:
            raise TemplateError(f"{where}.fieldType: unknown field type {type_name!r} "
                                f"(known: {', '.join(sorted(BUILTIN_TYPES) + sorted(custom_types))})")
        direction = str(spec.get("direction", direction))
        if direction not in ("horizontal", "vertical"):
            raise TemplateError(f"{where}.direction: horizontal or vertical, got {direction!r}")
        if not values:
            raise TemplateError(f"{where}: no bubble values")
        labels_raw = spec.get("fieldLabels")
        if not isinstance(labels_raw, list) or not labels_raw:
            raise TemplateError(f"{where}.fieldLabels: a non-empty list")
        fields = expand_labels(labels_raw, f"{where}.fieldLabels")
        ox, oy = _pair(spec.get("origin"), f"{where}.origin")
        bw, bh = _pair(spec["bubbleDimensions"], f"{where}.bubbleDimensions") if "bubbleDimensions" in spec \
            else bubble_default
        bubbles_gap = _number(spec, "bubblesGap", where, 0.0 if len(values) == 1 else None)
        labels_gap = _number(spec, "labelsGap", where, 0.0 if len(fields) == 1 else None)
        if direction == "horizontal":
            rows, columns, pitch_x, pitch_y, dir_ = len(fields), len(values), bubbles_gap, labels_gap, Direction.ROWS
        else:
            rows, columns, pitch_x, pitch_y, dir_ = len(values), len(fields), labels_gap, bubbles_gap, Direction.COLUMNS
        digit_values = all(str(v).isdigit() and len(str(v)) == 1 for v in values)
        kind = BlockKind.DIGITS if digit_values and set(fields) <= admission_fields else BlockKind.SINGLE
        try:
            blocks.append(BubbleBlock(
                id=_block_id(block_name), kind=kind, origin_x=offset + (ox + bw / 2) * mm,
                origin_y=offset + (oy + bh / 2) * mm, rows=rows, columns=columns, pitch_x=pitch_x * mm,
                pitch_y=pitch_y * mm, bubble_width=bw * mm, bubble_height=bh * mm, direction=dir_,
                labels=[str(v) for v in values], fields=fields))
        except ValueError as exc:
            raise TemplateError(f"{where}: {exc}") from exc
    try:
        return SheetLayout(name=name, page=PageSize(width=width_mm, height=height_mm), alignment=alignment,
                           bubble_blocks=blocks)
    except ValueError as exc:
        raise TemplateError(f"template: {exc}") from exc


def load_template(path: Path, dpi: float = 200.0, margin_mm: float = 10.0,
                  admission_label: str | None = "Roll") -> SheetLayout:
    """Read and convert an OMRChecker ``template.json`` file (errors name the file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read an OMRChecker template: {exc}") from exc
    try:
        return convert_template(data, dpi=dpi, name=path.parent.name or path.stem, margin_mm=margin_mm,
                                admission_label=admission_label)
    except TemplateError as exc:
        raise TemplateError(f"{path}: {exc}") from exc
