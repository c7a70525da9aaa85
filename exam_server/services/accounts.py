"""Users, schools and classes (sign-ins and tokens: :mod:`exam_server.services.sessions`)."""

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, NotFound
from exam_server.security import hash_password
from models import ClassMembership, Exam, ExamCandidate, Role, School, SchoolClass, User

T = TypeVar("T")


def create_user(
    session: Session, username: str, password: str | None, role: Role, display_name: str,
    school_id: int | None, now: datetime, password_hash: str | None = None,
) -> User:
    """Create an account from a password, or from a hash made earlier outside the transaction."""
    if password_hash is None:
        if password is None:
            raise ValueError("create_user needs a password or a password_hash")
        password_hash = hash_password(password)
    _refuse_admission_number(session, username)
    user = User(username=username, password_hash=password_hash, role=role,
                display_name=display_name, school_id=school_id, is_active=True, created_at=now)
    return _insert_unique(session, user, f"username: {username!r} is already taken")


def _refuse_admission_number(session: Session, username: str) -> None:
    """Candidates sign in with published admission numbers too: a username must not be one."""
    taken = session.scalar(select(ExamCandidate.exam_id).join(Exam, Exam.id == ExamCandidate.exam_id)
                           .where(ExamCandidate.admission_no == username, Exam.admission_published_at.is_not(None))
                           .limit(1))
    if taken is not None:
        raise Conflict(f"username: {username!r} is a published admission number of exam {taken}; choose another")


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
