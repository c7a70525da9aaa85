"""ItemBankError
├── ItemNotFound   an item id that does not exist
└── PaperInvalid   a paper that cannot be built as asked (empty, bad points, unknown items)
"""


class ItemBankError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ItemNotFound(ItemBankError):
    pass


class PaperInvalid(ItemBankError):
    pass
