"""Users, schools and classes (sign-ins and tokens: :mod:`exam_server.services.sessions`)."""

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exam_server.errors import Conflict, NotFound, Unprocessable
from exam_server.security import hash_password
from models import ClassMembership, District, Exam, ExamCandidate, Grade, Role, School, SchoolClass, User

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
    return insert_unique(session, user, f"username: {username!r} is already taken")


def _refuse_admission_number(session: Session, username: str) -> None:
    """Candidates sign in with published admission numbers too: a username must not be one."""
    taken = session.scalar(select(ExamCandidate.exam_id).join(Exam, Exam.id == ExamCandidate.exam_id)
                           .where(ExamCandidate.admission_no == username, Exam.admission_published_at.is_not(None))
                           .limit(1))
    if taken is not None:
        raise Conflict(f"username: {username!r} is a published admission number of exam {taken}; choose another")


def insert_unique(session: Session, row: T, conflict: str) -> T:
    """Insert in a savepoint: a unique clash becomes a Conflict and the rest of the transaction lives."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc
    return row


def create_school(session: Session, name: str, district: str | None, code: str | None = None,
                  district_id: int | None = None) -> School:
    if district_id is not None and session.get(District, district_id) is None:
        raise Unprocessable(f"district_id: district {district_id} does not exist")
    return insert_unique(session, School(name=name, district=district, code=code, district_id=district_id),
                         f"name/code: a school named {name!r} or coded {code!r} already exists")


def create_class(session: Session, school_id: int, name: str, grade_id: int | None = None) -> SchoolClass:
    if session.get(School, school_id) is None:
        raise NotFound(f"school {school_id} does not exist")
    if grade_id is not None:
        grade = session.get(Grade, grade_id)
        if grade is None or grade.school_id != school_id:
            raise Unprocessable(f"grade_id: grade {grade_id} is not a grade of school {school_id}")
    return insert_unique(session, SchoolClass(school_id=school_id, name=name, grade_id=grade_id),
                         f"name: school {school_id} already has a class named {name!r}")


def add_to_class(session: Session, class_id: int, user_id: int) -> None:
    if session.get(ClassMembership, (class_id, user_id)) is None:
        session.add(ClassMembership(class_id=class_id, user_id=user_id))
