"""Proctoring settings and the review after the exam (services/proctor_review.py, proctor_timeline.py)."""

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, Field

from exam_server.deps import ReadSessionDep, RuntimeDep, SessionDep, atomic, require
from exam_server.permissions import Cap
from exam_server.services import proctor_review, proctor_timeline
from models import User

router = APIRouter(prefix="/api/proctoring", tags=["proctoring"])
ProctorDep = Annotated[User, Depends(require(Cap.PROCTOR_EXAMS))]


class SettingsIn(BaseModel):
    enabled: bool | None = None
    require_identity: bool | None = None
    weights: dict[str, float] | None = Field(
        None, description="rule -> points per minute in violation (per occurrence for copy_paste, devtools, "
                          "second_login, ip_change); rules left out keep their default")
    retention_days: int | None = Field(None, ge=1, le=proctor_review.MAX_RETENTION_DAYS)


class SettingsOut(BaseModel):
    exam_id: int
    enabled: bool
    require_identity: bool
    weights: dict[str, float]
    default_weights: dict[str, float]
    retention_days: int
    updated_at: datetime | None
    updated_by: int | None


class FlagReviewIn(BaseModel):
    status: str = Field(pattern="^(confirmed|dismissed)$")
    note: str | None = Field(None, max_length=2000)


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(no_issue|warning|violation)$")
    note: str | None = Field(None, max_length=2000)


class SessionRow(BaseModel):
    """One session of the review list. Deliberately no rank or percentile: scores are not compared."""

    session_id: int
    attempt_id: int
    user_id: int
    username: str
    display_name: str
    exam_room_id: int | None
    state: str
    identity: str
    risk_score: float
    flags: int
    unreviewed_flags: int
    decision: str | None


@router.get("/exams/{exam_id}/settings")
def get_settings(exam_id: int, user: ProctorDep, session: SessionDep) -> SettingsOut:
    proctor_review.run_exam(session, user, exam_id)
    return SettingsOut(**proctor_review.settings_view(session, exam_id))


@router.put("/exams/{exam_id}/settings")
@atomic
def put_settings(exam_id: int, body: SettingsIn, user: ProctorDep, runtime: RuntimeDep,
                 session: SessionDep) -> SettingsOut:
    data = proctor_review.SettingsInput(body.enabled, body.require_identity, body.weights, body.retention_days)
    return SettingsOut(**proctor_review.put_settings(session, user, exam_id, data, runtime.clock()))


@router.get("/exams/{exam_id}/review")
def review_list(exam_id: int, user: ProctorDep, runtime: RuntimeDep, session: SessionDep,
                exam_room_id: int | None = None) -> list[SessionRow]:
    """The exam's sessions by evidence (risk score, then unreviewed flags); proctors see their rooms."""
    return [SessionRow(**row) for row in
            proctor_timeline.session_list(session, user, exam_id, exam_room_id, runtime.clock())]


@router.get("/exams/{exam_id}/review.json")
def export_json(exam_id: int, user: ProctorDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    data = proctor_timeline.export_data(session, user, exam_id, runtime.clock())
    text = json.dumps(jsonable_encoder(data), ensure_ascii=False, indent=1)
    return Response(text, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="proctoring-review-{exam_id}.json"'})


@router.get("/exams/{exam_id}/review.csv")
def export_csv(exam_id: int, user: ProctorDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    data = proctor_timeline.export_data(session, user, exam_id, runtime.clock())
    return Response(proctor_timeline.export_csv(data), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="proctoring-review-{exam_id}.csv"'})


@router.get("/sessions/{session_id}/timeline")
def timeline(session_id: int, user: ProctorDep, runtime: RuntimeDep, session: SessionDep) -> dict[str, Any]:
    """Events, flags, frames and every human act of one session, with the score's explanation."""
    return proctor_timeline.timeline(session, user, session_id, runtime.clock())


@router.post("/sessions/{session_id}/decision")
@atomic
def decide(session_id: int, body: DecisionIn, user: ProctorDep, runtime: RuntimeDep,
           session: SessionDep) -> dict[str, Any]:
    ps = proctor_review.decide(session, user, session_id, body.decision, body.note, runtime.clock())
    return {"session_id": ps.id, "decision": ps.decision, "decision_note": ps.decision_note,
            "decided_by": ps.decided_by, "decided_at": ps.decided_at}


@router.post("/flags/{flag_id}/review")
@atomic
def review_flag(flag_id: int, body: FlagReviewIn, user: ProctorDep, runtime: RuntimeDep,
                session: SessionDep) -> dict[str, Any]:
    flag = proctor_review.review_flag(session, user, flag_id, body.status, body.note, runtime.clock())
    return proctor_timeline.flag_view(flag)


@router.get("/frames/{frame_id}/image.jpg")
def frame_image(frame_id: int, user: ProctorDep, runtime: RuntimeDep, session: ReadSessionDep) -> Response:
    """A frame, decrypted for those who may review its session; never cached."""
    store = proctor_timeline.evidence_store(runtime.settings.data_dir, runtime.settings.evidence_key)
    data = proctor_timeline.frame_image(session, user, frame_id, store)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store, private"})
