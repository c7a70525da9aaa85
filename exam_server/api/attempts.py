"""Taking an exam: start or resume, save one answer at a time, submit, see the released result.

A student only ever reaches their own attempt; anyone else's answers 404 (existence is not
revealed). Nothing here returns an answer key.
"""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.deps import RuntimeDep, SessionDep, SignedInDep, StudentDep, atomic
from exam_server.errors import Forbidden, NotFound, NotYours
from exam_server.limits import answer_limits
from exam_server.media_links import link_expiry, with_media_links
from exam_server.runtime import Runtime
from exam_server.services import attempts, exams, proctor_gate, results
from item_bank import paper_student_view
from item_bank.papers import load_paper
from item_bank.variants import variant_view
from models import Attempt, AttemptAnswer, AttemptState, Exam, ProctorSettings, Role, User

router = APIRouter(prefix="/api", tags=["attempts"])


class SavedAnswer(BaseModel):
    slot_id: int
    response: Any
    client_seq: int
    saved_at: datetime


class AttemptOut(BaseModel):
    attempt_id: int
    exam_id: int
    exam_title: str
    state: str
    started_at: datetime
    deadline: datetime
    server_time: datetime
    finished_at: datetime | None
    paper: dict[str, Any]
    answers: list[SavedAnswer]
    proctored: bool = Field(False, description="the exam page opens the proctoring WebSocket "
                                               "(/ws/proctoring/attempts/{attempt_id}, docs/proctoring-protocol.md)")


class SaveIn(BaseModel):
    response: Any = Field(description="the answer in the item type's response shape; null clears it")
    client_seq: int = Field(ge=0, description="increases with every change the client makes")


class SaveOut(BaseModel):
    slot_id: int
    client_seq: int
    saved_at: datetime


class SubmitOut(BaseModel):
    attempt_id: int
    state: str
    finished_at: datetime | None
    finish_reason: str | None


class SlotResult(BaseModel):
    slot_id: int
    number: int = Field(description="the question's number on the candidate's own paper (form, variant)")
    points: float
    status: Literal["final", "being_marked", "unanswered", "in_progress"] = Field(
        description="being_marked: the answer waits for a person; its score is then null")
    score: float | None
    fraction: float | None
    grading_state: str | None


class ResultOut(BaseModel):
    attempt_id: int
    exam_id: int
    exam_title: str
    state: str
    score: float | None = Field(description="the score so far: final answers only while provisional")
    max_score: float
    needs_manual_grading: bool
    provisional: bool = Field(description="some answer still waits for marking: score is not the final total")
    pending: int = Field(description="how many answers wait for marking")
    pending_numbers: list[int] = Field(description="their question numbers")
    final_score: float | None = Field(description="the total, only once no answer waits for marking")
    slots: list[SlotResult]


def _visible_attempt(session: Session, attempt_id: int, user: User, lock: bool = False) -> Attempt:
    """A student's own attempt, or one of an exam whose results the staff member may read."""
    attempt = attempts.lock_attempt(session, attempt_id) if lock else session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    if user.role == Role.STUDENT:
        if attempt.user_id != user.id:
            raise NotFound(f"attempt {attempt_id} does not exist")
        return attempt
    try:
        exams.exam_for_results(session, user, attempt.exam_id)
    except NotYours as exc:
        raise NotFound(f"attempt {attempt_id} does not exist") from exc
    return attempt


def _paper_view(runtime: Runtime, session: Session, exam: Exam, user_id: int) -> dict[str, Any]:
    """The candidate's paper (their form's, on a joint exam with A/B卷), key-free."""
    paper_id = attempts.paper_id_for(session, exam.id, user_id)
    view = runtime.paper_views.get(paper_id)
    if view is None:
        paper = load_paper(session, paper_id)
        if paper is None:
            raise NotFound(f"exam {exam.id}: its paper is gone")
        view = paper_student_view(session, paper)
        if paper.frozen:
            runtime.paper_views[paper_id] = view
    return view


def _attempt_out(runtime: Runtime, session: Session, attempt: Attempt) -> AttemptOut:
    exam = exams.get_exam(session, attempt.exam_id)
    answers = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
    return AttemptOut(
        attempt_id=attempt.id, exam_id=exam.id, exam_title=exam.title, state=attempt.state,
        started_at=attempt.started_at, deadline=attempt.deadline, server_time=runtime.clock(),
        finished_at=attempt.finished_at,
        paper=with_media_links(variant_view(_paper_view(runtime, session, exam, attempt.user_id), attempt.variant_seed,
                                            exam.shuffle_items, exam.shuffle_options),
                               runtime.settings.signing_key, link_expiry(runtime.clock(), attempt.deadline)),
        answers=[SavedAnswer(slot_id=a.slot_id, response=a.response, client_seq=a.client_seq, saved_at=a.saved_at)
                 for a in answers],
        proctored=_proctored(session, exam.id),
    )


def _proctored(session: Session, exam_id: int) -> bool:
    settings = session.get(ProctorSettings, exam_id)
    return settings is not None and settings.enabled


@router.post("/exams/{exam_id}/attempt")
@atomic
def start_or_resume(exam_id: int, user: StudentDep, runtime: RuntimeDep, session: SessionDep) -> AttemptOut:
    """Start the caller's attempt, or return the one already started (safe to call on every load)."""
    exam = exams.get_exam(session, exam_id)
    attempt = attempts.start_or_resume(session, exam, user.id, runtime.clock())
    return _attempt_out(runtime, session, attempt)


@router.get("/attempts/{attempt_id}")
def get_attempt(attempt_id: int, user: SignedInDep, runtime: RuntimeDep, session: SessionDep) -> AttemptOut:
    return _attempt_out(runtime, session, _visible_attempt(session, attempt_id, user))


@router.put("/attempts/{attempt_id}/answers/{slot_id}")
@atomic
def save_answer(
    attempt_id: int, slot_id: int, body: SaveIn, user: StudentDep, runtime: RuntimeDep, session: SessionDep
) -> SaveOut:
    attempt = _visible_attempt(session, attempt_id, user, lock=True)
    proctor_gate.ensure_may_answer(session, attempt, runtime.proctored)
    answer = attempts.save_response(session, attempt, slot_id, body.response, body.client_seq, runtime.clock(),
                                    runtime.slot_catalog, answer_limits(runtime.settings))
    return SaveOut(slot_id=slot_id, client_seq=answer.client_seq, saved_at=answer.saved_at)


@router.post("/attempts/{attempt_id}/submit")
@atomic
def submit(attempt_id: int, user: StudentDep, runtime: RuntimeDep, session: SessionDep) -> SubmitOut:
    attempt = _visible_attempt(session, attempt_id, user, lock=True)
    attempts.submit(session, attempt, runtime.clock())
    return SubmitOut(attempt_id=attempt.id, state=attempt.state, finished_at=attempt.finished_at,
                     finish_reason=attempt.finish_reason)


@router.get("/attempts/{attempt_id}/result")
def result(attempt_id: int, user: SignedInDep, runtime: RuntimeDep, session: SessionDep) -> ResultOut:
    """Per question final or being marked; the total is final only once nothing waits for marking
    (:mod:`exam_server.services.results`). Students: once the exam's results are released."""
    attempt = _visible_attempt(session, attempt_id, user)
    exam = exams.get_exam(session, attempt.exam_id)
    if user.role == Role.STUDENT and not exam.results_released:
        raise Forbidden(f"exam {exam.id}: results are not released yet")
    stored = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
    answers = {a.slot_id: a for a in stored}
    view = variant_view(_paper_view(runtime, session, exam, attempt.user_id), attempt.variant_seed,
                        exam.shuffle_items, exam.shuffle_options)
    lines = results.slot_results(view["sections"], answers, attempt.state != AttemptState.IN_PROGRESS)
    return ResultOut(
        attempt_id=attempt.id, exam_id=exam.id, exam_title=exam.title, state=attempt.state, score=attempt.score,
        max_score=attempt.max_score, needs_manual_grading=attempt.needs_manual_grading,
        **results.summary(attempt, lines), slots=[SlotResult(**line) for line in lines],
    )
