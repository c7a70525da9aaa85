"""Login, token refresh and "who am I"."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from exam_server.deps import RuntimeDep, SessionDep, SignedInDep, atomic
from exam_server.services import accounts
from models import User

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    school_id: int | None

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(id=user.id, username=user.username, role=user.role,
                   display_name=user.display_name, school_id=user.school_id)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


def _tokens(pair: accounts.TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                     expires_in=pair.expires_in, user=UserOut.of(pair.user))


@router.post("/login")
@atomic
def login(body: LoginIn, runtime: RuntimeDep, session: SessionDep) -> TokensOut:
    # The slow password check runs before the write transaction opens (SQLite has one writer).
    with runtime.read_session() as read:
        user_id, new_hash = accounts.authenticate(read, body.username, body.password)
    pair = accounts.login(session, runtime.settings, user_id, new_hash, runtime.clock())
    return _tokens(pair)


@router.post("/refresh")
@atomic
def refresh(body: RefreshIn, runtime: RuntimeDep, session: SessionDep) -> TokensOut:
    pair = accounts.refresh(session, runtime.settings, body.refresh_token, runtime.clock())
    return _tokens(pair)


@router.post("/logout", status_code=204)
@atomic
def logout(body: RefreshIn, runtime: RuntimeDep, session: SessionDep) -> None:
    """Revoke the refresh token (the page also forgets its access token)."""
    accounts.logout(session, runtime.settings, body.refresh_token, runtime.clock())


@router.get("/me")
def me(user: SignedInDep) -> UserOut:
    return UserOut.of(user)
