"""Machine readings of scanned crops (OCR as reader and checker in 网上阅卷).

One row per crop (a fill-in blank's box, or a handwritten score box): what the model read, how sure
it was, which model, and what was decided: ``scored`` (a confident reading matched an accepted
answer), ``blank`` (an empty box, scored 0, listed for audit), ``person`` (a marker decides, with
``reason``), or ``check`` (a score box: never a score, only a check on the human mark). A crop read
again (a later page replaced it) updates its row; the attempt's steps keep every machine mark.
"""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class CropReading(Base):
    __tablename__ = "crop_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    crop_id: Mapped[int] = mapped_column(ForeignKey("answer_crops.id"), unique=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("paper_slots.id"))
    blank_index: Mapped[int | None] = mapped_column(Integer)  # 0-based blank of the slot; None: the only one
    image_sha256: Mapped[str] = mapped_column(String(64))  # the image that was read
    decision: Mapped[str] = mapped_column(String(12))  # scored, blank, person, check
    reason: Mapped[str | None] = mapped_column(String(20))  # grading.ocr.RouteReason, or why no rule applies
    text: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(80))
    fraction: Mapped[float | None] = mapped_column(Numeric(8, 4, asdecimal=False))  # the blank's machine fraction
    detail: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
