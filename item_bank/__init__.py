"""Item bank: items (validated by the grading registry), fixed papers, and student-safe views.

Automatic paper assembly and interchange formats build on this (issue: item bank and assembly).
"""

from item_bank.errors import ItemBankError, ItemFrozen, ItemNotFound, KnowledgePointNotFound, PaperInvalid
from item_bank.items import ItemInput, create_item, item_student_view, list_items
from item_bank.papers import PaperInput, SectionInput, SlotInput, create_paper, freeze_paper, paper_student_view

__all__ = [
    "ItemBankError",
    "ItemFrozen",
    "KnowledgePointNotFound",
    "ItemInput",
    "ItemNotFound",
    "PaperInput",
    "PaperInvalid",
    "SectionInput",
    "SlotInput",
    "create_item",
    "create_paper",
    "freeze_paper",
    "item_student_view",
    "list_items",
    "paper_student_view",
]
