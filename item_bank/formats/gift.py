"""GIFT (Moodle's plain-text question format). What it shares with Moodle XML and Aiken lives
in :mod:`item_bank.formats.shared`.

GIFT covered: ``::title::``, ``//`` comments (with Moodle's ``[tag:x]`` / ``[id:x]``),
``$CATEGORY:``, ``[html]``/``[markdown]``/``[plain]``/``[moodle]`` markers, escapes ``\\~ \\= \\#
\\{ \\} \\:`` and ``\\n``, multiple choice (``=``, ``~``, ``~%50%``), true/false, short answer
(one fill_blank blank), matching (``=a -> b``), numeric (``#v:t``, ``#a..b``, several
``=``-answers), essay ``{}``, general feedback ``####``, missing-word (text after the answer
block; the stem gets ``_____``). Per-answer feedback ``#...`` is dropped with a note.

:func:`write_gift` takes an optional ``notes`` list that receives one line per item skipped
(multi-blank fill_blank, inline_choice, ordering) or written with a loss.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from item_bank.formats.common import MAX_ITEMS, check_size, html_to_text
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft
from item_bank.formats.shared import (
    ItemRejected,
    ItemSkipped,
    category_path,
    category_text,
    choice_definition,
    choice_percents,
    common_losses,
    escape,
    finish_outcome,
    format_number,
    format_percent,
    matching_definition,
    unescape,
    weighted,
)

Definition = dict[str, Any]


# ------------------------------------------------------------------ reading GIFT


@dataclass
class _Block:
    lines: list[tuple[int, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None

    def line_of(self, pos: int, text: str) -> int:
        return self.lines[min(text.count("\n", 0, pos), len(self.lines) - 1)][0]


def _blocks(text: str) -> Iterator[_Block]:
    block = _Block()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            if block.lines:
                yield block
                block = _Block()
        elif stripped.startswith("//"):
            for kind, value in re.findall(r"\[(tag|id):([^\]]*)\]", stripped):
                if kind == "tag" and value.strip():
                    block.tags.append(value.strip())
                elif kind == "id":
                    block.external_id = value.strip() or None
        else:
            block.lines.append((number, line))
    if block.lines:
        yield block


def read_gift(text: str) -> ImportReport:
    """Read GIFT text; a malformed question is rejected with its line, the rest still import."""
    check_size(text.encode("utf-8"), "GIFT")
    report = ImportReport(format="gift")
    category: tuple[str, ...] = ()
    for block in _blocks(text.lstrip("\ufeff")):
        first = block.lines[0][1].strip()
        if first.startswith("$CATEGORY:"):
            category = category_path(first[len("$CATEGORY:"):])
            continue
        if len(report.outcomes) >= MAX_ITEMS:
            raise FormatError(f"GIFT: more than {MAX_ITEMS} questions")
        report.outcomes.append(_read_item(block, len(report.outcomes), category))
    return report


_TITLE = re.compile(r"\s*::((?:\\.|[^\\])*?)::")
_FORMAT = re.compile(r"\s*\[(html|markdown|plain|moodle)\]")


def _read_item(block: _Block, index: int, category: tuple[str, ...]) -> ImportOutcome:
    body = "\n".join(line for _, line in block.lines)
    title_match = _TITLE.match(body)
    title = unescape(title_match.group(1)).strip() or None if title_match else None
    start = block.lines[0][0]
    identifier = f'item {index + 1} "{title}" (line {start})' if title else f"item {index + 1} (line {start})"
    notes: list[str] = []
    try:
        before, content, after = _split_answer(body, title_match.end() if title_match else 0, block)
        format_match = _FORMAT.match(before)
        markup = format_match.group(1) if format_match else "moodle"
        before = before[format_match.end():] if format_match else before
        content, *general = re.split(r"(?<!\\)####", content, maxsplit=1)
        item_type, definition = _answers(content.strip(), notes)
        stem = unescape(before + "_____" + after if after.strip() else before).strip()
        draft = ItemDraft(type=item_type, stem=_formatted(stem, markup, notes), definition=definition, title=title,
                          explanation=_formatted(unescape("".join(general)).strip(), markup, notes) or None,
                          knowledge_points=[category] if category else [], tags=block.tags,
                          external_id=block.external_id)
    except ItemRejected as exc:
        return ImportOutcome(index, identifier, "rejected", [f"{identifier}: {exc}"])
    return finish_outcome(index, identifier, draft, notes)


def _formatted(text: str, markup: str, notes: list[str]) -> str:
    if markup == "html":
        plain, lost = html_to_text(text)
        notes.extend(lost)
        return plain
    if markup == "markdown" and text:
        notes.append("[markdown] text kept as plain text")
    return text


def _split_answer(body: str, offset: int, block: _Block) -> tuple[str, str, str]:
    opens = [m.start() for m in re.finditer(r"(?<!\\)\{", body) if m.start() >= offset]
    closes = [m.start() for m in re.finditer(r"(?<!\\)\}", body) if m.start() >= offset]
    if not opens and not closes:
        raise ItemRejected(f"line {block.lines[0][0]}: no answer block {{...}} (write {{}} for an essay)")
    if len(opens) > len(closes) or (opens and closes and len(opens) == 1 and closes[0] < opens[0]):
        raise ItemRejected(f"line {block.line_of(opens[-1], body)}: '{{' is never closed")
    if len(closes) > len(opens):
        raise ItemRejected(f"line {block.line_of(closes[-1], body)}: '}}' without a matching '{{'")
    if len(opens) > 1:
        raise ItemRejected(f"line {block.line_of(opens[1], body)}: unbalanced braces or a second answer block")
    return body[offset:opens[0]], body[opens[0] + 1:closes[0]], body[closes[0] + 1:]


def _answers(content: str, notes: list[str]) -> tuple[str, Definition]:
    if not content:
        return "essay", {}
    truth = re.split(r"(?<!\\)#", content, maxsplit=1)
    if truth[0].strip().upper() in ("T", "TRUE", "F", "FALSE"):
        if len(truth) > 1 and truth[1].strip("# \n"):
            notes.append("true/false feedback (#...) was dropped")
        return "true_false", {"correct": truth[0].strip().upper().startswith("T")}
    if content.startswith("#"):
        return "numeric", _numeric(content[1:], notes)
    parts = re.split(r"(?<!\\)([=~])", content)
    if parts[0].strip():
        raise ItemRejected(f"answer {parts[0].strip()[:30]!r} must start with '=' or '~'")
    pieces = list(zip(parts[1::2], parts[2::2], strict=True))
    if all(marker == "=" for marker, _ in pieces) and any("->" in body for _, body in pieces):
        return "matching", _matching(pieces, notes)
    answers = [weighted(marker, body, notes) for marker, body in pieces]
    if all(marker == "=" for marker, _ in pieces):
        notes.append("GIFT short answer imported as fill_blank with one blank")
        return "fill_blank", {"blanks": [{"answers": [{"text": t, "fraction": p / 100} for t, p in answers if p > 0]}]}
    return choice_definition([t for t, _ in answers], [p for _, p in answers], None, notes)


def _numeric(content: str, notes: list[str]) -> Definition:
    parts = re.split(r"(?<!\\)([=~])", content)
    pieces = list(zip(parts[1::2], parts[2::2], strict=True)) if parts[0].strip() == "" and len(parts) > 1 \
        else [("=", content)]
    answers = []
    for marker, body in pieces:
        text, percent = weighted(marker, body, notes)
        if percent <= 0:
            notes.append("numeric answers graded 0% were dropped")
            continue
        answers.append({**_number_spec(text), "fraction": percent / 100})
    return {"answers": answers}


def _number_spec(text: str) -> dict[str, float]:
    try:
        if ".." in text:
            low, high = (float(x) for x in text.split("..", 1))
            return {"value": (low + high) / 2, "tolerance": abs(high - low) / 2}
        value, _, tolerance = text.partition(":")
        return {"value": float(value), "tolerance": abs(float(tolerance or 0))}
    except ValueError:
        raise ItemRejected(f"numeric answer {text!r} is not a number, number:tolerance or min..max") from None


def _matching(pieces: list[tuple[str, str]], notes: list[str]) -> Definition:
    pairs: list[tuple[str, str]] = []
    for _, body in pieces:
        left, arrow, right = body.partition("->")
        if not arrow:
            raise ItemRejected(f"matching answer {body.strip()!r} has no '->'")
        pairs.append((unescape(left.strip()), unescape(right.strip())))
    return matching_definition(pairs)


# ------------------------------------------------------------------ writing GIFT


def write_gift(drafts: Sequence[ItemDraft], notes: list[str] | None = None) -> str:
    """GIFT text for the drafts; ``notes`` (if given) receives a line per skipped or lossy item."""
    out: list[str] = []
    category: tuple[str, ...] | None = None
    for index, draft in enumerate(drafts):
        where = f"item {index + 1}" + (f' "{draft.title}"' if draft.title else "")
        lost: list[str] = []
        try:
            answers = _GIFT_WRITERS[draft.type](draft.definition, lost) if draft.type in _GIFT_WRITERS else None
            if answers is None:
                raise ItemSkipped(f"GIFT has no {draft.type} question")
        except ItemSkipped as exc:
            if notes is not None:
                notes.append(f"{where}: skipped: {exc}")
            continue
        path = draft.knowledge_points[0] if draft.knowledge_points else ()
        if path != category:
            out.append(f"$CATEGORY: {category_text(path)}")
            category = path
        out.append(_gift_item(draft, answers, lost))
        if notes is not None:
            notes.extend(f"{where}: {note}" for note in dict.fromkeys(lost))
    return "\n\n".join(out) + "\n"


def _lines(text: str) -> str:
    return "\n".join(escape(line) for line in text.split("\n") if line.strip())


def _gift_item(draft: ItemDraft, answers: str, lost: list[str]) -> str:
    common_losses(draft, lost, "GIFT")
    if draft.media:
        lost.append("embedded files are not carried by GIFT; the stem keeps its media: references")
    marks = ([f"[id:{draft.external_id}]"] if draft.external_id else []) + [f"[tag:{t}]" for t in draft.tags]
    head = f"// {' '.join(marks)}\n" if marks else ""
    title = f"::{escape(draft.title)}::" if draft.title else ""
    general = f"\n\t####{_lines(draft.explanation)}" if draft.explanation else ""
    block = answers + general
    return f"{head}{title}{_lines(draft.stem)} {{{block}{chr(10) if chr(10) in block else ''}}}"


def _gift_choice(item_type: str) -> Any:
    def write(definition: Definition, lost: list[str]) -> str:
        percents = choice_percents(item_type, definition, lost)
        marks = [("=" if p > 0 else "~") if item_type == "single_choice" else f"~%{format_percent(p / 100)}%"
                 for p in percents]
        return "".join(f"\n\t{m}{_lines(o['text'])}" for o, m in zip(definition["options"], marks, strict=True))
    return write


def _gift_true_false(definition: Definition, lost: list[str]) -> str:
    return "TRUE" if definition["correct"] else "FALSE"


def _gift_fill_blank(definition: Definition, lost: list[str]) -> str:
    if len(definition["blanks"]) != 1:
        raise ItemSkipped("a GIFT question has one answer block; this fill_blank has several blanks")
    blank = definition["blanks"][0]
    if blank.get("case_sensitive"):
        lost.append("GIFT short answers are not case sensitive")
    weights = ["" if a["fraction"] == 1 else f"%{format_percent(a['fraction'])}%" for a in blank["answers"]]
    return "".join(f"\n\t={w}{escape(a['text'])}" for w, a in zip(weights, blank["answers"], strict=True))


def _gift_numeric(definition: Definition, lost: list[str]) -> str:
    if definition.get("unit"):
        lost.append(f"GIFT has no units; unit {definition['unit']!r} dropped")
    answers = definition["answers"]
    specs = [f"{format_number(a['value'])}:{format_number(a.get('tolerance', 0.0))}" for a in answers]
    if len(answers) == 1 and answers[0].get("fraction", 1.0) == 1:
        return "#" + specs[0]
    weights = ["" if a.get("fraction", 1.0) == 1 else f"%{format_percent(a['fraction'])}%" for a in answers]
    return "#" + "".join(f"\n\t={w}{s}" for w, s in zip(weights, specs, strict=True))


def _gift_manual(item_type: str) -> Any:
    def write(definition: Definition, lost: list[str]) -> str:
        if item_type == "short_answer":
            lost.append("short_answer written as a GIFT essay {}")
        if any(definition.get(k) for k in ("reference_answer", "rubric", "max_chars")):
            lost.append("reference answer, rubric and max_chars have no place in GIFT")
        return ""
    return write


def _gift_matching(definition: Definition, lost: list[str]) -> str:
    if definition.get("partial_credit") == "all_or_nothing":
        lost.append("GIFT matching is scored per pair; all_or_nothing dropped")
    texts = {c["id"]: c["text"] for c in definition["choices"]}
    pairs = [(p["text"], texts[definition["correct"][p["id"]]]) for p in definition["prompts"]]
    used = set(definition["correct"].values())
    pairs += [("", c["text"]) for c in definition["choices"] if c["id"] not in used]
    return "".join(f"\n\t={escape(left)} -> {escape(right)}" for left, right in pairs)


_GIFT_WRITERS: dict[str, Any] = {
    "single_choice": _gift_choice("single_choice"), "multiple_choice": _gift_choice("multiple_choice"),
    "true_false": _gift_true_false, "fill_blank": _gift_fill_blank, "numeric": _gift_numeric,
    "essay": _gift_manual("essay"), "short_answer": _gift_manual("short_answer"), "matching": _gift_matching,
}
