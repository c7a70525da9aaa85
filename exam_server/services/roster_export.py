"""A school's students or teachers as roster rows (the import layout, so an export re-imports)."""

from collections import defaultdict

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from exam_server.services.roster import ACCEPTED_ROLES
from exam_server.services.roster_xlsx import Kind
from models import ClassMembership, Grade, SchoolClass, TeacherAssignment, User

GENDER_OUT = {"M": "男", "F": "女"}


def export_rows(session: Session, school_id: int, kind: Kind, class_id: int | None,
                visible: ColumnElement[bool]) -> list[tuple[str, ...]]:
    classes = {k.id: k for k in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id))}
    grades = {g.id: g.name for g in session.scalars(select(Grade).where(Grade.school_id == school_id))}
    query = (select(User).where(User.school_id == school_id, User.role.in_(list(ACCEPTED_ROLES[kind])), visible)
             .order_by(User.student_number.is_(None), User.student_number, User.username))
    users = list(session.scalars(query))
    ids = [u.id for u in users]
    if kind == "students":
        member: dict[int, int] = {}
        for uid, cid in session.execute(select(ClassMembership.user_id, ClassMembership.class_id)
                                        .where(ClassMembership.user_id.in_(ids))):
            if cid in classes:
                member[uid] = cid
        rows: list[tuple[str, ...]] = []
        for u in users:
            klass = classes.get(member.get(u.id, -1))
            if class_id is not None and (klass is None or klass.id != class_id):
                continue
            grade = grades.get(klass.grade_id, "") if klass is not None and klass.grade_id is not None else ""
            rows.append((u.student_number or "", u.display_name, GENDER_OUT.get(u.gender or "", ""), grade,
                         klass.name if klass is not None else "", u.username))
        return rows
    teaches: dict[int, list[str]] = defaultdict(list)
    for a in session.scalars(select(TeacherAssignment).where(TeacherAssignment.teacher_id.in_(ids))
                             .order_by(TeacherAssignment.class_id, TeacherAssignment.subject)):
        if a.class_id in classes and (class_id is None or a.class_id == class_id):
            teaches[a.teacher_id].append(f"{classes[a.class_id].name}:{a.subject}")
    return [(u.student_number or "", u.display_name, GENDER_OUT.get(u.gender or "", ""), u.username,
             "、".join(teaches[u.id]), "")
            for u in users if class_id is None or teaches[u.id]]
