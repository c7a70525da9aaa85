"""Online marking (网上阅卷): units and progress per exam, batches, marks, problem scripts.

Markers never see who wrote an answer: tasks are named by an opaque token. Every route needs the
``mark_answers`` capability; which exams and units a caller reaches is decided in
:mod:`exam_server.services.marking` (the exam's markers, the unit's lead, the exam's managers).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from exam_server.deps import MarkDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound
from exam_server.services import marking, marking_review
from grading.marking import MarkingMode
from models import Exam

router = APIRouter(tags=["marking"])


class UnitsIn(BaseModel):
    mode: MarkingMode = Field(MarkingMode.DOUBLE, description="single, double (双评) or triple (三评)")
    tolerance: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = Field(
        0.0, description="误差阈值 in points: two marks at most this far apart agree (inclusive)")
    lead_marker_id: int | None = Field(None, description="who arbitrates; default: whoever manages the exam")


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
    settings = marking.UnitSettings(body.mode, body.tolerance, body.lead_marker_id)
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
