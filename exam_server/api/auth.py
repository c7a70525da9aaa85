"""Login, token refresh, logout, sign out everywhere and "who am I"."""

import math

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from exam_server.deps import RuntimeDep, SessionDep, SignedInDep, atomic, optional_access_claims
from exam_server.errors import InvalidToken, TooManyAttempts, Unauthenticated, Unprocessable
from exam_server.services import sessions
from exam_server.sessions.addresses import client_address
from models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1)


class LogoutIn(BaseModel):
    refresh_token: str | None = None


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    school_id: int | None
    is_active: bool = True
    must_change_password: bool = False

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(id=user.id, username=user.username, role=user.role, display_name=user.display_name,
                   school_id=user.school_id, is_active=user.is_active,
                   must_change_password=bool(user.must_change_password))


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


def _tokens(pair: sessions.TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                     expires_in=pair.expires_in, user=UserOut.of(pair.user))


@router.post("/login", responses={429: {"description": "TooManyAttempts: wait Retry-After seconds"}})
@atomic
def login(body: LoginIn, request: Request, runtime: RuntimeDep, session: SessionDep) -> TokensOut:
    """Rate limited per account and per client address (429 TooManyAttempts with Retry-After)."""
    guards, now = runtime.sessions, runtime.clock()
    address = client_address(request, guards.trusted_proxies)
    guards.check_login_allowed(body.username, address, now)
    # The slow password check runs before the write transaction opens (SQLite has one writer).
    try:
        with runtime.read_session() as read:
            user_id, new_hash = sessions.authenticate(read, guards.passwords, body.username, body.password)
    except Unauthenticated as exc:
        wait = guards.login_failed(body.username, address, now)
        if wait > 0:
            raise TooManyAttempts(f"{exc.detail}, and that was one failed sign-in too many: try again in "
                                  f"{math.ceil(wait)} s", wait) from exc
        raise
    guards.login_succeeded(body.username)
    return _tokens(sessions.login(session, runtime.settings, user_id, new_hash, now))


@router.post("/refresh")
@atomic
def refresh(body: RefreshIn, runtime: RuntimeDep, session: SessionDep) -> TokensOut:
    result = sessions.refresh(session, runtime.settings, runtime.sessions, body.refresh_token, runtime.clock())
    if isinstance(result, sessions.FamilyEnded):
        session.commit()  # the family's revocation must stick although this request is refused
        raise InvalidToken(result.detail)
    return _tokens(result)


@router.post("/logout", status_code=204)
@atomic
def logout(request: Request, runtime: RuntimeDep, session: SessionDep, body: LogoutIn | None = None) -> None:
    """End this sign-in: its refresh tokens and, at once, its access tokens. Send the refresh
    token in the body and/or the access token as ``Authorization: Bearer``; never fails."""
    now = runtime.clock()
    access = optional_access_claims(request, runtime, now)
    refresh_token = body.refresh_token if body is not None else None
    sessions.logout(session, runtime.settings, runtime.sessions, refresh_token, access, now)


@router.post("/logout-all", status_code=204)
@atomic
def logout_all(user: SignedInDep, runtime: RuntimeDep, session: SessionDep) -> None:
    """Sign out everywhere: every session of the caller, on every device, ends at once."""
    me = session.get(User, user.id, with_for_update=True)
    if me is None:
        raise InvalidToken("the account behind this token is gone")
    sessions.end_user_sessions(session, runtime.sessions, me, runtime.clock())


@router.post("/password", responses={429: {"description": "TooManyAttempts: wait Retry-After seconds"}})
@atomic
def change_password(body: PasswordIn, request: Request, user: SignedInDep, runtime: RuntimeDep,
                    session: SessionDep) -> TokensOut:
    """Change one's own password. Every session of the account ends (a thief's too); the answer
    is a new sign-in for this page. A wrong current password counts as a failed sign-in."""
    guards, now = runtime.sessions, runtime.clock()
    address = client_address(request, guards.trusted_proxies)
    guards.check_login_allowed(user.username, address, now)
    # Both slow hashes run before the write transaction's first statement.
    if not guards.passwords.verify(user.password_hash, body.current_password):
        wait = guards.login_failed(user.username, address, now)
        if wait > 0:
            raise TooManyAttempts(f"current_password is wrong, and that was one failed attempt too many: "
                                  f"try again in {math.ceil(wait)} s", wait)
        raise Unprocessable("current_password: this is not the account's current password")
    new_hash = guards.passwords.hash(body.new_password)
    sessions.set_password(session, guards, user.id, new_hash, now, must_change=False)
    return _tokens(sessions.login(session, runtime.settings, user.id, None, now))


@router.get("/me")
def me(user: SignedInDep) -> UserOut:
    return UserOut.of(user)
