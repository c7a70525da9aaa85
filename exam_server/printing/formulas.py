"""LaTeX formulas drawn for printed papers with matplotlib's mathtext (a TeX subset: fractions,
roots, sub/superscripts, Greek, operators; no TeX installation needed). Each formula becomes a
PNG in a cache folder (keyed by its text and size) that a reportlab Paragraph places inline with
``<img>``, lowered by the formula's depth so it sits on the text's baseline. A formula mathtext
cannot parse comes back as None and is printed as its source instead: a paper always prints."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

_LOCK = threading.Lock()  # matplotlib's mathtext parser is not thread-safe
CACHE = Path(tempfile.gettempdir()) / "exam-service-formulas"
DPI = 300


@dataclass(frozen=True)
class Formula:
    path: Path
    width: float  # points
    height: float
    depth: float  # points below the baseline


def render(latex: str, size: float = 10.5) -> Formula | None:
    """The formula as a cached PNG, or None when mathtext cannot typeset it."""
    key = hashlib.sha256(f"{size}|{latex}".encode()).hexdigest()[:32]
    path = CACHE / f"{key}.png"
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.font_manager import FontProperties
        from matplotlib.mathtext import MathTextParser, math_to_image
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    text = f"${latex}$"
    prop = FontProperties(size=size)
    with _LOCK:
        try:
            width, height, depth, _, _ = MathTextParser("path").parse(text, dpi=72, prop=prop)
            if not path.exists():
                CACHE.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(f".{threading.get_ident()}.part")
                math_to_image(text, str(partial), prop=prop, dpi=DPI, format="png")
                partial.replace(path)
        except (ValueError, RuntimeError, OSError):
            return None
    return Formula(path, float(width), float(height), float(depth))
