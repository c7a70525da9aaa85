"""The organisation tree: districts, schools, grades, classes and teacher assignments.

Writes go through :func:`exam_server.services.accounts.insert_unique`, so a name clash is a
``409 Conflict`` naming the field, and the rest of the transaction lives on. Callers check scope
(:mod:`exam_server.permissions`) before calling; these functions check the tree is consistent
(a class's grade is in the class's school, a teacher is a teacher of that school).
"""

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exam_server.errors import NotFound, Unprocessable
from exam_server.services.accounts import insert_unique
from models import District, Grade, Role, School, SchoolClass, TeacherAssignment, User

TEACHING_ROLES = frozenset({Role.TEACHER, Role.REVIEWER})


def create_district(session: Session, name: str, code: str | None) -> District:
    return insert_unique(session, District(name=name, code=code),
                         f"name/code: a district named {name!r} or coded {code!r} already exists")


def update_district(session: Session, district_id: int, name: str | None, code: str | None) -> District:
    district = session.get(District, district_id)
    if district is None:
        raise NotFound(f"district {district_id} does not exist")
    district.name = name if name is not None else district.name
    district.code = code if code is not None else district.code
    return insert_unique(session, district, f"name/code: another district is named {name!r} or coded {code!r}")


@dataclass(frozen=True)
class SchoolFields:
    name: str | None = None
    code: str | None = None
    district_id: int | None = None


def _check_district(session: Session, district_id: int | None) -> None:
    if district_id is not None and session.get(District, district_id) is None:
        raise Unprocessable(f"district_id: district {district_id} does not exist")


def update_school(session: Session, school_id: int, fields: SchoolFields) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise NotFound(f"school {school_id} does not exist")
    _check_district(session, fields.district_id)
    school.name = fields.name if fields.name is not None else school.name
    school.code = fields.code if fields.code is not None else school.code
    school.district_id = fields.district_id if fields.district_id is not None else school.district_id
    return insert_unique(session, school, f"name/code: another school is named {fields.name!r} "
                                          f"or coded {fields.code!r}")


def create_grade(session: Session, school_id: int, name: str, entry_year: int | None) -> Grade:
    if session.get(School, school_id) is None:
        raise NotFound(f"school {school_id} does not exist")
    return insert_unique(session, Grade(school_id=school_id, name=name, entry_year=entry_year),
                         f"name: school {school_id} already has a grade named {name!r}")


def update_grade(session: Session, grade: Grade, name: str | None, entry_year: int | None) -> Grade:
    grade.name = name if name is not None else grade.name
    grade.entry_year = entry_year if entry_year is not None else grade.entry_year
    return insert_unique(session, grade, f"name: school {grade.school_id} already has a grade named {name!r}")


def check_grade(session: Session, school_id: int, grade_id: int | None) -> None:
    if grade_id is None:
        return
    grade = session.get(Grade, grade_id)
    if grade is None or grade.school_id != school_id:
        raise Unprocessable(f"grade_id: grade {grade_id} is not a grade of school {school_id}")


def update_class(session: Session, klass: SchoolClass, name: str | None, grade_id: int | None) -> SchoolClass:
    check_grade(session, klass.school_id, grade_id)
    klass.name = name if name is not None else klass.name
    klass.grade_id = grade_id if grade_id is not None else klass.grade_id
    return insert_unique(session, klass, f"name: school {klass.school_id} already has a class named {name!r}")


def assign_teacher(session: Session, klass: SchoolClass, teacher_id: int, subject: str) -> TeacherAssignment:
    teacher = session.get(User, teacher_id)
    if teacher is None or teacher.school_id != klass.school_id:
        raise Unprocessable(f"teacher_id: user {teacher_id} is not a member of school {klass.school_id}")
    if teacher.role not in TEACHING_ROLES:
        raise Unprocessable(f"teacher_id: user {teacher_id} is a {teacher.role}, not a teacher")
    existing = session.get(TeacherAssignment, (teacher_id, klass.id, subject))
    if existing is not None:
        return existing
    row = TeacherAssignment(teacher_id=teacher_id, class_id=klass.id, subject=subject)
    session.add(row)
    session.flush()
    return row


def unassign_teacher(session: Session, class_id: int, teacher_id: int, subject: str) -> None:
    result = session.execute(delete(TeacherAssignment).where(
        TeacherAssignment.class_id == class_id, TeacherAssignment.teacher_id == teacher_id,
        TeacherAssignment.subject == subject))
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"teacher {teacher_id} is not assigned to class {class_id} for {subject!r}")


def assignments(session: Session, school_id: int) -> list[tuple[TeacherAssignment, User, SchoolClass]]:
    query = (select(TeacherAssignment, User, SchoolClass)
             .join(User, User.id == TeacherAssignment.teacher_id)
             .join(SchoolClass, SchoolClass.id == TeacherAssignment.class_id)
             .where(SchoolClass.school_id == school_id)
             .order_by(SchoolClass.name, User.display_name, TeacherAssignment.subject))
    return [(a, u, k) for a, u, k in session.execute(query)]
