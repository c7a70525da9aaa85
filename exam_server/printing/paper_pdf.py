"""The paper (试卷) as a PDF: the student copy of a form or of one candidate's variant, and the
teacher's copy (教师用卷) with keys, reference answers and explanations. Pure: the caller passes the
view (``paper_student_view``, or ``variant_view`` of it), the keys and a media loader.

* A4 portrait in one column, or A3 landscape in two columns; "第 x 页 / 共 y 页" on every page.
* Sections with their titles, item counts and points; items numbered 1..N across sections in
  the view's order; options labelled A B C ... (a variant's own labels when it has them).
* Pictures: a stem refers to them as ``![alt](media:NAME)``, ``NAME`` being one of the slot's
  ``media`` (name, sha256); the bytes come from ``media(sha256)`` (the file store).
* Formulas (LaTeX between ``$...$``, ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]``) are typeset by
  matplotlib's mathtext (``exam_server/printing/formulas.py``) and placed inline on the baseline;
  one it cannot typeset prints as its LaTeX source in a monospace font.
* Blanks ``[[n]]`` print as a numbered underline, "(n)" on the line."""

from __future__ import annotations

import io
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, Image, KeepTogether, PageTemplate, Paragraph, Spacer

from exam_server.printing import formulas

MONO = "Courier"
KEY_COLOUR = Color(0.75, 0.0, 0.0)
CN_NUMERALS = "一二三四五六七八九十"
INSTRUCTIONS: tuple[str, ...] = (
    "1. 答题前，考生务必将姓名、准考证号填写（填涂）在答题卡上。"
    " Write (and fill in) your name and admission number on the answer sheet first.",
    "2. 选择题用2B铅笔在答题卡上把对应选项涂黑；非选择题用黑色签字笔在答题卡的对应区域内作答，写在本试卷上无效。"
    " Fill choice answers on the answer sheet with a 2B pencil; write the other answers in their boxes"
    " on the answer sheet. Answers written on this paper are not marked.",
    "3. 考试结束后，将本试卷和答题卡一并交回。 Hand in this paper and the answer sheet at the end.",
)

_MEDIA = re.compile(r"!\[([^\]]*)\]\(media:([^)]+)\)")
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_GAP = re.compile(r"\[\[(\d+)\]\]")

MediaLoader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class ItemKey:
    """What the teacher's copy shows of an item: its type, full definition and explanation."""

    type: str
    definition: dict[str, Any]
    explanation: str | None = None


@dataclass(frozen=True)
class PaperPrint:
    title: str
    view: dict[str, Any]  # a student view (item_bank.papers.paper_student_view) or a variant of it
    form: str | None = None
    size: str = "A4"  # "A4" or "A3" (landscape, two columns)
    keys: dict[int, ItemKey] | None = None  # slot id -> key: the teacher's copy
    candidate: str | None = None  # a variant printed for one candidate: their name / admission number
    instructions: tuple[str, ...] = INSTRUCTIONS
    media: MediaLoader = field(default=lambda _sha: None)


@dataclass
class _Styles:
    font: str
    title: ParagraphStyle = field(init=False)
    sub: ParagraphStyle = field(init=False)
    section: ParagraphStyle = field(init=False)
    body: ParagraphStyle = field(init=False)
    option: ParagraphStyle = field(init=False)
    key: ParagraphStyle = field(init=False)
    small: ParagraphStyle = field(init=False)

    def __post_init__(self) -> None:
        base = ParagraphStyle("body", fontName=self.font, fontSize=10.5, leading=16, wordWrap="CJK")
        self.body = base
        self.title = ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=4)
        self.sub = ParagraphStyle("sub", parent=base, fontSize=10, leading=14, alignment=1, spaceAfter=6)
        self.section = ParagraphStyle("section", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
        self.option = ParagraphStyle("option", parent=base, leftIndent=18, leading=15)
        self.key = ParagraphStyle("key", parent=base, leftIndent=18, textColor=KEY_COLOUR, leading=15)
        self.small = ParagraphStyle("small", parent=base, fontSize=9, leading=13)


def label_of(options: Sequence[dict[str, Any]], index: int) -> str:
    shown = options[index].get("label")
    return str(shown) if shown else (string.ascii_uppercase[index] if index < 26 else str(index + 1))


def rich(text: str) -> str:
    """Paragraph markup for a stem or option text without pictures: escaped, formulas in
    monospace, blanks as numbered underlines, line breaks kept."""
    out: list[str] = []
    pos = 0
    for match in _MATH.finditer(text):
        out.append(_plain(text[pos:match.start()]))
        formula = next(g for g in match.groups() if g is not None).strip()
        out.append(_formula(formula))
        pos = match.end()
    out.append(_plain(text[pos:]))
    return "".join(out)


def _formula(latex: str) -> str:
    drawn = formulas.render(latex)
    if drawn is None:
        return f'<font name="{MONO}">{escape(latex)}</font>'
    return (f'<img src="{escape(str(drawn.path))}" width="{drawn.width:.2f}" height="{drawn.height:.2f}" '
            f'valign="{-drawn.depth:.2f}"/>')


def _plain(text: str) -> str:
    escaped = escape(text)
    escaped = _GAP.sub(lambda m: f"<u>&nbsp;&nbsp;({m.group(1)})&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;</u>",
                       escaped)
    return escaped.replace("\n", "<br/>")


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Defers pages so the footer can say how many there are in all."""

    footer_font = "Helvetica"
    footer_note = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        width, _ = self._pagesize
        self.setFont(self.footer_font, 9)
        self.setFillGray(0)
        page = self._pageNumber
        note = f"{self.footer_note}    " if self.footer_note else ""
        self.drawCentredString(width / 2, 10 * mm, f"{note}第 {page} 页 / 共 {total} 页")


def render_paper(paper: PaperPrint, out: BinaryIO, font: str) -> int:
    """Write the paper's PDF to ``out``; returns the number of pages."""
    if paper.size not in ("A4", "A3"):
        raise ValueError(f"size: {paper.size!r} is not A4 or A3")
    styles = _Styles(font)
    pagesize = A4 if paper.size == "A4" else landscape(A3)
    width, height = pagesize
    margin = 18 * mm
    if paper.size == "A4":
        frames = [Frame(margin, margin, width - 2 * margin, height - 2 * margin, id="main")]
    else:
        gap = 12 * mm
        col = (width - 2 * margin - gap) / 2
        frames = [Frame(margin, margin, col, height - 2 * margin, id="left"),
                  Frame(margin + col + gap, margin, col, height - 2 * margin, id="right")]
    title = paper.title + ("（教师用卷）" if paper.keys is not None else "")
    doc = BaseDocTemplate(out, pagesize=pagesize, title=title, creator="exam-service",
                          leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin)
    doc.addPageTemplates([PageTemplate(id="paper", frames=frames)])
    story = _story(paper, styles, frames[0].width - 12)
    pages: list[int] = []

    class Numbered(_NumberedCanvas):
        footer_font = font
        footer_note = " ".join(s for s in (paper.title, f"{paper.form} 卷" if paper.form else "") if s)

        def save(self) -> None:
            pages.append(len(self._saved))
            super().save()

    doc.build(story, canvasmaker=Numbered)
    return pages[0] if pages else 0


def _story(paper: PaperPrint, st: _Styles, width: float) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(escape(paper.title), st.title)]
    sub = [f"{paper.form} 卷 Form {paper.form}" if paper.form else "",
           "教师用卷 Teacher's copy (keys and explanations)" if paper.keys is not None else "",
           escape(paper.candidate) if paper.candidate else ""]
    slots = [s for section in paper.view.get("sections", []) for s in section.get("slots", [])]
    total = sum(float(s.get("points", 0)) for s in slots)
    sub.append(f"共 {len(slots)} 题，满分 {_num(total)} 分 · {len(slots)} questions, {_num(total)} points")
    story.append(Paragraph("　".join(s for s in sub if s), st.sub))
    if paper.keys is None and not paper.candidate:
        story.append(Paragraph("姓名 Name ____________　　班级 Class ________　　准考证号 Admission No. "
                               "________________", st.sub))
    story.append(Paragraph("考生须知 Instructions", st.small))
    story += [Paragraph(escape(line), st.small) for line in paper.instructions]
    story.append(Spacer(1, 6))
    number = 0
    for index, section in enumerate(paper.view.get("sections", [])):
        section_slots = section.get("slots", [])
        points = sum(float(s.get("points", 0)) for s in section_slots)
        numeral = CN_NUMERALS[index] if index < len(CN_NUMERALS) else str(index + 1)
        story.append(Paragraph(f"{numeral}、{escape(str(section.get('title', '')))}"
                               f"（共 {len(section_slots)} 题，{_num(points)} 分）", st.section))
        for slot in section_slots:
            number += 1
            key = paper.keys.get(int(slot["slot_id"])) if paper.keys is not None else None
            story.append(KeepTogether(_item(number, slot, key, paper.media, st, width)))
    return story


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _item(number: int, slot: dict[str, Any], key: ItemKey | None, media: MediaLoader, st: _Styles,
          width: float) -> list[Flowable]:
    item_type = str(slot.get("type", ""))
    content: dict[str, Any] = slot.get("content") or {}
    stem = str(slot.get("stem", ""))
    if item_type == "fill_blank" and not _GAP.search(stem):
        stem += "".join(f" [[{k}]]" for k in range(1, int(content.get("blanks", 1)) + 1))
    lead = f"{number}.（{_num(float(slot.get('points', 0)))}分）"
    flow = _stem(lead, stem, slot.get("media", []), media, st, width)
    options = content.get("options")
    if isinstance(options, list):
        flow += _options(options, st, width)
    if item_type == "true_false":
        flow.append(Paragraph("对 True　/　错 False", st.option))
    elif item_type == "numeric":
        unit = content.get("unit")
        flow.append(Paragraph("答 Answer: ________ " + escape(str(unit or "")), st.option))
    elif item_type == "inline_choice":
        for g, gap in enumerate(content.get("gaps", [])):
            opts = gap.get("options", [])
            shown = "　".join(f"{label_of(opts, i)}. {rich(str(o.get('text', '')))}" for i, o in enumerate(opts))
            flow.append(Paragraph(f"({g + 1}) {shown}", st.option))
    elif item_type == "matching":
        flow += [Paragraph(f"({i + 1}) {rich(str(p.get('text', '')))}", st.option)
                 for i, p in enumerate(content.get("prompts", []))]
        choices = content.get("choices", [])
        flow += [Paragraph(f"{label_of(choices, i)}. {rich(str(c.get('text', '')))}", st.option)
                 for i, c in enumerate(choices)]
        flow.append(Paragraph("在答题卡上写出配对，如 1-B。 Write the pairs on the answer sheet, e.g. 1-B.", st.option))
    elif item_type == "ordering":
        entries = content.get("items", [])
        flow += [Paragraph(f"{label_of(entries, i)}. {rich(str(e.get('text', '')))}", st.option)
                 for i, e in enumerate(entries)]
        flow.append(Paragraph("在答题卡上写出顺序，如 C A B。 Write the order on the answer sheet, e.g. C A B.",
                              st.option))
    if key is not None:
        flow += _key(slot, key, st)
    flow.append(Spacer(1, 5))
    return flow


def _options(options: list[dict[str, Any]], st: _Styles, width: float) -> list[Flowable]:
    """Short options share a line (all of them, or two a line), as printed papers do; long or
    pictured ones get a line each."""
    shown = [f"{label_of(options, i)}. {o.get('text', '')}" for i, o in enumerate(options)]
    marked = [f"{label_of(options, i)}. {rich(str(o.get('text', '')))}" for i, o in enumerate(options)]
    room = width - st.option.leftIndent
    widest = max((stringWidth(t, st.option.fontName, st.option.fontSize) for t in shown), default=0.0)
    space = stringWidth(" ", st.option.fontName, st.option.fontSize)
    gap = "&nbsp;" * max(2, int(2 * st.option.fontSize / space))
    if "\n" in "".join(shown) or _MEDIA.search("".join(shown)):
        per_line = 1
    elif widest * len(shown) + 2 * st.option.fontSize * (len(shown) - 1) <= room:
        per_line = len(shown)
    elif 2 * widest + 2 * st.option.fontSize <= room:
        per_line = 2
    else:
        per_line = 1
    if per_line == 1:
        return [Paragraph(m, st.option) for m in marked]
    cell = max(widest + 2 * st.option.fontSize, room / per_line) if per_line == 2 else 0.0
    lines = []
    for start in range(0, len(marked), per_line):
        chunk = marked[start:start + per_line]
        if per_line == 2 and len(chunk) == 2:
            pad = max(2, int((cell - stringWidth(shown[start], st.option.fontName, st.option.fontSize)) // space))
            lines.append(Paragraph(chunk[0] + "&nbsp;" * pad + chunk[1], st.option))
        else:
            lines.append(Paragraph(gap.join(chunk), st.option))
    return lines


def _stem(lead: str, stem: str, named: list[dict[str, Any]], media: MediaLoader, st: _Styles,
          width: float) -> list[Flowable]:
    """The stem as paragraphs with its pictures between them, where the stem names them."""
    by_name = {str(m.get("name")): str(m.get("sha256")) for m in named}
    flow: list[Flowable] = []
    pos, first = 0, True
    for match in _MEDIA.finditer(stem):
        text = stem[pos:match.start()]
        if text.strip() or first:
            flow.append(Paragraph((lead if first else "") + rich(text), st.body))
            first = False
        flow.append(_picture(match.group(1), match.group(2), by_name, media, st, width))
        pos = match.end()
    rest = stem[pos:]
    if rest.strip() or first:
        flow.append(Paragraph((lead if first else "") + rich(rest), st.body))
    return flow


def _picture(alt: str, name: str, by_name: dict[str, str], media: MediaLoader, st: _Styles,
             width: float) -> Flowable:
    sha = by_name.get(name)
    data = media(sha) if sha else None
    if data:
        try:
            reader = ImageReader(io.BytesIO(data))
            w, h = reader.getSize()
            scale = min(1.0, (width * 0.8) / (w * 0.75), (90 * mm) / (h * 0.75))
            return Image(io.BytesIO(data), width=w * 0.75 * scale, height=h * 0.75 * scale, hAlign="LEFT")
        except Exception:  # noqa: BLE001 - a picture that cannot be decoded prints as its name
            pass
    return Paragraph(f"[图片缺失 missing picture: {escape(alt or name)}]", st.option)


def _key(slot: dict[str, Any], key: ItemKey, st: _Styles) -> list[Flowable]:
    content: dict[str, Any] = slot.get("content") or {}
    d = key.definition
    lines: list[str] = []
    raw_options = content.get("options")
    options: list[dict[str, Any]] = raw_options if isinstance(raw_options, list) else []

    def label(entries: list[dict[str, Any]], option_id: Any) -> str:
        for i, o in enumerate(entries):
            if o.get("id") == option_id:
                return label_of(entries, i)
        return str(option_id)

    if key.type == "single_choice":
        lines.append(f"答案 Key: {label(options, d.get('correct'))}")
    elif key.type == "multiple_choice":
        chosen = sorted(label(options, c) for c in d.get("correct", []))
        lines.append(f"答案 Key: {' '.join(chosen)}")
    elif key.type == "true_false":
        lines.append("答案 Key: " + ("对 True" if d.get("correct") else "错 False"))
    elif key.type == "fill_blank":
        for b, blank in enumerate(d.get("blanks", [])):
            answers = " / ".join(escape(str(a.get("text"))) + ("" if a.get("fraction", 1) == 1
                                                                 else f" ({_num(100 * a['fraction'])}%)")
                                 for a in blank.get("answers", []))
            lines.append(f"答案 Key ({b + 1}): {answers}")
    elif key.type == "numeric":
        unit = f" {d['unit']}" if d.get("unit") else ""
        answers = " / ".join(f"{_num(a['value'])}" + (f" ± {_num(a['tolerance'])}" if a.get("tolerance") else "")
                             for a in d.get("answers", []))
        lines.append(f"答案 Key: {escape(answers + unit)}")
    elif key.type == "inline_choice":
        gaps = content.get("gaps", [])
        for g, gap in enumerate(d.get("gaps", [])):
            shown = gaps[g].get("options", []) if g < len(gaps) else gap.get("options", [])
            lines.append(f"答案 Key ({g + 1}): {label(shown, gap.get('correct'))}")
    elif key.type == "matching":
        prompts, choices = content.get("prompts", []), content.get("choices", [])
        pairs = [f"{i + 1}-{label(choices, d.get('correct', {}).get(p.get('id')))}" for i, p in enumerate(prompts)]
        lines.append(f"答案 Key: {', '.join(pairs)}")
    elif key.type == "ordering":
        lines.append(f"答案 Key: {' '.join(label(content.get('items', []), i) for i in d.get('correct_order', []))}")
    if d.get("reference_answer"):
        lines.append(f"参考答案 Reference answer: {rich(str(d['reference_answer']))}")
    if d.get("rubric"):
        lines.append(f"评分标准 Rubric: {rich(str(d['rubric']))}")
    if key.explanation:
        lines.append(f"解析 Explanation: {rich(key.explanation)}")
    return [Paragraph(line, st.key) for line in lines]
