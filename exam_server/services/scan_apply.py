"""A good scanned page becomes responses on the candidate's attempt; the checks that decide
whether a page is good. Used by the worker (scans.py) and by a person's resolution (scan_resolve.py).

Who the page belongs to: the admission number bubbled on the sheet, looked up in the exam's roster
(``exam_candidates.admission_no``); for an exam that gave out no admission numbers, the
candidates' student numbers (``users.student_number``) instead. A pre-printed named sheet carries
the candidate in its QR code; when a number is bubbled as well, both must agree.

Question numbers to slots: the answer sheet's ``question_map`` is in the paper's own order. On a
shuffling exam a candidate's own variant can be printed only once their attempt exists
(``api/paper_print.py``: ``variant_view`` with the attempt's ``variant_seed``); then printed
question *n* is the slot at position *n* of their variant and its letters go back to option ids
through ``label_map``. A candidate with no attempt before the scan had the form's paper, in the
paper's own order: the attempt created here records that (its ``started`` step says
``"printed": "form"``) and maps questions and letters as printed (A, B, C by position).
Responses are stored in the grading registry's canonical shapes: an option id (single choice), a
sorted list of ids (multiple choice), a boolean (true/false).

Subjective answers and fill-in blanks are not read here: they are cut out as crops
(``answer_crops``). Blank and score-box crops are read by OCR in the ``read_crops`` job
(``ocr_marking``). An attempt with crops nobody has marked (no person, no machine) keeps
``needs_manual_grading`` and stays ``submitted``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import grading
from exam_server.db import enqueue_after_commit
from exam_server.services import attempts
from item_bank.papers import load_paper, paper_items, paper_student_view
from item_bank.variants import label_map, variant_view
from models import (
    AnswerCrop,
    AnswerSheet,
    Attempt,
    AttemptAnswer,
    AttemptState,
    AttemptStep,
    Exam,
    ExamCandidate,
    FinishReason,
    ScanPage,
    StepKind,
    User,
)

# Page statuses.
READ, EXCEPTION, RESOLVED, DISCARDED = "read", "exception", "resolved", "discarded"
APPLIED = (READ, RESOLVED)
# Service-level issue codes besides omr.reading.IssueCode.
ID_MISMATCH = "id_mismatch"  # the bubbled number is not the named sheet's candidate
TRUE_LABELS = frozenset({"T", "对", "√", "Y", "TRUE"})
FALSE_LABELS = frozenset({"F", "错", "×", "X", "N", "FALSE"})


class PageProblem(Exception):
    """A check that sends the page to a person: a code, a reason and maybe a field."""

    def __init__(self, code: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.field = code, reason, field


def started_by_scan(session: Session, attempt: Attempt) -> bool:
    """Whether the attempt was created by reading a sheet (so the candidate had the form's paper)."""
    data = session.scalar(select(AttemptStep.data).where(AttemptStep.attempt_id == attempt.id,
                                                         AttemptStep.kind == StepKind.STARTED).limit(1))
    return isinstance(data, dict) and data.get("printed") == "form"


# ---- who the page belongs to ------------------------------------------------------------------

def uses_admission_numbers(session: Session, exam_id: int) -> bool:
    query = select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam_id,
                                                ExamCandidate.admission_no.is_not(None)).limit(1)
    return session.scalar(query) is not None


def candidate_by_number(session: Session, exam_id: int, number: str) -> int | None:
    if uses_admission_numbers(session, exam_id):
        query = select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam_id,
                                                    ExamCandidate.admission_no == number)
    else:  # no admission numbers given out: the candidates' student numbers
        query = (select(ExamCandidate.user_id).join(User, User.id == ExamCandidate.user_id)
                 .where(ExamCandidate.exam_id == exam_id, User.student_number == number))
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def identify(session: Session, page: ScanPage) -> int:
    """The candidate's user id, or PageProblem (unreadable, not on the roster, mismatch)."""
    reading = page.reading or {}
    named = (reading.get("code") or {}).get("candidate_id")
    number = page.admission_no
    if named is not None and session.get(ExamCandidate, (page.exam_id, named)) is None:
        raise PageProblem("id_not_on_roster", f"the named sheet's candidate (user {named}) is not on the roster")
    if not number:
        if named is not None:
            return int(named)
        raise PageProblem("id_unreadable", "no admission number could be read from the sheet")
    user_id = candidate_by_number(session, page.exam_id, number)
    if user_id is None:
        what = "admission number" if uses_admission_numbers(session, page.exam_id) else "student number"
        raise PageProblem("id_not_on_roster", f"{what} {number} is not on the exam's roster")
    if named is not None and int(named) != user_id:
        raise PageProblem(ID_MISMATCH, f"the bubbled number {number} is user {user_id}'s, but the sheet was "
                                       f"printed for user {named}")
    return user_id


def check_not_duplicated(session: Session, page: ScanPage, user_id: int) -> None:
    query = select(ScanPage.id, ScanPage.source).where(
        ScanPage.exam_id == page.exam_id, ScanPage.user_id == user_id, ScanPage.status.in_(APPLIED),
        ScanPage.page_no == page.page_no, ScanPage.id != page.id)
    if page.form_label is not None:
        query = query.where(ScanPage.form_label == page.form_label)
    other = session.execute(query.limit(1)).first()
    if other is not None:
        raise PageProblem("id_duplicated", f"page {page.page_no} of this candidate was already read from "
                                           f"{other.source} (scan page {other.id})")


def check_candidate(session: Session, page: ScanPage, user_id: int) -> None:
    """The sheet's form is the candidate's (A/B卷), and a candidate the roster marks absent has
    no answers on it unless a person says so."""
    # The row lock serialises two batches reading the same candidate's pages at once (PostgreSQL;
    # SQLite serialises every write anyway), so the duplicate check below sees the other's page.
    candidate = session.get(ExamCandidate, (page.exam_id, user_id), with_for_update=True)
    assert candidate is not None  # identify() found them on the roster
    if page.form_label and (candidate.form_label or "") != page.form_label:
        raise PageProblem("wrong_page", f"a sheet of form {page.form_label}, but the candidate sits form "
                                        f"{candidate.form_label or '-'}")
    reading = page.reading or {}
    answered = any(f.get("value") for f in (reading.get("fields") or {}).values())
    if candidate.absent and answered and "absent_with_answers" not in (reading.get("waived") or []):
        raise PageProblem("absent_with_answers", "the roster marks this candidate absent (缺考), yet the sheet "
                                                 "has answers")


def open_field_issues(page: ScanPage) -> list[dict[str, Any]]:
    """Field issues (multiple, ambiguous) a person has not settled yet."""
    reading = page.reading or {}
    settled = set((reading.get("overrides") or {}).keys())
    return [i for i in reading.get("issues", []) if i.get("field") and i["field"] not in settled
            and i["code"] in ("multiple_marks", "ambiguous_mark")]


# ---- the attempt ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SlotInfo:
    slot_id: int
    item_type: str
    labels: dict[str, str]  # shown label -> option id


def slot_map(session: Session, exam: Exam, attempt: Attempt, sheet: AnswerSheet | None) -> dict[str, SlotInfo]:
    """Printed question number -> the candidate's slot, its type and letters."""
    paper = load_paper(session, attempts.paper_id_for(session, exam.id, attempt.user_id))
    assert paper is not None  # an exam's paper is never deleted
    view = paper_student_view(session, paper)
    canonical = [slot["slot_id"] for section in view["sections"] for slot in section["slots"]]
    as_printed = started_by_scan(session, attempt)  # the form's paper: no shuffling, letters by position
    variant = variant_view(view, attempt.variant_seed, exam.shuffle_items and not as_printed,
                           exam.shuffle_options and not as_printed)
    shown = [slot["slot_id"] for section in variant["sections"] for slot in section["slots"]]
    labels = label_map(variant)
    items = paper_items(session, paper)
    types = {slot.id: items[slot.item_id].type for section in paper.sections for slot in section.slots}
    if sheet is not None and sheet.question_map:
        numbers = {n: q.get("slot_id") for n, q in sheet.question_map.items()}
    else:  # a third-party sheet: question n is the paper's n-th item
        numbers = {str(i + 1): slot_id for i, slot_id in enumerate(canonical)}
    mapping: dict[str, SlotInfo] = {}
    for number, slot_id in numbers.items():
        if slot_id not in canonical:
            continue
        mine = shown[canonical.index(slot_id)]
        mapping[number] = SlotInfo(mine, types[mine], labels.get(mine, {}))
    return mapping


def to_response(info: SlotInfo, value: str) -> Any:
    """Marked labels ("B", "AC", "") in the registry's canonical shape; None for no answer.
    Raises ValueError for labels the item does not have."""
    marks = [c for c in value if c.strip()]
    if not marks:
        return None
    if info.item_type == "true_false":
        if len(marks) != 1 or marks[0].upper() not in TRUE_LABELS | FALSE_LABELS:
            raise ValueError(f"true/false read as {value!r}")
        return marks[0].upper() in TRUE_LABELS
    unknown = [m for m in marks if m not in info.labels]
    if unknown:
        raise ValueError(f"labels {''.join(unknown)} are not options of this item ({''.join(info.labels)})")
    ids = [info.labels[m] for m in marks]
    if info.item_type == "single_choice":
        if len(ids) > 1:
            raise ValueError(f"{value!r}: more than one mark on a single-choice item")
        return ids[0]
    if info.item_type == "multiple_choice":
        return sorted(set(ids))
    raise ValueError(f"a bubble answer for a {info.item_type} item")


def ensure_attempt(session: Session, exam: Exam, user_id: int, actor_id: int | None, now: datetime) -> Attempt:
    """The candidate's attempt, created for a paper exam if missing, ready to take responses."""
    attempt = attempts.find_attempt(session, exam.id, user_id)
    if attempt is None:
        attempt = Attempt(exam_id=exam.id, user_id=user_id, state=AttemptState.SUBMITTED, started_at=exam.opens_at,
                          deadline=exam.closes_at, finished_at=now, finish_reason=FinishReason.SUBMITTED,
                          max_score=0.0, variant_seed=secrets.randbelow(2**31))
        try:
            with session.begin_nested():
                session.add(attempt)
                session.flush()
        except IntegrityError:
            found = attempts.find_attempt(session, exam.id, user_id)
            assert found is not None
            attempt = found
        else:
            session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.STARTED, actor_id=actor_id,
                                    data={"source": "scan", "printed": "form"}, created_at=now))
    attempt = attempts.lock_attempt(session, attempt.id)
    if attempt.state == AttemptState.IN_PROGRESS:  # an online start on a paper exam: the sheet closes it
        attempt.state, attempt.finished_at, attempt.finish_reason = AttemptState.SUBMITTED, now, FinishReason.SUBMITTED
        session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.SUBMITTED, actor_id=actor_id,
                                data={"source": "scan"}, created_at=now))
    elif attempt.state == AttemptState.GRADED:  # another page arrives: grade again with it
        attempt.state = AttemptState.SUBMITTED
    return attempt


def _save(session: Session, attempt: Attempt, slot_id: int, response: Any, page: ScanPage, actor_id: int | None,
          now: datetime) -> None:
    current = session.get(AttemptAnswer, (attempt.id, slot_id))
    if current is None:
        session.add(AttemptAnswer(attempt_id=attempt.id, slot_id=slot_id, response=response, client_seq=1,
                                  saved_at=now))
    else:
        current.response, current.client_seq, current.saved_at = response, current.client_seq + 1, now
    session.add(AttemptStep(attempt_id=attempt.id, kind=StepKind.SCANNED, slot_id=slot_id, actor_id=actor_id,
                            data={"response": response, "scan_page_id": page.id}, created_at=now))


def apply_page(session: Session, page: ScanPage, user_id: int, actor_id: int | None, now: datetime) -> list[str]:
    """Write the page's answers and crops to the candidate's attempt and grade it. Returns notes
    on fields that could not become responses (kept in the reading)."""
    exam = session.get(Exam, page.exam_id)
    assert exam is not None
    reading = page.reading or {}
    sheet = None if page.form_label is None else session.scalars(select(AnswerSheet).where(  # None: third-party
        AnswerSheet.exam_id == exam.id, AnswerSheet.form_label == page.form_label,
        AnswerSheet.page_no == page.page_no)).first()
    attempt = ensure_attempt(session, exam, user_id, actor_id, now)
    slots = slot_map(session, exam, attempt, sheet)
    overrides: dict[str, str] = reading.get("overrides") or {}
    catalog = attempts.SlotCatalog()  # per page: a process-wide one would outlive test databases
    notes: list[str] = []
    for name, read in (reading.get("fields") or {}).items():
        if read.get("kind") not in ("single", "multiple"):
            continue
        info = slots.get(name)
        if info is None:
            notes.append(f"question {name}: not on this exam's paper")
            continue
        value = overrides.get(name, read["value"])
        try:
            definition = catalog.item_for(session, attempt, info.slot_id)[1]
            response = grading.validate_response(info.item_type, definition, to_response(info, value))
        except (ValueError, grading.InvalidResponse) as exc:
            notes.append(f"question {name}: {exc}; left unanswered")
            response = None
        _save(session, attempt, info.slot_id, response, page, actor_id, now)
    _crops(session, page, user_id, slots, reading.get("crops") or [], now)
    page.user_id, page.status = user_id, (RESOLVED if page.resolved_by is not None else READ)
    session.flush()
    attempts.grade(session, attempt.id, now)
    mark_waiting_crops(session, attempt, now)
    if any(c.get("kind") in ("blank", "score_box") for c in reading.get("crops") or []):
        enqueue_after_commit(session, "read_crops", attempt.id)  # OCR: exam_server/services/ocr_marking.py
    return notes


def mark_waiting_crops(session: Session, attempt: Attempt, now: datetime) -> None:
    """Crops nobody (no person, no machine) has marked keep the attempt open, and their answers
    ``needs_manual`` so marking sees them and the total waits for them."""
    marked = attempts.marked_fractions(session, attempt.id)  # a crop a person or the machine marked waits no more
    crop_slots = set(session.scalars(select(AnswerCrop.slot_id).where(
        AnswerCrop.exam_id == attempt.exam_id, AnswerCrop.user_id == attempt.user_id,
        AnswerCrop.kind.in_(("subjective", "blank")))).all())
    waiting = {slot_id for slot_id in crop_slots if slot_id is None or slot_id not in marked}
    for slot_id in sorted(s for s in waiting if s is not None):
        answer = session.get(AttemptAnswer, (attempt.id, slot_id))
        if answer is None:
            answer = AttemptAnswer(attempt_id=attempt.id, slot_id=slot_id, response=None, client_seq=0, saved_at=now)
            session.add(answer)
        answer.fraction, answer.grading_state = None, grading.GradingState.NEEDS_MANUAL
    if waiting:
        attempt.needs_manual_grading = True
        attempt.state = AttemptState.SUBMITTED  # crops wait for a marker
    session.flush()


def _crops(session: Session, page: ScanPage, user_id: int, slots: dict[str, SlotInfo], crops: list[dict[str, Any]],
           now: datetime) -> None:
    for crop in crops:
        number = (crop.get("field") or "").split(".")[0]
        info = slots.get(number)
        existing = session.scalars(select(AnswerCrop).where(
            AnswerCrop.exam_id == page.exam_id, AnswerCrop.user_id == user_id,
            AnswerCrop.region_id == crop["region_id"])).first()
        if existing is None:
            session.add(AnswerCrop(exam_id=page.exam_id, user_id=user_id, slot_id=info.slot_id if info else None,
                                   scan_page_id=page.id, region_id=crop["region_id"], kind=crop["kind"],
                                   field=crop.get("field"), image_sha256=crop["sha256"], created_at=now))
        else:  # a person chose this page over the earlier one
            existing.scan_page_id, existing.image_sha256 = page.id, crop["sha256"]
            existing.slot_id = info.slot_id if info else None


def mark_absent(session: Session, exam_id: int, user_id: int) -> None:
    candidate = session.get(ExamCandidate, (exam_id, user_id))
    if candidate is not None:
        candidate.absent = True
