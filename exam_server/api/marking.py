"""Online marking (网上阅卷): units and progress per exam, batches, marks, problem scripts.

Markers never see who wrote an answer: tasks are named by an opaque token. Every route needs the
``mark_answers`` capability; which exams and units a caller reaches is decided in
:mod:`exam_server.services.marking` (the exam's markers, the unit's lead, the exam's managers).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from exam_server.deps import MarkDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound
from exam_server.services import marking, marking_review, ocr_review
from grading.marking import MarkingMode
from models import Exam

router = APIRouter(tags=["marking"])


class UnitsIn(BaseModel):
    mode: MarkingMode = Field(MarkingMode.DOUBLE, description="single, double (双评) or triple (三评)")
    tolerance: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = Field(
        0.0, description="误差阈值 in points: two marks at most this far apart agree (inclusive)")
    lead_marker_id: int | None = Field(None, description="who arbitrates; default: whoever manages the exam")
    grouping: Literal["question", "blank_groups"] = Field(
        "question", description="scanned fill-in blanks: one unit per question, or consecutive fill-in questions "
                                "of a section in one unit (one mark per blank)")


class BatchIn(BaseModel):
    n: int = Field(10, ge=1, le=marking.MAX_BATCH)
    queue: Literal["marking", "arbitration", "problem"] = "marking"


class MarkIn(BaseModel):
    score: float | None = Field(None, description="points, a multiple of the unit's score step")
    criteria: list[float] | None = Field(None, description="one mark per rubric criterion, in order")
    seconds: int | None = Field(None, ge=0, le=86_400, description="time spent on this answer")


class ProblemIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300, description="unreadable, off-topic, suspected copying …")


def _exam(session: SessionDep, exam_id: int) -> Exam:
    exam = session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(f"exam {exam_id} does not exist")
    return exam


@router.post("/api/exams/{exam_id}/marking/units", status_code=201)
@atomic
def create_units(exam_id: int, body: UnitsIn, user: MarkDep, session: SessionDep,
                 runtime: RuntimeDep) -> list[dict[str, Any]]:
    """One unit per manual slot (kept if it exists) and a task per submitted answer waiting for a human."""
    exam = _exam(session, exam_id)
    settings = marking.UnitSettings(body.mode, body.tolerance, body.lead_marker_id, body.grouping == "blank_groups")
    marking.create_units(session, user, exam, settings, runtime.clock())
    return marking.progress(session, user, exam)


@router.get("/api/exams/{exam_id}/marking")
def marking_progress(exam_id: int, user: MarkDep, session: SessionDep) -> list[dict[str, Any]]:
    return marking.progress(session, user, _exam(session, exam_id))


@router.post("/api/marking/units/{unit_id}/batch")
@atomic
def fetch_batch(unit_id: int, body: BatchIn, user: MarkDep, session: SessionDep,
                runtime: RuntimeDep) -> dict[str, Any]:
    return marking_review.fetch_batch(session, user, unit_id, body.n, runtime.clock(), body.queue)


@router.post("/api/marking/tasks/{token}/mark")
@atomic
def submit_mark(token: str, body: MarkIn, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return marking_review.submit(session, user, token, body.score, body.criteria, body.seconds, runtime.clock())


@router.post("/api/marking/tasks/{token}/problem")
@atomic
def flag_problem(token: str, body: ProblemIn, user: MarkDep, session: SessionDep,
                 runtime: RuntimeDep) -> dict[str, Any]:
    return marking_review.flag(session, user, token, body.reason, runtime.clock())


@router.post("/api/marking/tasks/{token}/release")
@atomic
def release_problem(token: str, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return marking.release_problem(session, user, token, runtime.clock())


# ---- OCR in marking: crop images, the machine's audit list, overrides, flags ---------------------

PRIVATE = {"Cache-Control": "private, no-store"}  # an answer's image never lands in a shared cache


@router.get("/api/marking/tasks/{token}/crops/{n}", response_class=Response)
def task_crop(token: str, n: int, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The n-th scanned crop of a task, for its unit's markers and lead only (anyone else: 404)."""
    data, media_type = ocr_review.task_crop(session, user, token, n, runtime.settings.data_dir)
    return Response(data, media_type=media_type, headers=PRIVATE)


@router.get("/api/exams/{exam_id}/marking/machine")
def machine_list(exam_id: int, user: MarkDep, session: SessionDep,
                 decision: Literal["scored", "blank"] | None = Query(None)) -> list[dict[str, Any]]:
    """Blanks scored by the machine, or scored 0 as empty, for the lead to review."""
    return ocr_review.machine_list(session, user, _exam(session, exam_id), decision)


@router.get("/api/marking/readings/{reading_id}/image", response_class=Response)
def reading_image(reading_id: int, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    data, media_type = ocr_review.reading_image(session, user, reading_id, runtime.settings.data_dir)
    return Response(data, media_type=media_type, headers=PRIVATE)


@router.post("/api/marking/readings/{reading_id}/review")
@atomic
def review_reading(reading_id: int, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Send a machine-scored blank to the lead's problem queue; the lead's mark overrides the machine."""
    return ocr_review.review(session, user, reading_id, runtime.clock())


@router.get("/api/exams/{exam_id}/marking/flags")
def marking_flags(exam_id: int, user: MarkDep, session: SessionDep) -> list[dict[str, Any]]:
    """Human marks far from the machine's reading (listed for the lead, never blocked)."""
    return ocr_review.flags(session, user, _exam(session, exam_id))
