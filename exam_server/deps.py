"""FastAPI dependencies: the runtime, a request-scoped session, the caller and role checks."""

import functools
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exam_server.errors import InvalidToken, PasswordChangeRequired, RoleNotAllowed, Unauthenticated
from exam_server.permissions import GRANTS, Cap, role_may
from exam_server.runtime import Runtime
from exam_server.security import TokenClaims, decode_token
from models import User


# Pure dependencies are `async def` on purpose: FastAPI runs sync ones in the thread pool, one
# hop each; these touch no I/O, so they run on the event loop instead.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request: a reader for GET, a writer otherwise. Write endpoints are
    wrapped in :func:`atomic`, which commits or rolls back in the endpoint's own thread."""
    session = runtime.read_session() if request.method in READ_METHODS else runtime.session_factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_read_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A reader whatever the method: for POST endpoints that only read (exports, previews)."""
    with runtime.read_session() as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def verify_access(runtime: Runtime, token: str, now: datetime) -> TokenClaims:
    """A signed, unexpired access token whose sign-in was not ended (logout, sign-out everywhere,
    deactivation): the revocation store answers without a database read. Issue 12 can take the
    caller's id and role from these claims alone."""
    claims = decode_token(runtime.settings.signing_key, token, "access", now)
    runtime.sessions.ensure_valid(claims, now, runtime.read_session)
    return claims


def optional_access_claims(request: Request, runtime: Runtime, now: datetime) -> TokenClaims | None:
    """The caller's valid access token if one was sent (logout accepts a missing or dead one)."""
    token = _bearer(request)
    if token is None:
        return None
    try:
        return verify_access(runtime, token, now)
    except Unauthenticated:
        return None


# What an account that must change its password may still call (logout and refresh need no caller).
PASSWORD_CHANGE_ROUTES = frozenset({"/api/auth/password", "/api/auth/me", "/api/auth/logout-all"})


def current_user(request: Request, runtime: RuntimeDep) -> User:
    token = _bearer(request)
    if token is None:
        raise Unauthenticated("Authorization header: send 'Bearer <access token>' (get one at POST /api/auth/login)")
    claims = verify_access(runtime, token, runtime.clock())
    # A short read of its own: FastAPI runs each dependency in its own thread hop, and a
    # transaction left open across hops would hold SQLite's lock while waiting for a thread.
    with runtime.read_session() as auth_session:
        user = auth_session.get(User, claims.user_id)
        if user is None or not user.is_active:
            raise InvalidToken("the account behind this token is gone or disabled")
        auth_session.expunge(user)
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_ROUTES:
        raise PasswordChangeRequired("this account signed in with an initial or reset password: choose a new one "
                                     "with POST /api/auth/password first")
    return user


UserDep = Annotated[User, Depends(current_user)]

P = ParamSpec("P")
R = TypeVar("R")


def atomic(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Commit when the endpoint returns, roll back when it raises: both in the endpoint's thread,
    so no transaction (or SQLite write lock) outlives it. Jobs it queued are sent after commit."""

    @functools.wraps(endpoint)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        session = kwargs["session"]
        assert isinstance(session, Session), "an @atomic endpoint needs a `session: SessionDep` parameter"
        try:
            result = endpoint(*args, **kwargs)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result

    return run


def require(cap: Cap) -> Callable[[User], Coroutine[Any, Any, User]]:
    """The route's one capability (see :mod:`exam_server.permissions`); the matrix test reads it
    back from ``required_capability``."""

    async def check(user: UserDep) -> User:
        if not role_may(user.role, cap):
            allowed = ", ".join(sorted(r.value for r, caps in GRANTS.items() if cap in caps))
            raise RoleNotAllowed(f"this action ({cap}) needs one of the roles: {allowed}; you are {user.role}")
        return user

    check.required_capability = cap  # type: ignore[attr-defined]
    return check


def required_capability(dependency: Any) -> Cap | None:
    return getattr(dependency, "required_capability", None)


SignedInDep = Annotated[User, Depends(require(Cap.SIGNED_IN))]
ClassesDep = Annotated[User, Depends(require(Cap.MANAGE_CLASSES))]
BankDep = Annotated[User, Depends(require(Cap.USE_BANK))]
PapersDep = Annotated[User, Depends(require(Cap.BUILD_PAPERS))]
SchedulerDep = Annotated[User, Depends(require(Cap.SCHEDULE_EXAMS))]
OrgDep = Annotated[User, Depends(require(Cap.MANAGE_ORG))]
SchoolsDep = Annotated[User, Depends(require(Cap.MANAGE_SCHOOLS))]
AdminDep = Annotated[User, Depends(require(Cap.MANAGE_USERS))]
StudentDep = Annotated[User, Depends(require(Cap.SIT_EXAMS))]
PrintDep = Annotated[User, Depends(require(Cap.PRINT_EXAMS))]
CentreDep = Annotated[User, Depends(require(Cap.RUN_CENTRE))]
ScanDep = Annotated[User, Depends(require(Cap.SCAN_SHEETS))]
MarkDep = Annotated[User, Depends(require(Cap.MARK_ANSWERS))]
