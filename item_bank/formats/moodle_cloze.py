"""Moodle Cloze (multianswer) text and the ``[[n]]`` gap marker shared by the Moodle XML reader and writer.

``{1:SA:=Paris~%50%paris}`` style gaps become a ``fill_blank`` (all short answer) or an
``inline_choice`` (all multichoice); a multi-blank ``fill_blank`` is written back the same way.
"""

from __future__ import annotations

import re
from typing import Any

from item_bank.formats.shared import ItemRejected, format_percent, label, weighted

Definition = dict[str, Any]

GAP = re.compile(r"\[\[(\d+)\]\]")

_CLOZE = re.compile(r"\{(\d*):([A-Za-z_]+):((?:\\.|[^\\}])*)\}")
_CLOZE_SA = {"SHORTANSWER": False, "SA": False, "MW": False, "SHORTANSWER_C": True, "SAC": True, "MWC": True}
_CLOZE_MC = {"MULTICHOICE", "MC", "MULTICHOICE_V", "MCV", "MULTICHOICE_H", "MCH", "MULTICHOICE_S", "MCS",
             "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS"}


def read_cloze(text: str, notes: list[str]) -> tuple[str, str, Definition]:
    """Moodle Cloze text -> fill_blank (all gaps short answer) or inline_choice (all multichoice)."""
    gaps: list[tuple[str, str, list[tuple[str, float]]]] = []

    def gap(match: re.Match[str]) -> str:
        answers = [weighted(p[:1] if p[:1] == "=" else "~", p[1:] if p[:1] == "=" else p, notes)
                   for p in re.split(r"(?<!\\)~", match.group(3)) if p.strip()]
        gaps.append((match.group(1) or "1", match.group(2).upper(), answers))
        return f"[[{len(gaps)}]]"

    stem = _CLOZE.sub(gap, text)
    kinds = {kind for _, kind, _ in gaps}
    if not gaps:
        raise ItemRejected("Cloze question without {n:TYPE:answers} gaps")
    if len({weight for weight, _, _ in gaps}) > 1:
        notes.append("Cloze gap weights were dropped; every gap counts the same")
    notes.append("Moodle Cloze (multianswer) imported; gaps are marked [[1]], [[2]], ... in the stem")
    if kinds <= set(_CLOZE_SA):
        blanks = [{"answers": [{"text": t, "fraction": p / 100} for t, p in answers if p > 0],
                   "case_sensitive": _CLOZE_SA[kind]} for _, kind, answers in gaps]
        return "fill_blank", stem, {"blanks": blanks}
    if kinds <= _CLOZE_MC:
        return "inline_choice", stem, {"gaps": [_cloze_choice(n, a, notes) for n, (_, _, a) in enumerate(gaps, 1)]}
    raise ItemRejected(f"Cloze gap types {', '.join(sorted(kinds))}: only all-short-answer (fill_blank) or "
                       "all-multichoice (inline_choice) Cloze questions can be imported")


def _cloze_choice(number: int, answers: list[tuple[str, float]], notes: list[str]) -> Definition:
    full = [i for i, (_, p) in enumerate(answers) if abs(p - 100) < 0.01]
    if not full or len(full) > 1 or len(answers) > 26:
        raise ItemRejected(f"Cloze gap {number}: needs one 100% answer among at most 26")
    if any(0 < p < 100 for _, p in answers):
        notes.append(f"Cloze gap {number}: partial credit dropped")
    return {"options": [{"id": label(i), "text": t} for i, (t, _) in enumerate(answers)], "correct": label(full[0])}


def write_cloze(stem: str, blanks: list[Definition], notes: list[str]) -> str:
    """A multi-blank fill_blank as Cloze text: each ``[[n]]`` becomes ``{1:SA:=...}``."""
    def code(blank: Definition) -> str:
        answers = "~".join(("=" if a["fraction"] == 1 else f"%{format_percent(a['fraction'])}%")
                           + re.sub(r"([}~#])", r"\\\1", a["text"]) for a in blank["answers"])
        return f"{{1:{'SAC' if blank.get('case_sensitive') else 'SA'}:{answers}}}"

    used: set[int] = set()

    def marker(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(blanks) or number in used:
            return match.group(0)
        used.add(number)
        return code(blanks[number - 1])

    text = GAP.sub(marker, stem)
    missing = [b for n, b in enumerate(blanks, 1) if n not in used]
    if missing:
        notes.append("blanks without a [[n]] marker in the stem were appended to its end")
    return text + "".join(" " + code(b) for b in missing)

