"""Moodle XML question files: read into :class:`ImportReport`, write from drafts.

Stem conventions shared with the GIFT and Aiken modules: gaps of multi-gap items
(``inline_choice``, a Cloze ``fill_blank``) are marked ``[[1]]``, ``[[2]]``, ... in gap order;
a one-blank ``fill_blank`` (Moodle "shortanswer") has no marker. Option ids are A, B, C, ...;
matching prompts are 1, 2, ... and its choices A, B, ....

Export cannot represent everything: pass ``notes`` (a list) to :func:`write_moodle_xml` to
collect one line per item that was skipped (``ordering``, no core Moodle type) or exported
with a loss (``short_answer`` becomes an essay, extra knowledge points are dropped, ...).

Reading is in :mod:`item_bank.formats.moodle_read`, writing in :mod:`item_bank.formats.moodle_write`
and the Cloze (multianswer) text in :mod:`item_bank.formats.moodle_cloze`.
"""

from __future__ import annotations

from item_bank.formats.moodle_cloze import Definition as Definition
from item_bank.formats.moodle_read import Reader as Reader
from item_bank.formats.moodle_read import read_moodle_xml
from item_bank.formats.moodle_write import Writer as Writer
from item_bank.formats.moodle_write import write_moodle_xml

__all__ = ["read_moodle_xml", "write_moodle_xml"]
