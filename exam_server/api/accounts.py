"""Accounts: create, list, enrol into a class, deactivate, reset a password. District admins
manage every account; a school admin the staff and students of their own school (never an admin
or another school admin); teachers enrol students into the classes they are assigned to."""

import secrets

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.api.auth import UserOut
from exam_server.deps import AdminDep, ClassesDep, RuntimeDep, SessionDep, atomic
from exam_server.errors import NotFound, ServiceError
from exam_server.security import hash_password
from exam_server.services import accounts, audit, sessions
from exam_server.services.imports import run_in_batches
from models import ClassMembership, Role, SchoolClass, User

router = APIRouter(prefix="/api", tags=["accounts"])

USERNAME = r"^[A-Za-z0-9_.@-]+$"
# Initial passwords: no look-alikes (0/O, 1/l/I), so one read off a printed list types right.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def initial_password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=USERNAME)
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    school_id: int | None = None


class StudentIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=USERNAME)
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=200)


@router.post("/users", status_code=201)
@atomic
def create_user(body: UserIn, actor: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    """District admins create any account; a school admin teachers, staff and students of their school."""
    if not permissions.may_manage_account(actor, body.role, body.school_id):
        raise NotFound(f"school_id: you may not create a {body.role} account in school {body.school_id}")
    user = accounts.create_user(session, body.username, body.password, body.role, body.display_name,
                                body.school_id, runtime.clock())
    audit.record(session, actor.id, "user.created", "user", user.id, {"role": body.role}, runtime.clock())
    return UserOut.of(user)


class UserRow(UserOut):
    student_number: str | None
    gender: str | None
    class_ids: list[int]


@router.get("/users")
def list_users(actor: AdminDep, session: SessionDep, q: str | None = Query(default=None, max_length=100),
               school_id: int | None = None, class_id: int | None = None, role: Role | None = None,
               limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0)) -> list[UserRow]:
    """Search the accounts one manages by name, username or student number."""
    query = select(User).where(permissions.users_clause(actor)).order_by(User.school_id, User.student_number, User.id)
    if q:
        term = q.strip()  # autoescape: % and _ are matched as themselves, not as wildcards
        query = query.where(or_(User.display_name.icontains(term, autoescape=True),
                                User.username.icontains(term, autoescape=True),
                                User.student_number.icontains(term, autoescape=True)))
    if school_id is not None:
        query = query.where(User.school_id == school_id)
    if class_id is not None:
        query = query.where(User.id.in_(select(ClassMembership.user_id).where(ClassMembership.class_id == class_id)))
    if role is not None:
        query = query.where(User.role == role)
    users = list(session.scalars(query.limit(limit).offset(offset)))
    classes: dict[int, list[int]] = {u.id: [] for u in users}
    for cid, uid in session.execute(select(ClassMembership.class_id, ClassMembership.user_id)
                                    .where(ClassMembership.user_id.in_(list(classes)))):
        classes[uid].append(cid)
    return [UserRow(**UserOut.of(u).model_dump(), student_number=u.student_number, gender=u.gender,
                    class_ids=sorted(classes[u.id])) for u in users]


class RejectedRow(BaseModel):
    index: int
    username: str
    error: str
    detail: str


class EnrolOut(BaseModel):
    created: list[UserOut]
    rejected: list[RejectedRow]


@router.post("/classes/{class_id}/students")
def enrol_students(
    class_id: int, body: list[StudentIn], user: ClassesDep, runtime: RuntimeDep
) -> EnrolOut:
    """Create student accounts in the class. A bad row is reported and skipped; the rest are kept.
    A long list is committed in batches (see exam_server/services/imports.py), so exams running
    on SQLite are not kept waiting; if the server stops midway, the batches before are kept."""
    with runtime.read_session() as read:  # refuse outsiders before the slow hashing
        school_id = _managed_class(read, user, class_id).school_id
    hashes = [hash_password(s.password) for s in body]  # slow on purpose: before any transaction

    def store(writer: Session, row: tuple[int, StudentIn, str]) -> UserOut | RejectedRow:
        index, student, password_hash = row
        try:
            account = accounts.create_user(writer, student.username, None, Role.STUDENT, student.display_name,
                                           school_id, runtime.clock(), password_hash=password_hash)
        except ServiceError as exc:
            return RejectedRow(index=index, username=student.username, error=exc.name, detail=exc.detail)
        accounts.add_to_class(writer, class_id, account.id)
        return UserOut.of(account)

    rows = [(i, s, h) for i, (s, h) in enumerate(zip(body, hashes, strict=True))]
    results, _batches, stopped = run_in_batches(runtime.session_factory, rows, runtime.settings.import_batch_size,
                                                store)
    out = EnrolOut(created=[r for r in results if isinstance(r, UserOut)],
                   rejected=[r for r in results if isinstance(r, RejectedRow)])
    out.rejected += [RejectedRow(index=i, username=s.username, error="NotStored", detail=f"enrolment {stopped}")
                     for i, s, _ in rows[len(results):]]
    return out


def _managed_class(session: Session, user: User, class_id: int) -> SchoolClass:
    klass = session.get(SchoolClass, class_id)
    if klass is None or not permissions.may_manage_class(session, user, klass):
        raise NotFound(f"class {class_id} does not exist among the classes you teach or administer")
    return klass


@router.post("/users/{user_id}/deactivate")
@atomic
def deactivate_user(user_id: int, admin: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    """Disable an account: its sign-ins end at once (access tokens too) and it cannot log in."""
    audit.record(session, admin.id, "user.deactivated", "user", user_id, None, runtime.clock())
    return UserOut.of(sessions.set_active(session, runtime.sessions, admin, user_id, False, runtime.clock()))


@router.post("/users/{user_id}/reactivate")
@atomic
def reactivate_user(user_id: int, admin: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    """Enable an account again; tokens from before the deactivation stay dead."""
    audit.record(session, admin.id, "user.reactivated", "user", user_id, None, runtime.clock())
    return UserOut.of(sessions.set_active(session, runtime.sessions, admin, user_id, True, runtime.clock()))


class PasswordResetIn(BaseModel):
    password: str | None = Field(default=None, min_length=8, max_length=200)


class PasswordResetOut(UserOut):
    initial_password: str | None = None


@router.post("/users/{user_id}/password")
@atomic
def reset_password(user_id: int, admin: AdminDep, runtime: RuntimeDep, session: SessionDep,
                   body: PasswordResetIn | None = None) -> PasswordResetOut:
    """Set another account's password (or, with none given, a random one shown once in
    ``initial_password``): its sessions end at once, a sign-in lock on it is lifted, and the user
    must choose a new password at the next sign-in."""
    with runtime.read_session() as read:  # refuse outsiders before the slow hashing
        sessions.managed_account(read, admin, user_id)
    chosen = body.password if body is not None else None
    generated = None if chosen else initial_password(runtime.settings.initial_password_length)
    new_hash = runtime.sessions.passwords.hash(chosen or generated or "")  # before the transaction
    sessions.managed_account(session, admin, user_id)
    user = sessions.set_password(session, runtime.sessions, user_id, new_hash, runtime.clock(), must_change=True)
    runtime.sessions.login_succeeded(user.username)
    audit.record(session, admin.id, "user.password_reset", "user", user_id, {"generated": generated is not None},
                 runtime.clock())
    return PasswordResetOut(**UserOut.of(user).model_dump(), initial_password=generated)
