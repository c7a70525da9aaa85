"""FastAPI dependencies: the runtime, a request-scoped session, the caller and role checks."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from exam_server.errors import Forbidden, InvalidToken, Unauthenticated
from exam_server.runtime import Runtime
from exam_server.security import decode_token
from models import Role, User


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; handlers commit explicitly, anything uncommitted is rolled back."""
    session = runtime.session_factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def current_user(request: Request, runtime: RuntimeDep, session: SessionDep) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization header: send 'Bearer <access token>' (get one at POST /api/auth/login)")
    claims = decode_token(runtime.settings.signing_key, token.strip(), "access", runtime.clock())
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("the account behind this token is gone or disabled")
    return user


UserDep = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    allowed = ", ".join(roles)

    def check(user: UserDep) -> User:
        if user.role not in roles:
            raise Forbidden(f"this action needs one of the roles: {allowed}; you are {user.role}")
        return user

    return check


StaffDep = Annotated[User, Depends(require_roles(Role.ADMIN, Role.TEACHER))]
AdminDep = Annotated[User, Depends(require_roles(Role.ADMIN))]
StudentDep = Annotated[User, Depends(require_roles(Role.STUDENT))]
