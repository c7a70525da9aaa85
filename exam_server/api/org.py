"""The organisation tree over HTTP: districts and schools (district admins), grades, classes and
teacher assignments (a school's admins), and the class list each user may work with."""

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exam_server import permissions
from exam_server.deps import ClassesDep, OrgDep, RuntimeDep, SchoolsDep, SessionDep, atomic
from exam_server.errors import NotFound
from exam_server.services import accounts, audit, org
from models import ClassMembership, District, Grade, Role, School, SchoolClass, User

router = APIRouter(prefix="/api", tags=["organisation"])

Code = Field(default=None, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")


class DistrictIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    code: str | None = Code


class DistrictPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Code


class DistrictOut(BaseModel):
    id: int
    name: str
    code: str | None

    @classmethod
    def of(cls, d: District) -> "DistrictOut":
        return cls(id=d.id, name=d.name, code=d.code)


class SchoolIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    district: str | None = Field(default=None, max_length=200)
    code: str | None = Code
    district_id: int | None = None


class SchoolPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Code
    district_id: int | None = None


class SchoolOut(BaseModel):
    id: int
    name: str
    code: str | None
    district_id: int | None

    @classmethod
    def of(cls, s: School) -> "SchoolOut":
        return cls(id=s.id, name=s.name, code=s.code, district_id=s.district_id)


class GradeIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    entry_year: int | None = Field(default=None, ge=1900, le=2200)


class GradePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    entry_year: int | None = Field(default=None, ge=1900, le=2200)


class GradeOut(BaseModel):
    id: int
    school_id: int
    name: str
    entry_year: int | None

    @classmethod
    def of(cls, g: Grade) -> "GradeOut":
        return cls(id=g.id, school_id=g.school_id, name=g.name, entry_year=g.entry_year)


class ClassIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    grade_id: int | None = None


class ClassPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    grade_id: int | None = None


class NamedOut(BaseModel):
    id: int
    name: str
    grade_id: int | None = None


class AssignmentIn(BaseModel):
    teacher_id: int
    subject: str = Field(min_length=1, max_length=50)


class AssignmentOut(BaseModel):
    teacher_id: int
    teacher_name: str
    username: str
    class_id: int
    class_name: str
    subject: str


# ---- districts and schools (district admins) ---------------------------------------------------

@router.post("/districts", status_code=201)
@atomic
def create_district(body: DistrictIn, _: SchoolsDep, session: SessionDep) -> DistrictOut:
    return DistrictOut.of(org.create_district(session, body.name, body.code))


@router.get("/districts")
def list_districts(_: OrgDep, session: SessionDep) -> list[DistrictOut]:
    return [DistrictOut.of(d) for d in session.scalars(select(District).order_by(District.name))]


@router.patch("/districts/{district_id}")
@atomic
def update_district(district_id: int, body: DistrictPatch, _: SchoolsDep, session: SessionDep) -> DistrictOut:
    return DistrictOut.of(org.update_district(session, district_id, body.name, body.code))


@router.post("/schools", status_code=201)
@atomic
def create_school(body: SchoolIn, _: SchoolsDep, session: SessionDep) -> SchoolOut:
    return SchoolOut.of(accounts.create_school(session, body.name, body.district, body.code, body.district_id))


@router.get("/schools")
def list_schools(user: OrgDep, session: SessionDep) -> list[SchoolOut]:
    """Every school for a district admin; one's own for a school admin."""
    query = select(School).order_by(School.name)
    if not permissions.is_district(user):
        query = query.where(School.id == user.school_id)
    return [SchoolOut.of(s) for s in session.scalars(query)]


@router.patch("/schools/{school_id}")
@atomic
def update_school(school_id: int, body: SchoolPatch, _: SchoolsDep, session: SessionDep) -> SchoolOut:
    fields = org.SchoolFields(body.name, body.code, body.district_id)
    return SchoolOut.of(org.update_school(session, school_id, fields))


# ---- grades and classes (a school's admins) ----------------------------------------------------

def _administered(session: Session, user: User, school_id: int) -> School:
    school = session.get(School, school_id)
    if school is None or not permissions.may_administer_school(user, school_id):
        raise NotFound(f"school {school_id} does not exist among the schools you administer")
    return school


@router.get("/schools/{school_id}/grades")
def list_grades(school_id: int, user: OrgDep, session: SessionDep) -> list[GradeOut]:
    _administered(session, user, school_id)
    query = select(Grade).where(Grade.school_id == school_id).order_by(Grade.name)
    return [GradeOut.of(g) for g in session.scalars(query)]


@router.post("/schools/{school_id}/grades", status_code=201)
@atomic
def create_grade(school_id: int, body: GradeIn, user: OrgDep, session: SessionDep) -> GradeOut:
    _administered(session, user, school_id)
    return GradeOut.of(org.create_grade(session, school_id, body.name, body.entry_year))


@router.patch("/grades/{grade_id}")
@atomic
def update_grade(grade_id: int, body: GradePatch, user: OrgDep, session: SessionDep) -> GradeOut:
    grade = session.get(Grade, grade_id)
    if grade is None:
        raise NotFound(f"grade {grade_id} does not exist")
    _administered(session, user, grade.school_id)
    return GradeOut.of(org.update_grade(session, grade, body.name, body.entry_year))


@router.post("/schools/{school_id}/classes", status_code=201)
@atomic
def create_class(school_id: int, body: ClassIn, user: OrgDep, session: SessionDep) -> NamedOut:
    """A school's admins create its classes (district admins anywhere)."""
    _administered(session, user, school_id)
    klass = accounts.create_class(session, school_id, body.name, body.grade_id)
    return NamedOut(id=klass.id, name=klass.name, grade_id=klass.grade_id)


def _class_of_school(session: Session, user: User, class_id: int) -> SchoolClass:
    klass = session.get(SchoolClass, class_id)
    if klass is None:
        raise NotFound(f"class {class_id} does not exist")
    _administered(session, user, klass.school_id)
    return klass


@router.patch("/classes/{class_id}")
@atomic
def update_class(class_id: int, body: ClassPatch, user: OrgDep, session: SessionDep) -> NamedOut:
    klass = org.update_class(session, _class_of_school(session, user, class_id), body.name, body.grade_id)
    return NamedOut(id=klass.id, name=klass.name, grade_id=klass.grade_id)


class ClassOut(BaseModel):
    id: int
    name: str
    school_id: int
    school_name: str
    grade_id: int | None
    grade_name: str | None
    students: int


@router.get("/classes")
def list_classes(user: ClassesDep, session: SessionDep, school_id: int | None = None) -> list[ClassOut]:
    """The classes a user works with: a teacher's assigned ones, a school admin's school's, all
    for a district admin (optionally one school's)."""
    counts = (select(ClassMembership.class_id, func.count().label("n")).join(User, User.id == ClassMembership.user_id)
              .where(User.role == Role.STUDENT).group_by(ClassMembership.class_id).subquery())
    query = (select(SchoolClass, School.name, Grade.name, func.coalesce(counts.c.n, 0))
             .join(School, School.id == SchoolClass.school_id)
             .outerjoin(Grade, Grade.id == SchoolClass.grade_id)
             .outerjoin(counts, counts.c.class_id == SchoolClass.id).order_by(School.name, SchoolClass.name)
             .where(permissions.classes_clause(user)))
    if school_id is not None:
        query = query.where(SchoolClass.school_id == school_id)
    return [ClassOut(id=k.id, name=k.name, school_id=k.school_id, school_name=school, grade_id=k.grade_id,
                     grade_name=grade, students=n)
            for k, school, grade, n in session.execute(query)]


# ---- teacher assignments -----------------------------------------------------------------------

@router.get("/schools/{school_id}/assignments")
def list_assignments(school_id: int, user: OrgDep, session: SessionDep) -> list[AssignmentOut]:
    _administered(session, user, school_id)
    return [AssignmentOut(teacher_id=u.id, teacher_name=u.display_name, username=u.username, class_id=k.id,
                          class_name=k.name, subject=a.subject)
            for a, u, k in org.assignments(session, school_id)]


@router.post("/classes/{class_id}/teachers", status_code=201)
@atomic
def assign_teacher(class_id: int, body: AssignmentIn, user: OrgDep, runtime: RuntimeDep,
                   session: SessionDep) -> AssignmentOut:
    klass = _class_of_school(session, user, class_id)
    org.assign_teacher(session, klass, body.teacher_id, body.subject)
    audit.record(session, user.id, "class.teacher_assigned", "class", class_id,
                 {"teacher_id": body.teacher_id, "subject": body.subject}, runtime.clock())
    teacher = session.get(User, body.teacher_id)
    assert teacher is not None
    return AssignmentOut(teacher_id=teacher.id, teacher_name=teacher.display_name, username=teacher.username,
                         class_id=klass.id, class_name=klass.name, subject=body.subject)


@router.delete("/classes/{class_id}/teachers/{user_id}/{subject}", status_code=204)
@atomic
def unassign_teacher(class_id: int, user_id: int, subject: Annotated[str, Path(max_length=50, pattern=r"^[^\x00]+$")],
                     user: OrgDep, runtime: RuntimeDep, session: SessionDep) -> None:
    """The subject is path text: a NUL in it (which PostgreSQL refuses) is a 422, not a query."""
    _class_of_school(session, user, class_id)
    org.unassign_teacher(session, class_id, user_id, subject)
    audit.record(session, user.id, "class.teacher_unassigned", "class", class_id,
                 {"teacher_id": user_id, "subject": subject}, runtime.clock())
