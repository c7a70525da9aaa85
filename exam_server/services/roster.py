"""Bulk accounts from a roster workbook: preview (no writes) and apply (all or nothing).

Flow: :func:`plan_roster` reads the school's grades, classes and numbered accounts once and
decides, row by row, ``create`` / ``update`` / ``error`` with every problem named (duplicates
within the file, unknown grades or classes, a class in another grade, a number that belongs to
another kind of account, a username taken, bad values). The preview returns that plan. Apply plans
again from the uploaded file, refuses if any row has an error, hashes the new accounts' initial
passwords *before* the write transaction (bounded to the cores), then writes everything in one
transaction: a unique clash there (someone created the same number meanwhile) rolls it all back.

Rules (documented for schools):

* A row is matched on its number (学号 / 工号) within the school (``users.student_number``): a
  known number updates that account (name, gender, class; teachers gain the listed classes), a new
  one creates an account. The same number never makes a second account.
* New usernames: the 用户名 column if given, else school code + number in lower case (see
  :func:`exam_server.services.roster_rows.default_username`). Existing accounts keep theirs.
* New accounts get a random initial password (``EXAM_INITIAL_PASSWORD_LENGTH`` characters, no
  look-alikes), returned once in the apply result, and must change it at first sign-in.
* A student moves to the row's class: their other classes in this school are left.
* With ``create_missing``, unknown grades and classes are created (a class in the row's grade);
  without it they are errors.
"""

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exam_server.errors import Conflict
from exam_server.services import audit
from exam_server.services.roster_rows import CheckedRow, Issue, check_row, default_username
from exam_server.services.roster_xlsx import Kind, Sheet
from exam_server.sessions.passwords import HASH_SLOTS, Passwords
from models import ClassMembership, Grade, Role, School, SchoolClass, TeacherAssignment, User

Action = Literal["create", "update", "error"]
ROLE_OF: dict[Kind, Role] = {"students": Role.STUDENT, "teachers": Role.TEACHER}
ACCEPTED_ROLES: dict[Kind, frozenset[Role]] = {"students": frozenset({Role.STUDENT}),
                                               "teachers": frozenset({Role.TEACHER, Role.REVIEWER})}


@dataclass
class RowPlan:
    checked: CheckedRow
    action: Action = "create"
    user_id: int | None = None


@dataclass
class Plan:
    kind: Kind
    school_id: int
    rows: list[RowPlan]
    new_grades: list[str] = field(default_factory=list)
    new_classes: dict[str, str] = field(default_factory=dict)  # class name -> grade name ("" for none)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.action == "error")


@dataclass
class _School:
    """What one plan needs to know about the school, read once."""

    school: School
    grades: dict[str, Grade]
    classes: dict[str, SchoolClass]
    numbered: dict[str, User]
    grade_names: dict[int, str]


def _load(session: Session, school: School) -> _School:
    grades = {g.name: g for g in session.scalars(select(Grade).where(Grade.school_id == school.id))}
    classes = {k.name: k for k in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id))}
    numbered = {u.student_number: u for u in session.scalars(
        select(User).where(User.school_id == school.id, User.student_number.is_not(None))) if u.student_number}
    return _School(school, grades, classes, numbered, {g.id: g.name for g in grades.values()})


def plan_roster(session: Session, school: School, kind: Kind, sheet: Sheet, create_missing: bool) -> Plan:
    known = _load(session, school)
    plan = Plan(kind, school.id, [RowPlan(check_row(kind, row, sheet.columns)) for row in sheet.rows])
    _mark_duplicates(plan, sheet.columns)
    for row in plan.rows:
        _match_account(row, known, kind, sheet.columns)
    _check_usernames(session, plan, sheet.columns)
    for row in plan.rows:
        if kind == "students":
            _check_class(plan, row.checked, known, create_missing, sheet.columns)
        else:
            _check_teaching(plan, row.checked, known, create_missing, sheet.columns)
        if row.checked.issues:
            row.action = "error"
    return plan


def _issue(row: CheckedRow, headers: dict[str, str], key: str, detail: str) -> None:
    row.issues.append(Issue(headers.get(key, key), detail))


def _mark_duplicates(plan: Plan, headers: dict[str, str]) -> None:
    first: dict[str, int] = {}
    for row in plan.rows:
        number = row.checked.number
        if number and number in first:
            _issue(row.checked, headers, "number", f"{number} is also on row {first[number]}: one row per person")
        first.setdefault(number, row.checked.row)


def _match_account(row: RowPlan, known: _School, kind: Kind, headers: dict[str, str]) -> None:
    checked = row.checked
    existing = known.numbered.get(checked.number)
    if existing is None:
        checked.username = checked.username or default_username(known.school.code, known.school.id, checked.number)
        return
    if existing.role not in ACCEPTED_ROLES[kind]:
        _issue(checked, headers, "number", f"{checked.number} belongs to a {existing.role} account "
                                           f"({existing.username}), not a {ROLE_OF[kind]}")
        return
    if checked.username and checked.username != existing.username:
        checked.notes.append(f"keeps the username {existing.username} (imports do not rename accounts)")
    checked.username = existing.username
    row.action, row.user_id = "update", existing.id


def _check_usernames(session: Session, plan: Plan, headers: dict[str, str]) -> None:
    new = [r.checked for r in plan.rows if r.action == "create" and r.checked.username]
    taken = set(session.scalars(select(User.username).where(User.username.in_([c.username for c in new]))))
    first: dict[str, int] = {}
    for checked in new:
        if checked.username in taken:
            _issue(checked, headers, "username", f"{checked.username} is already taken by another account")
        elif checked.username in first:
            _issue(checked, headers, "username", f"{checked.username} is also on row {first[checked.username]}")
        first.setdefault(checked.username, checked.row)


def _check_class(plan: Plan, row: CheckedRow, known: _School, create: bool, headers: dict[str, str]) -> None:
    if not row.klass:
        return
    if row.grade and row.grade not in known.grades and row.grade not in plan.new_grades:
        if not create:
            _issue(row, headers, "grade", f"no grade named {row.grade!r} in this school{_known(known.grades)}")
            return
        plan.new_grades.append(row.grade)
    klass = known.classes.get(row.klass)
    if klass is not None:
        in_grade = known.grade_names.get(klass.grade_id) if klass.grade_id is not None else None
        if row.grade and in_grade is not None and in_grade != row.grade:
            _issue(row, headers, "class", f"{row.klass} is in grade {in_grade}, not {row.grade}")
        return
    planned = plan.new_classes.get(row.klass)
    if planned is not None and planned != row.grade:
        _issue(row, headers, "class", f"{row.klass} is to be created in grade {planned or '(none)'} by an earlier "
                                      f"row, not {row.grade or '(none)'}")
    elif not create:
        _issue(row, headers, "class", f"no class named {row.klass!r} in this school{_known(known.classes)}")
    elif planned is None:
        plan.new_classes[row.klass] = row.grade
        row.notes.append(f"class {row.klass} will be created")


def _check_teaching(plan: Plan, row: CheckedRow, known: _School, create: bool, headers: dict[str, str]) -> None:
    for klass, _ in row.teaches:
        if klass in known.classes or klass in plan.new_classes:
            continue
        if not create:
            _issue(row, headers, "teaches", f"no class named {klass!r} in this school{_known(known.classes)}")
        else:
            plan.new_classes[klass] = ""
            row.notes.append(f"class {klass} will be created")


def _known(names: Iterable[str]) -> str:
    listed = sorted(names)
    if not listed:
        return " (it has none yet)"
    return f" (known: {', '.join(listed[:10])}{', ...' if len(listed) > 10 else ''})"


# ---- apply -------------------------------------------------------------------------------------

def hash_all(passwords: Passwords, plain: Sequence[str]) -> list[str]:
    """Hash initial passwords on every core (argon2 releases the GIL; the process-wide slots in
    :mod:`exam_server.sessions.passwords` keep the total bounded to the cores)."""
    with ThreadPoolExecutor(max_workers=HASH_SLOTS) as pool:
        return list(pool.map(passwords.hash, plain))


@dataclass
class Applied:
    created: int
    updated: int
    accounts: list[tuple[RowPlan, int]]  # (row, account id) for every row


def apply_plan(session: Session, plan: Plan, hashes: dict[int, str], actor: User, now: datetime) -> Applied:
    """Write a plan with no errors (hashes by spreadsheet row for the rows that create), in a few
    set-wise statements: the write transaction stays short (see bench/roster.py)."""
    assert plan.errors == 0, "apply only a plan without errors"
    try:
        classes = _ensure_tree(session, plan)
        users = _write_users(session, plan, hashes, now)
        if plan.kind == "students":
            _set_classes(session, plan, users, classes)
        else:
            _add_assignments(session, plan, users, classes)
        session.flush()
    except IntegrityError as exc:
        raise Conflict("the school's accounts or classes changed while this file was being applied "
                       "(a number or username is now taken): preview the file again") from exc
    created = sum(1 for row in plan.rows if row.action == "create")
    audit.record(session, actor.id, "roster.imported", "school", plan.school_id,
                 {"kind": plan.kind, "created": created, "updated": len(plan.rows) - created}, now)
    return Applied(created, len(plan.rows) - created, [(r, u.id) for r, u in zip(plan.rows, users, strict=True)])


def _ensure_tree(session: Session, plan: Plan) -> dict[str, SchoolClass]:
    grades = {g.name: g for g in session.scalars(select(Grade).where(Grade.school_id == plan.school_id))}
    for name in plan.new_grades:
        if name not in grades:
            grades[name] = Grade(school_id=plan.school_id, name=name)
            session.add(grades[name])
    session.flush()
    classes = {k.name: k for k in session.scalars(select(SchoolClass).where(SchoolClass.school_id == plan.school_id))}
    for name, grade in plan.new_classes.items():
        if name not in classes:
            classes[name] = SchoolClass(school_id=plan.school_id, name=name,
                                        grade_id=grades[grade].id if grade else None)
            session.add(classes[name])
    session.flush()
    return classes


def _write_users(session: Session, plan: Plan, hashes: dict[int, str], now: datetime) -> list[User]:
    ids = [r.user_id for r in plan.rows if r.user_id is not None]
    existing = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    users = []
    for row in plan.rows:
        c = row.checked
        if row.action == "create":
            user = User(username=c.username, password_hash=hashes[c.row], role=ROLE_OF[plan.kind],
                        display_name=c.name, school_id=plan.school_id, is_active=True, created_at=now,
                        student_number=c.number, gender=c.gender, must_change_password=True)
            session.add(user)
        else:
            found = existing.get(row.user_id or 0)
            if found is None or found.student_number != c.number:
                raise Conflict(f"row {c.row}: the account of {c.number} changed meanwhile: preview the file again")
            user = found
            user.display_name = c.name
            user.gender = c.gender if c.gender is not None else user.gender
        users.append(user)
    session.flush()  # the new accounts' ids
    return users


def _set_classes(session: Session, plan: Plan, users: list[User], classes: dict[str, SchoolClass]) -> None:
    """Each student in exactly the row's class among this school's classes (other schools' kept)."""
    ids = [u.id for u in users]
    school_classes = select(SchoolClass.id).where(SchoolClass.school_id == plan.school_id)
    session.execute(delete(ClassMembership).where(ClassMembership.user_id.in_(ids),
                                                  ClassMembership.class_id.in_(school_classes)))
    session.add_all(ClassMembership(class_id=classes[r.checked.klass].id, user_id=u.id)
                    for r, u in zip(plan.rows, users, strict=True))


def _add_assignments(session: Session, plan: Plan, users: list[User], classes: dict[str, SchoolClass]) -> None:
    ids = [u.id for u in users]
    query = select(TeacherAssignment.teacher_id, TeacherAssignment.class_id, TeacherAssignment.subject)
    have: set[tuple[int, int, str]] = {(t, c, s) for t, c, s in session.execute(
        query.where(TeacherAssignment.teacher_id.in_(ids)))}
    for row, user in zip(plan.rows, users, strict=True):
        for klass, subject in row.checked.teaches:
            key = (user.id, classes[klass].id, subject)
            if key not in have:
                have.add(key)
                session.add(TeacherAssignment(teacher_id=user.id, class_id=classes[klass].id, subject=subject))
