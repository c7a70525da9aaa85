"""Printing an exam over HTTP on each database: the paper (student and teacher copies, A4/A3,
per candidate variant), the answer sheet designed once and stored (printing again reuses it;
no change once scans exist), the stored layouts as JSON."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from pdf_checks import reader, text
from sqlalchemy import select
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from models import AnswerSheet, Exam, ExamCandidate, ExamForm, ScanBatch, ScanPage
from omr.layout import BlockKind, SheetLayout
from omr.sheet_code import SheetCode, decode


def _get(world: World, url: str, who: str = "teacher") -> bytes:
    r = world.call("GET", url, who)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"] == "application/pdf"
    return bytes(r.content)


def test_paper_student_and_teacher_copies(world: World) -> None:
    exam = world.ids["exam"]
    student = text(_get(world, f"/api/exams/{exam}/paper.pdf"))
    for words in ("期中考试", "1.（2分）1+1=?", "A. 1", "B. 2", "4.（3分）首都", "6.（10分）写一段话"):
        assert words in student, words
    assert "SECRET-REFERENCE-TEXT" not in student and "答案" not in student
    teacher = text(_get(world, f"/api/exams/{exam}/paper.pdf?copy=teacher"))
    assert "答案 Key: B" in teacher and "SECRET-REFERENCE-TEXT" in teacher and "北京" in teacher
    a3 = reader(_get(world, f"/api/exams/{exam}/paper.pdf?size=A3")).pages[0]
    assert float(a3.mediabox.width) > float(a3.mediabox.height)
    r = world.call("GET", f"/api/exams/{exam}/paper.pdf?size=Letter", "teacher")
    assert r.status_code == 422
    r = world.call("GET", f"/api/exams/{exam}/paper.pdf?form=Z", "teacher")
    assert r.status_code == 404 and "form 'Z'" in r.json()["detail"]


def test_a_candidates_variant_needs_their_attempt_when_the_exam_shuffles(world: World) -> None:
    exam = world.ids["exam"]
    with session_scope(world.runtime.session_factory) as session:
        row = session.get(Exam, exam)
        assert row is not None
        row.shuffle_options = True
        s1 = session.scalars(select(ExamCandidate.user_id).where(ExamCandidate.exam_id == exam)).first()
    r = world.call("GET", f"/api/exams/{exam}/paper.pdf?candidate={s1}", "teacher")
    assert r.status_code == 422 and "no attempt" in r.json()["detail"]
    attempt = world.start("s1")
    shown = text(_get(world, f"/api/exams/{exam}/paper.pdf?candidate={s1}&copy=teacher"))
    options = attempt["paper"]["sections"][0]["slots"][0]["content"]["options"]
    key = next(o["label"] for o in options if o["id"] == "B")
    assert f"答案 Key: {key}" in shown and "s1" in shown
    r = world.call("GET", f"/api/exams/{exam}/paper.pdf?candidate=999999", "teacher")
    assert r.status_code == 404


def test_the_answer_sheet_is_designed_once_stored_and_reused(world: World) -> None:
    exam = world.ids["exam"]
    assert world.ok("GET", f"/api/exams/{exam}/answer-sheets", "teacher") == []
    pdf = _get(world, f"/api/exams/{exam}/answer-sheet.pdf")
    stored = world.ok("GET", f"/api/exams/{exam}/answer-sheets", "teacher")
    assert [s["page_no"] for s in stored] == list(range(1, len(stored) + 1)) and stored[0]["form"] is None
    layout = SheetLayout.model_validate(stored[0]["layout"])
    qmap = stored[0]["question_map"]
    assert [qmap[str(n)]["kind"] for n in range(1, 7)] == ["single", "multiple", "true_false", "fill_in", "fill_in",
                                                         "subjective"]
    assert [qmap[str(n)]["slot_id"] for n in range(1, 7)] == world.ids["slots"]
    assert qmap["1"]["options"] == ["A", "B"]
    fields = [f for b in layout.bubble_blocks for f in b.fields]
    assert {"1", "2", "3", "absent"} <= set(fields)
    assert {r.field for r in layout.regions} >= {"4.1", "5.1", "6"}
    page = pdfium.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().convert("L")
    value, _, _ = cv2.QRCodeDetector().detectAndDecode(np.array(page))
    assert decode(value) == SheetCode(exam, None, 1, len(stored))
    # printing again returns the same stored rows and layout
    _get(world, f"/api/exams/{exam}/answer-sheet.pdf")
    again = world.ok("GET", f"/api/exams/{exam}/answer-sheets", "teacher")
    assert [s["id"] for s in again] == [s["id"] for s in stored] and again[0]["layout"] == stored[0]["layout"]
    # another size re-designs while there are no scans ...
    a3 = reader(_get(world, f"/api/exams/{exam}/answer-sheet.pdf?size=A3")).pages[0]
    assert float(a3.mediabox.width) > float(a3.mediabox.height)
    assert world.ok("GET", f"/api/exams/{exam}/answer-sheets", "teacher")[0]["layout"]["page"]["width"] == 420.0
    # ... and is refused once a scan exists
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with session_scope(world.runtime.session_factory) as session:
        batch = ScanBatch(exam_id=exam, uploaded_by=1, status="done", input_dir="x", created_at=now)
        session.add(batch)
        session.flush()
        session.add(ScanPage(batch_id=batch.id, exam_id=exam, content_hash="0" * 64, source="a.png", status="read",
                             created_at=now))
    r = world.call("GET", f"/api/exams/{exam}/answer-sheet.pdf?size=A4", "teacher")
    assert r.status_code == 409 and "scans" in r.json()["detail"]
    _get(world, f"/api/exams/{exam}/answer-sheet.pdf")  # the stored one still prints
    with session_scope(world.runtime.session_factory) as session:
        rows = session.scalars(select(AnswerSheet).where(AnswerSheet.exam_id == exam)).all()
        assert rows and all(r.layout["page"]["width"] == 420.0 for r in rows)


def test_named_sheets_one_per_candidate_with_the_candidate_in_the_qr(world: World) -> None:
    exam = world.ids["exam"]
    with session_scope(world.runtime.session_factory) as session:
        cands = session.scalars(select(ExamCandidate).where(ExamCandidate.exam_id == exam)
                                .order_by(ExamCandidate.user_id)).all()
        for n, cand in enumerate(cands):
            cand.admission_no = f"2026000{n + 1}"
        ids = [c.user_id for c in cands]
    pdf = _get(world, f"/api/exams/{exam}/answer-sheet.pdf?named=true")
    sheets = world.ok("GET", f"/api/exams/{exam}/answer-sheets", "teacher")
    per = len(sheets)
    layout = SheetLayout.model_validate(sheets[0]["layout"])
    assert layout.blocks_of(BlockKind.DIGITS)[0].columns == 8
    document = pdfium.PdfDocument(pdf)
    assert len(document) == per * len(ids)
    image = np.array(document[per].render(scale=200 / 72).to_pil().convert("L"))
    value, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decode(value).candidate_id == ids[1]
    assert "20260002" in text(pdf)


def test_students_and_other_teachers_get_404(world: World) -> None:
    exam = world.ids["exam"]
    for url in (f"/api/exams/{exam}/paper.pdf", f"/api/exams/{exam}/answer-sheet.pdf",
                f"/api/exams/{exam}/answer-sheets"):
        assert world.call("GET", url, "s1").status_code == 404
    assert world.call("GET", "/api/exams/999999/paper.pdf", "teacher").status_code == 404


def test_a_form_label_a_qr_code_cannot_carry_is_refused_clearly(world: World) -> None:
    exam = world.ids["exam"]
    with session_scope(world.runtime.session_factory) as session:
        session.add(ExamForm(exam_id=exam, label="甲卷", paper_id=world.ids["paper"]))
        session.add(ExamForm(exam_id=exam, label="B", paper_id=world.ids["paper"]))
    r = world.call("GET", f"/api/exams/{exam}/answer-sheet.pdf?form=甲卷", "teacher")
    assert r.status_code == 422 and "letters and digits" in r.json()["detail"]
    assert "A 卷" not in text(_get(world, f"/api/exams/{exam}/paper.pdf?form=甲卷"))
    _get(world, f"/api/exams/{exam}/answer-sheet.pdf?form=B")
    sheets = world.ok("GET", f"/api/exams/{exam}/answer-sheets?form=B", "teacher")
    assert sheets and all(s["form"] == "B" for s in sheets)
    assert world.ok("GET", f"/api/exams/{exam}/answer-sheets?form=", "teacher") == []


def test_the_pages_offer_paper_printing_in_both_languages(world: World) -> None:
    for lang, words in (("zh", "纸笔考试"), ("en", "Paper exam")):
        for page in ("/teacher/exams", "/centre/print"):
            r = world.client.get(f"{page}?lang={lang}")
            assert r.status_code == 200 and "/static/paper_print.js" in r.text
            blob = re.search(r'<script type="application/json" id="i18n">(.*?)</script>', r.text, re.DOTALL)
            assert blob is not None and json.loads(blob.group(1))["paper_print_heading"].startswith(words)
    script = world.client.get("/static/paper_print.js")
    assert script.status_code == 200 and "answer-sheet.pdf" in script.text and "http" not in script.text


def test_without_a_cjk_font_printing_answers_503_naming_the_font(database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(START)
    missing = tmp_path / "no-such-font.ttc"
    runtime = make_runtime(database_url, tmp_path, clock, print_font_path=missing)
    try:
        world = build_world(make_client(runtime), runtime, clock)
        for url in ("paper.pdf", "answer-sheet.pdf"):
            r = world.call("GET", f"/api/exams/{world.ids['exam']}/{url}", "teacher")
            assert r.status_code == 503 and r.json()["error"] == "PrintingUnavailable"
            assert str(missing) in r.json()["detail"]
        assert world.ok("GET", f"/api/exams/{world.ids['exam']}/answer-sheets", "teacher") == [], "nothing stored"
    finally:
        runtime.engine.dispose()
