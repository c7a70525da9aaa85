"""Interchange formats: Moodle XML, GIFT, Aiken, IMS QTI 3.0/2.1 and the XLSX question list."""

from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, ItemDraft, MediaFile

__all__ = ["FormatError", "ImportOutcome", "ImportReport", "ItemDraft", "MediaFile"]
