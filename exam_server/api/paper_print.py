"""Printing an exam on paper: the paper (试卷, student or teacher copy, A4 or A3, per form or per
candidate variant) and its answer sheet (答题卡), whose stored layouts the scan reader uses.

Who: the district, the teacher who created the exam, its organisers and the exam-centre staff who
may print it (:func:`exam_server.permissions.may_print_paper`); the teacher's copy, with keys,
only those who manage the exam. Others get 404 (the exam's existence is not revealed)."""

from __future__ import annotations

import io
import re
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db import session_scope
from exam_server.deps import RuntimeDep, SessionDep, SignedInDep
from exam_server.errors import NotFound, NotYours, Unprocessable
from exam_server.permissions import may_manage_exam, may_print_paper
from exam_server.printing import fonts
from exam_server.printing.answer_sheet import SheetPrint, render_answer_sheets
from exam_server.printing.paper_pdf import PaperPrint, render_paper
from exam_server.services import answer_sheets
from exam_server.storage import FileStore
from item_bank.papers import paper_student_view
from item_bank.variants import variant_view
from models import AnswerSheet, Exam, User

router = APIRouter(tags=["paper printing"])

FormQuery = Query(None, max_length=10, description="the form label (A, B) of an exam with forms; none otherwise")


class AnswerSheetOut(BaseModel):
    id: int
    exam_id: int
    form: str | None
    paper_id: int
    page_no: int
    pages: int
    layout: dict[str, Any] = Field(description="the page's omr.layout.SheetLayout (mm, origin top-left)")
    question_map: dict[str, Any] = Field(description='printed number -> {"slot_id", "kind", "item_type", ...}')


def _exam(session: Session, user: User, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None or not may_print_paper(session, user, exam):
        raise NotFound(f"exam {exam_id} does not exist or is not yours to print")
    return exam


def _pdf(data: bytes, name: str) -> Response:
    """The PDF as a download; a name with non-ASCII characters (a form called 甲卷) goes in
    ``filename*`` (RFC 6266), with an ASCII fallback."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    disposition = f'attachment; filename="{fallback}"'
    if fallback != name:
        disposition += f"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


@router.get("/api/exams/{exam_id}/paper.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def paper_pdf(exam_id: int, user: SignedInDep, session: SessionDep, runtime: RuntimeDep,
              form: str | None = FormQuery,
              copy: Literal["student", "teacher"] = Query("student", description="teacher: with keys"),
              size: Literal["A4", "A3"] = Query("A4", description="A3: landscape, two columns"),
              candidate: int | None = Query(None, description="a candidate's user id: their own variant")) -> Response:
    """The paper as a PDF. With ``candidate``, that candidate's variant (items and options in their
    order, when the exam shuffles; the seed is their attempt's)."""
    exam = _exam(session, user, exam_id)
    if copy == "teacher" and not may_manage_exam(session, user, exam):
        raise NotYours(f"exam {exam_id}: the teacher's copy (with keys) is for those who manage the exam")
    name, seed = None, None
    if candidate is not None:
        found = answer_sheets.candidates(session, exam, "", candidate)
        if not found:
            raise NotFound(f"candidate {candidate} is not on the roster of exam {exam_id}")
        who = found[0]
        if form and who.form_label and form != who.form_label:
            raise Unprocessable(f"candidate {candidate} sits form {who.form_label}, not {form}")
        form = form or who.form_label
        name = " ".join(s for s in (who.name, who.admission_no or "") if s)
        seed = who.variant_seed
    chosen = answer_sheets.form_paper(session, exam, form)
    view = paper_student_view(session, chosen.paper)
    if candidate is not None and (exam.shuffle_items or exam.shuffle_options):
        if seed is None:
            raise Unprocessable(f"candidate {candidate} has no attempt yet, so their variant is not drawn: "
                                "print the form's paper, or print the variant once the attempt exists")
        view = variant_view(view, seed, exam.shuffle_items, exam.shuffle_options)
    keys = answer_sheets.item_keys(session, chosen.paper) if copy == "teacher" else None
    store = FileStore(runtime.settings.data_dir / "media")

    def media(sha256: str) -> bytes | None:
        return store.get(sha256) if store.has(sha256) else None

    font = fonts.cjk_font(runtime.settings.print_font_path)
    out = io.BytesIO()
    render_paper(PaperPrint(title=exam.title, view=view, form=chosen.label or None, size=size, keys=keys,
                            candidate=name, media=media), out, font)
    suffix = f"-{chosen.label}" if chosen.label else ""
    who_part = f"-c{candidate}" if candidate is not None else ""
    return _pdf(out.getvalue(), f"paper-{exam.id}{suffix}{who_part}-{copy}-{size}.pdf")


@router.get("/api/exams/{exam_id}/answer-sheet.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def answer_sheet_pdf(exam_id: int, user: SignedInDep, runtime: RuntimeDep, form: str | None = FormQuery,
                     size: Literal["A4", "A3"] | None = Query(None, description="A4 (the default for a new "
                                                              "design) or A3; the stored layout otherwise"),
                     named: bool = Query(False, description="pre-printed named sheets: one per candidate of "
                                                            "the form, the QR code naming them")) -> Response:
    """The answer sheet of a form. The first print designs and stores its layout; later prints
    reuse it (a different size is refused once scans exist)."""
    with session_scope(runtime.session_factory) as session:  # the first print stores the design
        exam = _exam(session, user, exam_id)
        font = fonts.cjk_font(runtime.settings.print_font_path)  # before storing a design that cannot print
        sheets = answer_sheets.ensure_sheets(session, exam, form, runtime.clock(), size)
        layouts = answer_sheets.layouts_of(sheets)
        label = sheets[0].form_label if sheets else ""
        prints = [SheetPrint(exam.title, exam.id, label or None)]
        if named:
            people = answer_sheets.candidates(session, exam, label)
            if not people:
                raise Unprocessable(f"exam {exam_id} form {label or '-'} has no candidates to print named sheets for")
            prints = [SheetPrint(exam.title, exam.id, label or None, p.user_id, p.name, p.admission_no)
                      for p in people]
    out = io.BytesIO()
    render_answer_sheets(layouts, prints, out, font)
    suffix = f"-{label}" if label else ""
    return _pdf(out.getvalue(), f"answer-sheet-{exam_id}{suffix}{'-named' if named else ''}.pdf")


@router.get("/api/exams/{exam_id}/answer-sheets", response_model=list[AnswerSheetOut])
def list_answer_sheets(exam_id: int, user: SignedInDep, session: SessionDep,
                       form: str | None = FormQuery) -> list[AnswerSheetOut]:
    """The stored sheet pages (all forms, or one), as printed: empty until the first print."""
    exam = _exam(session, user, exam_id)
    query = select(AnswerSheet).where(AnswerSheet.exam_id == exam.id)
    if form is not None:
        query = query.where(AnswerSheet.form_label == form)
    rows = session.scalars(query.order_by(AnswerSheet.form_label, AnswerSheet.page_no)).all()
    return [AnswerSheetOut(**row) for row in answer_sheets.sheet_rows_json(list(rows))]
