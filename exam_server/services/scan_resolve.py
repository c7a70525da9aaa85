"""The exception queue: pages waiting for a person, and the one-key decisions on them.

Actions (each audited as ``scan.resolved`` with what was decided):

* ``set_admission_no``: the number the person reads on the sheet; roster and duplicates are
  checked again and the page applied if all is well.
* ``set_field``: the value of one question (for multiple or ambiguous marks): letters, "" = none.
* ``accept``: take the page as read (an absent mark with answers: the answers count; a field
  issue: the reader's value counts). Refused for problems of *who* (set the number instead).
* ``absent``: the candidate was absent (缺考): marked so on the roster, no answers applied.
* ``discard``: the page is thrown away (a blank page, a test print).

A decision is final: the page is ``resolved`` or ``discarded`` and a re-import of the same page is
a duplicate, so nothing read later overwrites it. Repeating the same decision is a no-op that
returns the page (idempotent); a different decision on a decided page is a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, Unprocessable
from exam_server.services import audit
from exam_server.services.scan_apply import DISCARDED, EXCEPTION, RESOLVED, PageProblem, identify, mark_absent
from exam_server.services.scans import check_page
from models import ScanPage

Action = Literal["set_admission_no", "set_field", "accept", "absent", "discard"]
WHO_PROBLEMS = frozenset({"id_unreadable", "id_not_on_roster", "id_duplicated", "id_mismatch"})
READ_PROBLEMS = frozenset({"unreadable_file", "unusable_image", "cannot_locate", "wrong_exam", "wrong_page"})


@dataclass(frozen=True)
class Decision:
    action: Action
    admission_no: str | None = None
    field: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("action", self.action), ("admission_no", self.admission_no),
                                  ("field", self.field), ("value", self.value)) if v is not None}


def exceptions(session: Session, exam_id: int, code: str | None = None, limit: int = 200,
               after_id: int = 0) -> list[ScanPage]:
    query = select(ScanPage).where(ScanPage.exam_id == exam_id, ScanPage.status == EXCEPTION, ScanPage.id > after_id)
    if code:
        query = query.where(ScanPage.issue_code == code)
    return list(session.scalars(query.order_by(ScanPage.id).limit(limit)))


def resolve(session: Session, page: ScanPage, decision: Decision, actor_id: int, now: datetime) -> ScanPage:
    decisions = list((page.reading or {}).get("decisions") or [])
    if page.status != EXCEPTION:
        if decisions and decisions[-1] == decision.as_dict():
            return page  # the same decision again: nothing to do
        raise Conflict(f"scan page {page.id} is already {page.status}; a person's decision is not changed here")
    _check(page, decision)
    before = {"code": page.issue_code, "field": page.issue_field}
    reading = dict(page.reading or {})
    reading["decisions"] = [*decisions, decision.as_dict()]
    page.resolved_by, page.resolved_at = actor_id, now
    if decision.action == "discard":
        page.status, page.reading = DISCARDED, reading
    elif decision.action == "absent":
        page.reading = reading
        _absent(session, page)
    else:
        _amend(page, reading, decision)
        page.reading = reading
        _recheck(session, page, actor_id, now)
    audit.record(session, actor_id, "scan.resolved", "scan_page", page.id,
                 {**decision.as_dict(), "exam_id": page.exam_id, "was": before, "status": page.status,
                  "now_code": page.issue_code}, now)
    session.flush()
    return page


def _check(page: ScanPage, decision: Decision) -> None:
    if decision.action == "set_admission_no" and not (decision.admission_no or "").strip():
        raise Unprocessable("admission_no: give the number read on the sheet")
    if decision.action == "set_field" and (not decision.field or decision.value is None):
        raise Unprocessable("field and value: name the question and give its letters (\"\" for none)")
    if decision.action == "set_field" and decision.field not in ((page.reading or {}).get("fields") or {}):
        raise Unprocessable(f"field {decision.field!r}: not a question read on this page")
    if decision.action in ("set_admission_no", "set_field", "accept") and page.reading is None:
        raise Unprocessable(f"scan page {page.id}: nothing could be read from it ({page.issue_code}); "
                            "discard it, or rescan the sheet")
    if decision.action == "accept" and page.issue_code in WHO_PROBLEMS | READ_PROBLEMS:
        raise Unprocessable(f"scan page {page.id}: {page.issue_code} cannot be accepted as read; "
                            "set the admission number, or discard the page")


def _amend(page: ScanPage, reading: dict[str, Any], decision: Decision) -> None:
    if decision.action == "set_admission_no":
        page.admission_no = (decision.admission_no or "").strip()
        reading["admission_set"] = True
    elif decision.action == "set_field":
        reading["overrides"] = {**(reading.get("overrides") or {}), str(decision.field): decision.value or ""}
    elif decision.action == "accept":
        waived = set(reading.get("waived") or [])
        waived.add(page.issue_code or "")
        if page.issue_field or page.issue_code in ("multiple_marks", "ambiguous_mark"):
            waived.add("fields")
        reading["waived"] = sorted(waived)


def _recheck(session: Session, page: ScanPage, actor_id: int, now: datetime) -> None:
    try:
        check_page(session, page, actor_id, now)
    except PageProblem as problem:
        page.status, page.issue_code, page.issue_reason, page.issue_field = (
            EXCEPTION, problem.code, problem.reason[:500], problem.field)
        return
    page.status = RESOLVED
    page.issue_code = page.issue_reason = page.issue_field = None


def _absent(session: Session, page: ScanPage) -> None:
    user_id = page.user_id
    if user_id is None:
        try:
            user_id = identify(session, page)
        except PageProblem as problem:
            raise Unprocessable(f"scan page {page.id}: whose sheet is it? {problem.reason}; "
                                "set the admission number first") from problem
    mark_absent(session, page.exam_id, user_id)
    page.user_id, page.status = user_id, RESOLVED
    page.issue_code = page.issue_reason = page.issue_field = None
