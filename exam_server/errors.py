"""The service's exception tree and its mapping to HTTP.

Every error body is ``{"error": "<Name>", "detail": "<what is wrong and where>"}``.

ServiceError
├── BadRequest (400)          ├── NotFound (404)
├── Unauthenticated (401)     │   (also used when a resource exists but is not the caller's)
│   ├── TokenExpired          ├── Conflict (409)
│   └── InvalidToken          │   ├── StaleSave
├── Forbidden (403)           │   ├── AttemptClosed
│   ├── RoleNotAllowed        │   ├── ExamNotOpen
│   │                         │   ├── ProctoringHold (a proctored attempt not active: ProctoringPaused,
│   │                         │   │   CheckInRequired, ManualCheckPending)
│   │                         │   ├── MarkingRefused (a move the task's marking state does not allow)
│   │                         │   └── TaskLeasedElsewhere (another marker holds the task)
│   ├── NotYours              └── Unprocessable (422)
│   └── PasswordChangeRequired        ├── LimitExceeded (a search term or tag over its EXAM_MAX_* limit)
├── PayloadTooLarge (413)             │   └── AnswerTooLarge (a response over its type's or attempt's limit)
│                                     ├── ScanLayoutInvalid (a third-party sheet's layout file)
│                                     └── InvalidScore (a mark off the step, out of range, not per criterion)
├── TooManyAttempts (429, with Retry-After)
└── PrintingUnavailable (503: no CJK font to print with; the detail says how to install one)

``RoleNotAllowed``: the caller's role may not do this at all. ``NotYours``: the caller may see the
record but not change it (another teacher's item, another school's class). Records the caller may
not even see answer ``NotFound``, so their existence is not revealed.
"""

import math
from typing import Any


class ServiceError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def name(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, Any]:
        return {"error": self.name, "detail": self.detail}

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ServiceError):
    status_code = 400


class Unauthenticated(ServiceError):
    status_code = 401


class TokenExpired(Unauthenticated):
    pass


class InvalidToken(Unauthenticated):
    pass


class Forbidden(ServiceError):
    status_code = 403


class RoleNotAllowed(Forbidden):
    pass


class NotYours(Forbidden):
    pass


class PasswordChangeRequired(Forbidden):
    """Signed in with an initial or reset password: change it (POST /api/auth/password) first."""


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class StaleSave(Conflict):
    def __init__(self, detail: str, current_seq: int, current_response: Any) -> None:
        super().__init__(detail)
        self.current_seq = current_seq
        self.current_response = current_response

    def body(self) -> dict[str, Any]:
        # The stored answer comes back so a page can show what another tab saved.
        return {**super().body(), "current_seq": self.current_seq, "current_response": self.current_response}


class AttemptClosed(Conflict):
    pass


class ExamNotOpen(Conflict):
    pass


class ProctoringHold(Conflict):
    """A proctored attempt may not take answers now (its proctoring session is not active)."""

    def __init__(self, detail: str, state: str | None) -> None:
        super().__init__(detail)
        self.state = state

    def body(self) -> dict[str, Any]:
        return {**super().body(), "proctoring_state": self.state}


class ProctoringPaused(ProctoringHold):
    """A proctor paused the attempt: answers wait until they resume it."""


class CheckInRequired(ProctoringHold):
    """Consent and the identity check come before the first answer."""


class ManualCheckPending(ProctoringHold):
    """A proctor checks the candidate's identity by hand before answers are taken."""


class MarkingRefused(Conflict):
    """The task's marking state does not allow this move (marked twice, wrong round, finished)."""


class TaskLeasedElsewhere(Conflict):
    """The task was handed to another marker (this marker's lease ran out): fetch a new batch."""


class Unprocessable(ServiceError):
    status_code = 422


class TooManyAttempts(ServiceError):
    """Too many failed sign-ins: wait ``retry_after`` seconds (also sent as Retry-After)."""

    status_code = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class PayloadTooLarge(ServiceError):
    status_code = 413


class LimitExceeded(Unprocessable):
    pass


class AnswerTooLarge(LimitExceeded):
    pass


class ScanLayoutInvalid(Unprocessable):
    """The layout file given with a batch of third-party sheets does not validate; the detail
    names the file and the field path (omr.layout.parse_layout)."""


class InvalidScore(Unprocessable):
    """A mark the unit does not accept: off its score step, out of range, or not per criterion."""


class PrintingUnavailable(ServiceError):
    """Printing cannot run on this machine (no CJK font): never print Chinese as empty boxes."""

    status_code = 503
