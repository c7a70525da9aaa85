"""Running a marking unit: its markers and quotas, lead marker and rules (whoever manages the exam),
and the lead's review: marker quality, re-sent scripts (回评) and send-back of recent marks.

Every route needs ``mark_answers``; who reaches which unit is decided in
:mod:`exam_server.services.marking_staff` (managers) and :mod:`exam_server.services.marking_review`
(the unit's lead marker and the exam's managers).
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from exam_server.deps import MarkDep, RuntimeDep, SessionDep, atomic
from exam_server.services import marking_review, marking_staff
from grading.marking import MarkingMode

router = APIRouter(tags=["marking"])
Quota = Annotated[int | None, Field(None, ge=0, le=1_000_000, description="most scripts to mark; none: no limit")]


class MarkerIn(BaseModel):
    user_id: int
    quota: Quota = None


class QuotaIn(BaseModel):
    quota: Quota = None


class LeadIn(BaseModel):
    lead_marker_id: int | None = Field(None, description="none: whoever manages the exam leads")


class RulesIn(BaseModel):
    mode: MarkingMode | None = None
    tolerance: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None


class ResendIn(BaseModel):
    marker_id: int
    k: int = Field(ge=1, le=marking_review.MAX_RESEND, description="how many marked scripts to re-send")


class SendBackIn(BaseModel):
    marker_id: int
    last: int | None = Field(None, ge=1, le=marking_review.MAX_SEND_BACK, description="the last n marks")
    since: AwareDatetime | None = Field(None, description="or every mark given at or after this time")
    reason: str = Field(min_length=1, max_length=300)


@router.post("/api/marking/units/{unit_id}/markers")
@atomic
def assign_marker(unit_id: int, body: MarkerIn, user: MarkDep, session: SessionDep,
                  runtime: RuntimeDep) -> dict[str, Any]:
    return marking_staff.assign_marker(session, user, unit_id, body.user_id, body.quota, runtime.clock())


@router.put("/api/marking/units/{unit_id}/markers/{user_id}")
@atomic
def set_quota(unit_id: int, user_id: int, body: QuotaIn, user: MarkDep, session: SessionDep,
              runtime: RuntimeDep) -> dict[str, Any]:
    return marking_staff.set_quota(session, user, unit_id, user_id, body.quota, runtime.clock())


@router.delete("/api/marking/units/{unit_id}/markers/{user_id}")
@atomic
def remove_marker(unit_id: int, user_id: int, user: MarkDep, session: SessionDep,
                  runtime: RuntimeDep) -> dict[str, Any]:
    return marking_staff.remove_marker(session, user, unit_id, user_id, runtime.clock())


@router.put("/api/marking/units/{unit_id}/lead")
@atomic
def set_lead(unit_id: int, body: LeadIn, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return marking_staff.set_lead(session, user, unit_id, body.lead_marker_id, runtime.clock())


@router.put("/api/marking/units/{unit_id}/rules")
@atomic
def set_rules(unit_id: int, body: RulesIn, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return marking_staff.set_rules(session, user, unit_id, body.mode, body.tolerance, runtime.clock())


@router.get("/api/marking/units/{unit_id}/quality")
def quality(unit_id: int, user: MarkDep, session: SessionDep) -> dict[str, Any]:
    return marking_review.quality(session, user, unit_id)


@router.post("/api/marking/units/{unit_id}/resend")
@atomic
def resend(unit_id: int, body: ResendIn, user: MarkDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    return marking_review.resend(session, user, unit_id, body.marker_id, body.k, runtime.clock())


@router.post("/api/marking/units/{unit_id}/send-back")
@atomic
def send_back(unit_id: int, body: SendBackIn, user: MarkDep, session: SessionDep,
              runtime: RuntimeDep) -> dict[str, Any]:
    since: datetime | None = body.since
    return marking_review.send_back(session, user, unit_id, body.marker_id, body.last, since, body.reason.strip()
                                    or body.reason, runtime.clock())
