"""Sign-ins: password check, token issue, refresh-token rotation, and ending sessions.

A login starts a *family* (its id is the first refresh token's jti); rotation keeps the family,
and every access token carries it as ``sid``. Ending a family (logout, or a refresh token reused
after the 30 s grace: the mark of a stolen token) marks all its refresh tokens logged out and
puts the family in the revocation store, so its access tokens die at once too. Ending all of a
user's sessions (sign out everywhere, deactivation, password change and reset) stamps
``users.tokens_valid_after`` and the store's "not before" for that user.

The database is written first, the store in the same request before commit: if the commit then
fails, the store holds a revocation the database lacks, which errs on the safe side and expires
with the access-token lifetime. If Redis is unreachable the database write still commits (see
:class:`~exam_server.sessions.guards.SessionGuards` for the fallbacks).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.errors import Conflict, InvalidToken, NotFound, TokenExpired, Unauthenticated
from exam_server.security import TokenClaims, decode_token, issue_token
from exam_server.sessions.guards import SessionGuards
from exam_server.sessions.passwords import Passwords
from exam_server.settings import Settings
from models import Exam, ExamCandidate, RefreshToken, User

REUSE_GRACE = timedelta(seconds=30)
WRONG_LOGIN = "username or password is wrong"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass(frozen=True)
class FamilyEnded:
    """A refresh was refused and its family ended: commit, then answer with ``detail``."""

    detail: str


def authenticate(read_session: Session, passwords: Passwords, username: str, password: str) -> tuple[int, str | None]:
    """Check a password (slow by design) outside any write transaction.

    Returns the user id and, when the stored hash uses outdated parameters, a fresh hash to store.
    Unknown and disabled users cost one verify too (against a dummy hash): the answer and its
    timing must not reveal which usernames exist.
    """
    user = read_session.scalars(select(User).where(User.username == username)).first() or _by_admission_no(
        read_session, username)
    if user is None or not user.is_active:
        passwords.verify_dummy(password)
        raise Unauthenticated(WRONG_LOGIN)
    if not passwords.verify(user.password_hash, password):
        raise Unauthenticated(WRONG_LOGIN)
    return user.id, passwords.hash(password) if passwords.needs_rehash(user.password_hash) else None


def _by_admission_no(read_session: Session, number: str) -> User | None:
    """A candidate signing in with a published admission number (准考证号). A username always wins:
    publishing refuses numbers equal to a username or to another person's published number, and a
    new username equal to a published number is refused, so at most one user matches."""
    owners = list(read_session.scalars(
        select(ExamCandidate.user_id).join(Exam, Exam.id == ExamCandidate.exam_id)
        .where(ExamCandidate.admission_no == number, Exam.admission_published_at.is_not(None)).distinct().limit(2)))
    return read_session.get(User, owners[0]) if len(owners) == 1 else None


def login(session: Session, settings: Settings, user_id: int, new_hash: str | None, now: datetime) -> TokenPair:
    """Issue tokens for an authenticated user (see :func:`authenticate`): a new family."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(WRONG_LOGIN)
    if new_hash:
        user.password_hash = new_hash
    return _issue_pair(session, settings, user, None, now)


def refresh(session: Session, settings: Settings, guards: SessionGuards, refresh_token: str,
            now: datetime) -> TokenPair | FamilyEnded:
    claims = decode_token(settings.signing_key, refresh_token, "refresh", now)
    stored = session.get(RefreshToken, claims.jti, with_for_update=True)
    if stored is None or stored.logged_out:
        raise InvalidToken("refresh token was revoked (logged out); log in again")
    family = stored.family_id or stored.jti
    if stored.revoked_at is not None and now - stored.revoked_at > REUSE_GRACE:
        # Someone holds a copy of a rotated token: end the whole sign-in, the thief's and the owner's.
        end_family(session, guards, family, now)
        return FamilyEnded("refresh token was already used; every session of this sign-in is now ended; log in again")
    # Within the grace period a second use (two tabs refreshing at once) gets its own new pair
    # instead of signing a candidate out mid-exam.
    stored.revoked_at = stored.revoked_at or now
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("the account behind this refresh token is gone or disabled")
    return _issue_pair(session, settings, user, family, now)


def logout(session: Session, settings: Settings, guards: SessionGuards, refresh_token: str | None,
           access: TokenClaims | None, now: datetime) -> None:
    """End the sign-in named by the refresh token and/or the access token's ``sid``.
    Unknown, expired or forged tokens are ignored: logging out never fails."""
    families = {access.family_id} if access is not None and access.family_id else set()
    if refresh_token:
        try:
            claims = decode_token(settings.signing_key, refresh_token, "refresh", now)
        except (InvalidToken, TokenExpired):
            claims = None
        stored = session.get(RefreshToken, claims.jti) if claims is not None else None
        if stored is not None:
            families.add(stored.family_id or stored.jti)
    for family in sorted(families):
        end_family(session, guards, family, now)


def end_family(session: Session, guards: SessionGuards, family_id: str, now: datetime) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id)
                    .values(logged_out=True, revoked_at=now))
    guards.end_family(family_id, now)


def end_user_sessions(session: Session, guards: SessionGuards, user: User, now: datetime) -> None:
    """Sign out everywhere: every refresh token of the user and every access token issued until now."""
    session.execute(update(RefreshToken)
                    .where(RefreshToken.user_id == user.id, RefreshToken.logged_out.is_(False),
                           RefreshToken.expires_at > now)
                    .values(logged_out=True, revoked_at=now))
    user.tokens_valid_after = now
    guards.end_user_tokens(user.id, now)


def set_active(session: Session, guards: SessionGuards, actor: User, user_id: int, active: bool,
               now: datetime) -> User:
    """Deactivate (ending the user's sessions at once) or reactivate an account."""
    user = managed_account(session, actor, user_id)
    if not active and user.id == actor.id:
        raise Conflict("you cannot deactivate your own account")
    user.is_active = active
    if not active:
        end_user_sessions(session, guards, user, now)
    return user


def managed_account(session: Session, actor: User, user_id: int) -> User:
    """Another account the actor may manage (locked for the change); others are not revealed."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None or not (user.id == actor.id or permissions.may_manage_account(actor, user.role, user.school_id)):
        raise NotFound(f"user {user_id} does not exist among the accounts you manage")
    return user


def set_password(session: Session, guards: SessionGuards, user_id: int, new_hash: str, now: datetime,
                 must_change: bool = False) -> User:
    """A password change or reset (hash made before the transaction): every session of the user ends.
    A reset (``must_change``) forces the user to choose their own at the next sign-in."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    user.password_hash = new_hash
    user.must_change_password = must_change
    end_user_sessions(session, guards, user, now)
    return user


def _issue_pair(session: Session, settings: Settings, user: User, family: str | None, now: datetime) -> TokenPair:
    refresh_token, claims = issue_token(
        settings.signing_key, user.id, user.role, "refresh", now, timedelta(hours=settings.refresh_token_hours)
    )
    family = family or claims.jti  # a login starts a family named after its first token
    access_life = timedelta(minutes=settings.access_token_minutes)
    access, _ = issue_token(settings.signing_key, user.id, user.role, "access", now, access_life, family)
    session.add(RefreshToken(jti=claims.jti, family_id=family, user_id=user.id, expires_at=claims.expires_at,
                             revoked_at=None, logged_out=False))
    return TokenPair(access, refresh_token, int(access_life.total_seconds()), user)
