"""Schools, classes and accounts (admins create schools and teachers; staff enrol students)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.api.auth import UserOut
from exam_server.deps import AdminDep, ClassesDep, RuntimeDep, SchoolsDep, SessionDep, atomic
from exam_server.errors import NotFound, NotYours, ServiceError
from exam_server.security import hash_password
from exam_server.services import accounts, sessions
from exam_server.services.imports import run_in_batches
from models import ClassMembership, Role, School, SchoolClass, User

router = APIRouter(prefix="/api", tags=["accounts"])


class SchoolIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    district: str | None = None


class NamedOut(BaseModel):
    id: int
    name: str


class ClassIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=200)
    role: Role
    school_id: int | None = None


class StudentIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(min_length=1, max_length=200)


@router.post("/schools", status_code=201)
@atomic
def create_school(body: SchoolIn, _: SchoolsDep, session: SessionDep) -> NamedOut:
    school = accounts.create_school(session, body.name, body.district)
    return NamedOut(id=school.id, name=school.name)


@router.post("/schools/{school_id}/classes", status_code=201)
@atomic
def create_class(school_id: int, body: ClassIn, user: ClassesDep, session: SessionDep) -> NamedOut:
    """A teacher creates classes in their own school only (admins anywhere)."""
    if not permissions.may_manage_school(user, school_id):
        raise NotYours(f"school {school_id}: you may create classes only in your own school")
    klass = accounts.create_class(session, school_id, body.name)
    return NamedOut(id=klass.id, name=klass.name)


@router.post("/users", status_code=201)
@atomic
def create_user(body: UserIn, _: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    user = accounts.create_user(session, body.username, body.password, body.role, body.display_name,
                                body.school_id, runtime.clock())
    return UserOut.of(user)


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
    if klass is None or not permissions.may_manage_school(user, klass.school_id):
        raise NotFound(f"class {class_id} does not exist in your school")
    return klass


class ClassOut(BaseModel):
    id: int
    name: str
    school_id: int
    school_name: str
    students: int


@router.get("/classes")
def list_classes(user: ClassesDep, session: SessionDep) -> list[ClassOut]:
    """Classes a teacher can schedule for: their school's (an admin sees all)."""
    counts = (select(ClassMembership.class_id, func.count().label("n")).join(User, User.id == ClassMembership.user_id)
              .where(User.role == Role.STUDENT).group_by(ClassMembership.class_id).subquery())
    query = (select(SchoolClass, School.name, func.coalesce(counts.c.n, 0))
             .join(School, School.id == SchoolClass.school_id)
             .outerjoin(counts, counts.c.class_id == SchoolClass.id).order_by(School.name, SchoolClass.name)
             .where(permissions.classes_clause(user)))
    return [ClassOut(id=k.id, name=k.name, school_id=k.school_id, school_name=school, students=n)
            for k, school, n in session.execute(query)]


@router.post("/users/{user_id}/deactivate")
@atomic
def deactivate_user(user_id: int, admin: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    """Disable an account: its sign-ins end at once (access tokens too) and it cannot log in."""
    return UserOut.of(sessions.set_active(session, runtime.sessions, admin, user_id, False, runtime.clock()))


@router.post("/users/{user_id}/reactivate")
@atomic
def reactivate_user(user_id: int, admin: AdminDep, runtime: RuntimeDep, session: SessionDep) -> UserOut:
    """Enable an account again; tokens from before the deactivation stay dead."""
    return UserOut.of(sessions.set_active(session, runtime.sessions, admin, user_id, True, runtime.clock()))


class PasswordResetIn(BaseModel):
    password: str = Field(min_length=8, max_length=200)


@router.post("/users/{user_id}/password")
@atomic
def reset_password(user_id: int, body: PasswordResetIn, _: AdminDep, runtime: RuntimeDep,
                   session: SessionDep) -> UserOut:
    """Set another account's password: its sessions end at once and a sign-in lock on it is lifted."""
    new_hash = runtime.sessions.passwords.hash(body.password)  # slow on purpose: before the transaction
    user = sessions.set_password(session, runtime.sessions, user_id, new_hash, runtime.clock())
    runtime.sessions.login_succeeded(user.username)
    return UserOut.of(user)
