"""Enums used by columns. Stored as plain strings (portable across SQLite and PostgreSQL)."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # district admin (区县管理员): every school
    SCHOOL_ADMIN = "school_admin"  # 学校管理员: their own school
    CENTRE_STAFF = "centre_staff"  # 考务: sites, rooms, seats, printing, attendance
    TEACHER = "teacher"
    STUDENT = "student"
    PROCTOR = "proctor"
    MARKER = "marker"  # 阅卷员: marks assigned questions, sees nothing else
    # 教研员: a teacher who may also edit and retire other people's shared items (audited).
    REVIEWER = "reviewer"


class ShareScope(StrEnum):
    """Who besides its author may use an item: nobody, the author's school, the whole district."""

    PRIVATE = "private"
    SCHOOL = "school"
    DISTRICT = "district"


class ExamDuty(StrEnum):
    """What a member of an exam's staff does there (more duties come with district exams)."""

    PROCTOR = "proctor"
    MARKER = "marker"
    ORGANISER = "organiser"


class ItemType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    FILL_BLANK = "fill_blank"
    NUMERIC = "numeric"
    SHORT_ANSWER = "short_answer"
    ESSAY = "essay"
    MATCHING = "matching"
    ORDERING = "ordering"
    INLINE_CHOICE = "inline_choice"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    RETIRED = "retired"


class AttemptState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    GRADED = "graded"


class FinishReason(StrEnum):
    SUBMITTED = "submitted"
    DEADLINE = "deadline"


class StepKind(StrEnum):
    STARTED = "started"
    RESPONSE_SAVED = "response_saved"
    SUBMITTED = "submitted"
    CLOSED_AT_DEADLINE = "closed_at_deadline"
    AUTO_GRADED = "auto_graded"
    MANUALLY_GRADED = "manually_graded"
    REGRADED = "regraded"
    SCANNED = "scanned"  # a response read from a scanned answer sheet (data: response, scan_page_id)
    # A score the machine gave a scanned fill-in blank (data: fraction, per-blank readings, model).
    MACHINE_GRADED = "machine_graded"
