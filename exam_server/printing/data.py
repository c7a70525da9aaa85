"""What printed pages show: plain dataclasses, filled by :mod:`.loader` or by tests directly."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CandidateEntry:
    user_id: int
    admission_no: str
    name: str
    student_number: str
    school: str
    class_name: str
    seat_no: int | None
    form_label: str | None
    absent: bool = False
    photo: bytes | None = None  # the enrolled photo (PNG/JPEG bytes), else an empty photo box


@dataclass(frozen=True)
class RoomSheetData:
    """One exam room (考场) in one sitting (场次), with its candidates in seat order."""

    exam_id: int
    exam_title: str
    sitting_name: str
    opens_at: datetime
    closes_at: datetime
    site_name: str
    site_code: str
    site_address: str
    room_number: int  # 考场号
    room_name: str
    rows: int
    cols: int
    form_label: str | None
    candidates: list[CandidateEntry] = field(default_factory=list)

    def admission_range(self) -> str:
        numbers = sorted(c.admission_no for c in self.candidates if c.admission_no)
        return f"{numbers[0]} – {numbers[-1]}" if numbers else "—"


@dataclass(frozen=True)
class TicketData:
    """One admission ticket (准考证): a candidate in their room."""

    room: RoomSheetData
    candidate: CandidateEntry
    rules: tuple[str, ...]


RULES_ZH: tuple[str, ...] = (
    "1. 考生凭准考证和有效身份证件，在开考前 20 分钟进入考场，对号入座。",
    "2. 开考 15 分钟后不得入场；考试结束前 30 分钟内不得离场。",
    "3. 除规定文具外，手机等电子设备一律不得带入座位。",
    "4. 答题时保持安静，服从监考员安排；作弊者按规定处理。",
    "5. 本证须妥善保管，不得涂改，考试结束后交回或自行保存。",
)
