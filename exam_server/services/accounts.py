"""Users, schools and classes; login and refresh-token rotation."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, InvalidToken, NotFound, TokenExpired, Unauthenticated
from exam_server.security import decode_token, hash_password, issue_token, needs_rehash, verify_password
from exam_server.settings import Settings
from models import ClassMembership, RefreshToken, Role, School, SchoolClass, User

REUSE_GRACE = timedelta(seconds=30)
T = TypeVar("T")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def create_user(
    session: Session, username: str, password: str | None, role: Role, display_name: str,
    school_id: int | None, now: datetime, password_hash: str | None = None,
) -> User:
    """Create an account from a password, or from a hash made earlier outside the transaction."""
    if password_hash is None:
        if password is None:
            raise ValueError("create_user needs a password or a password_hash")
        password_hash = hash_password(password)
    user = User(username=username, password_hash=password_hash, role=role,
                display_name=display_name, school_id=school_id, is_active=True, created_at=now)
    return _insert_unique(session, user, f"username: {username!r} is already taken")


def _insert_unique(session: Session, row: T, conflict: str) -> T:
    """Insert in a savepoint: a unique clash becomes a Conflict and the rest of the transaction lives."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc
    return row


def create_school(session: Session, name: str, district: str | None) -> School:
    return _insert_unique(session, School(name=name, district=district),
                          f"name: a school named {name!r} already exists")


def create_class(session: Session, school_id: int, name: str) -> SchoolClass:
    if session.get(School, school_id) is None:
        raise NotFound(f"school {school_id} does not exist")
    return _insert_unique(session, SchoolClass(school_id=school_id, name=name),
                          f"name: school {school_id} already has a class named {name!r}")


def add_to_class(session: Session, class_id: int, user_id: int) -> None:
    if session.get(ClassMembership, (class_id, user_id)) is None:
        session.add(ClassMembership(class_id=class_id, user_id=user_id))


def authenticate(read_session: Session, username: str, password: str) -> tuple[int, str | None]:
    """Check a password (slow by design) outside any write transaction.

    Returns the user id and, when the stored hash uses outdated parameters, a fresh hash to store.
    """
    user = read_session.scalars(select(User).where(User.username == username)).first()
    # Same message for unknown user and wrong password: don't reveal which usernames exist.
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        raise Unauthenticated("username or password is wrong")
    return user.id, hash_password(password) if needs_rehash(user.password_hash) else None


def login(session: Session, settings: Settings, user_id: int, new_hash: str | None, now: datetime) -> TokenPair:
    """Issue tokens for an authenticated user (see :func:`authenticate`)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("username or password is wrong")
    if new_hash:
        user.password_hash = new_hash
    return _issue_pair(session, settings, user, now)


def refresh(session: Session, settings: Settings, refresh_token: str, now: datetime) -> TokenPair:
    claims = decode_token(settings.signing_key, refresh_token, "refresh", now)
    stored = session.get(RefreshToken, claims.jti, with_for_update=True)
    if stored is None or stored.logged_out:
        raise InvalidToken("refresh token was revoked (logged out); log in again")
    if stored.revoked_at is not None and now - stored.revoked_at > REUSE_GRACE:
        raise InvalidToken("refresh token was already used; log in again")
    # Within the grace period a second use (two tabs refreshing at once) gets its own new pair
    # instead of signing a candidate out mid-exam.
    stored.revoked_at = stored.revoked_at or now
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("the account behind this refresh token is gone or disabled")
    return _issue_pair(session, settings, user, now)


def logout(session: Session, settings: Settings, refresh_token: str, now: datetime) -> None:
    """Revoke a refresh token for good (no reuse grace). Unknown or expired tokens are ignored."""
    try:
        claims = decode_token(settings.signing_key, refresh_token, "refresh", now)
    except (InvalidToken, TokenExpired):
        return
    stored = session.get(RefreshToken, claims.jti, with_for_update=True)
    if stored is not None:
        stored.revoked_at, stored.logged_out = stored.revoked_at or now, True


def _issue_pair(session: Session, settings: Settings, user: User, now: datetime) -> TokenPair:
    access_life = timedelta(minutes=settings.access_token_minutes)
    access, _ = issue_token(settings.signing_key, user.id, user.role, "access", now, access_life)
    refresh_token, claims = issue_token(
        settings.signing_key, user.id, user.role, "refresh", now, timedelta(hours=settings.refresh_token_hours)
    )
    session.add(RefreshToken(jti=claims.jti, user_id=user.id, expires_at=claims.expires_at, revoked_at=None,
                             logged_out=False))
    return TokenPair(access, refresh_token, int(access_life.total_seconds()), user)
