"""The CJK font every printed page uses: a TrueType font embedded as a subset in each PDF.

Without one, Chinese names would print as empty boxes (tofu), so a missing font is an error that
names the file and how to install it, never a silent fallback."""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from exam_server.errors import PrintingUnavailable

FONT_NAME = "ExamCJK"
# Searched in order when no path is configured (EXAM_PRINT_FONT_PATH). A .ttc holds several
# faces; the index picks the regular one.
CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
INSTALL_HINT = ("install a CJK TrueType font: on Debian `apt-get install fonts-wqy-zenhei` (as root; `make fonts` "
                "does it), or set EXAM_PRINT_FONT_PATH to a .ttf/.ttc file")

_registered: dict[str, str] = {}


def find_font(configured: Path | None = None) -> tuple[Path, int]:
    if configured is not None:
        if not configured.is_file():
            raise PrintingUnavailable(f"the configured print font {configured} does not exist; {INSTALL_HINT}")
        return configured, 0
    for path, index in CANDIDATES:
        if path.is_file():
            return path, index
    names = ", ".join(str(p) for p, _ in CANDIDATES)
    raise PrintingUnavailable(f"no CJK font for printing (looked for {names}); {INSTALL_HINT}")


def cjk_font(configured: Path | None = None) -> str:
    """Register the font once per process and return its reportlab name."""
    path, index = find_font(configured)
    key = f"{path}#{index}"
    if key not in _registered:
        name = f"{FONT_NAME}{len(_registered)}"
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
        except Exception as exc:  # noqa: BLE001 - reportlab raises plain errors for unusable fonts
            raise PrintingUnavailable(f"the print font {path} cannot be used ({exc}); {INSTALL_HINT}") from exc
        _registered[key] = name
    return _registered[key]
