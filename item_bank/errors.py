"""ItemBankError
├── ItemNotFound            an item id that does not exist
├── KnowledgePointNotFound  a knowledge point id (or path) that does not exist
├── ItemFrozen              an operation that would change an item used by an exam in place
└── PaperInvalid            a paper that cannot be built as asked (empty, bad points, unknown items)
"""


class ItemBankError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ItemNotFound(ItemBankError):
    pass


class KnowledgePointNotFound(ItemBankError):
    pass


class ItemFrozen(ItemBankError):
    pass


class PaperInvalid(ItemBankError):
    pass
