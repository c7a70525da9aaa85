"""The answer sheets of an exam's forms, designed once and stored (``answer_sheets``), and what is
needed to print them and the paper.

A form's sheet is designed from its paper the first time it is printed; printing again returns the
same stored layout, so every copy ever printed reads with the layout the reader finds by the QR
code. A new design (another paper size, or a changed paper) replaces the stored pages only while
no scan of the exam exists; after that it is refused (``Conflict``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, NotFound, Unprocessable
from exam_server.printing.paper_pdf import ItemKey
from exam_server.printing.sheet_spec import ShuffleConflict, sheet_spec_from_view
from item_bank.papers import load_paper, paper_items, paper_student_view
from models import AnswerSheet, Attempt, Exam, ExamCandidate, ExamForm, Paper, ScanPage, User
from omr.design import SheetSpecError, design_sheet
from omr.layout import SheetLayout

DEFAULT_ADMISSION_DIGITS = 10  # when the exam has no admission numbers yet


@dataclass(frozen=True)
class FormPaper:
    label: str  # "" for a single-form exam
    paper: Paper


def form_paper(session: Session, exam: Exam, form_label: str | None) -> FormPaper:
    """The paper of one form of the exam: ``A``/``B`` for an exam with forms, none (or "") otherwise."""
    label = (form_label or "").strip()
    forms = {f.label: f.paper_id for f in session.scalars(select(ExamForm).where(ExamForm.exam_id == exam.id))}
    if label:
        if label not in forms:
            known = ", ".join(sorted(forms)) or "none (a single-form exam: leave form out)"
            raise NotFound(f"form {label!r}: exam {exam.id} has no such form (forms: {known})")
        paper_id = forms[label]
    else:
        paper_id = exam.paper_id
    paper = load_paper(session, paper_id)
    if paper is None:
        raise NotFound(f"exam {exam.id}: its paper {paper_id} is gone")
    return FormPaper(label, paper)


def admission_digits(session: Session, exam: Exam) -> int:
    longest = session.scalar(select(func.max(func.length(ExamCandidate.admission_no)))
                             .where(ExamCandidate.exam_id == exam.id))
    return int(longest) if longest else DEFAULT_ADMISSION_DIGITS


def scans_exist(session: Session, exam: Exam) -> bool:
    return bool(session.scalar(select(exists().where(ScanPage.exam_id == exam.id))))


def stored_sheets(session: Session, exam: Exam, form_label: str) -> list[AnswerSheet]:
    return list(session.scalars(select(AnswerSheet).where(AnswerSheet.exam_id == exam.id,
                                                          AnswerSheet.form_label == form_label)
                                .order_by(AnswerSheet.page_no)))


def ensure_sheets(session: Session, exam: Exam, form_label: str | None, now: datetime | None = None,
                  paper_size: str | None = None) -> list[AnswerSheet]:
    """The stored sheet pages of the form, designed and stored on the first call. ``paper_size``
    None keeps whatever is stored (A4 for a new design); another size re-designs, refused once
    scans exist."""
    form = form_paper(session, exam, form_label)
    if form.label and not re.fullmatch(r"[A-Za-z0-9]{1,10}", form.label):
        raise Unprocessable(f"form {form.label!r}: an answer sheet's QR code names the form in letters and digits "
                            "only (A, B, 1 ...); rename the form to print its answer sheet")
    stored = stored_sheets(session, exam, form.label)
    if stored:
        size = stored[0].layout.get("page", {}).get("width", 210.0)
        stored_size = "A3" if float(size) > 300 else "A4"
        same_paper = all(s.paper_id == form.paper.id for s in stored)
        if same_paper and (paper_size is None or paper_size == stored_size):
            return stored
        if scans_exist(session, exam):
            raise Conflict(f"exam {exam.id} form {form.label or '-'}: scans of its answer sheets exist, so the "
                           f"stored layout ({stored_size}) cannot change; print it as it is")
        session.execute(delete(AnswerSheet).where(AnswerSheet.exam_id == exam.id,
                                                  AnswerSheet.form_label == form.label))
        session.flush()
    view = paper_student_view(session, form.paper)
    try:
        spec, question_map = sheet_spec_from_view(view, title=exam.title, exam_id=exam.id, form=form.label or None,
                                                  admission_digits=admission_digits(session, exam),
                                                  paper_size=paper_size or "A4", shuffle_items=exam.shuffle_items)
        layouts = design_sheet(spec)
    except (SheetSpecError, ShuffleConflict) as exc:
        raise Unprocessable(f"exam {exam.id} form {form.label or '-'}: {exc}") from exc
    created = [AnswerSheet(exam_id=exam.id, form_label=form.label, paper_id=form.paper.id, page_no=layout.page_no,
                           pages=layout.pages, layout=layout.model_dump(mode="json"), question_map=question_map,
                           created_at=now or datetime.now().astimezone())
               for layout in layouts]
    try:
        with session.begin_nested():
            session.add_all(created)
            session.flush()
    except IntegrityError:
        # Printed twice at once: the other request stored the same design first.
        return stored_sheets(session, exam, form.label)
    return created


def layouts_of(sheets: list[AnswerSheet]) -> list[SheetLayout]:
    return [SheetLayout.model_validate(s.layout) for s in sheets]


def item_keys(session: Session, paper: Paper) -> dict[int, ItemKey]:
    """slot id -> the full definition and explanation (the teacher's copy)."""
    items = paper_items(session, paper)
    keys: dict[int, ItemKey] = {}
    for section in paper.sections:
        for slot in section.slots:
            item = items[slot.item_id]
            keys[slot.id] = ItemKey(item.type, dict(item.definition), item.explanation)
    return keys


@dataclass(frozen=True)
class Candidate:
    user_id: int
    name: str
    admission_no: str | None
    form_label: str | None
    variant_seed: int | None  # their attempt's seed, once the attempt exists


def candidates(session: Session, exam: Exam, form_label: str, user_id: int | None = None) -> list[Candidate]:
    """The exam's candidates sitting ``form_label`` ("" on a single-form exam: all of them), by
    admission number."""
    query = (select(ExamCandidate, User, Attempt.variant_seed)
             .join(User, User.id == ExamCandidate.user_id)
             .outerjoin(Attempt, (Attempt.exam_id == ExamCandidate.exam_id) & (Attempt.user_id == User.id))
             .where(ExamCandidate.exam_id == exam.id)
             .order_by(ExamCandidate.admission_no, User.id))
    if form_label:
        query = query.where(ExamCandidate.form_label == form_label)
    if user_id is not None:
        query = query.where(ExamCandidate.user_id == user_id)
    return [Candidate(user.id, user.display_name, cand.admission_no, cand.form_label, seed)
            for cand, user, seed in session.execute(query).all()]


def sheet_rows_json(sheets: list[AnswerSheet]) -> list[dict[str, Any]]:
    return [{"id": s.id, "exam_id": s.exam_id, "form": s.form_label or None, "paper_id": s.paper_id,
             "page_no": s.page_no, "pages": s.pages, "layout": s.layout, "question_map": s.question_map}
            for s in sheets]
