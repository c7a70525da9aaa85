"""Who may do what to which record: the one place that answers it.

Two layers, both used by every router:

* **Capabilities by role** (:data:`GRANTS`): what a role may do at all. A route declares the one
  capability it needs with :func:`exam_server.deps.require`; a caller without it gets
  ``403 RoleNotAllowed``. The route x role matrix test reads each route's capability from the app,
  so a new route without one fails the suite.
* **Scope and ownership** (the ``may_*`` predicates and the ``*_clause`` SQL filters): which
  records of that kind. Records outside the caller's reach answer ``404`` (their existence is not
  revealed); records the caller may read but not change answer ``403 NotYours``.

The boundaries (district > school > author):

* An **admin** is district staff: every school, every record.
* A **school admin** runs their own school: its grades, classes, teacher assignments, the
  accounts of its staff and students (never an admin's or another school admin's), and reads the
  results of every exam set for one of its classes.
* A **teacher** works with the classes they are assigned to (``teacher_assignments``): enrols
  students there, schedules exams for them, reads results of exams they created or are staff on.
* A **reviewer** (教研员) is a teacher who may also edit and retire other people's items that
  they can see; every such change is audited.
* A **proctor** sees only the exams they are assigned to (``exam_staff``), never keys or answers.
* A **student** sees their own exams and attempts, and only the key-free view of an item.
* **Items** carry a sharing scope: ``private`` (the author), ``school`` (the author's school),
  ``district`` (all staff). On top of that, an item or paper on an exam that has not closed yet is
  readable only by its author and that exam's creator and staff: the key must not reach another
  teacher of a candidate's school before the sitting ends.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from models import (
    Exam,
    ExamCandidate,
    ExamDuty,
    ExamStaff,
    Item,
    ItemUsage,
    Paper,
    Role,
    SchoolClass,
    ShareScope,
    TeacherAssignment,
    User,
)


class Cap(StrEnum):
    """What a route needs the caller's role to allow."""

    SIGNED_IN = "signed_in"  # any account; the record-level rules still apply
    MANAGE_SCHOOLS = "manage_schools"  # districts and schools
    MANAGE_USERS = "manage_users"  # accounts: create, import, export, reset, deactivate (scoped)
    MANAGE_ORG = "manage_org"  # grades, classes and teacher assignments of the caller's school
    MANAGE_CLASSES = "manage_classes"  # list classes and enrol students (teachers: assigned classes)
    USE_BANK = "use_bank"  # read and author items, knowledge points, enemy sets, media
    BUILD_PAPERS = "build_papers"  # papers and assembly
    SCHEDULE_EXAMS = "schedule_exams"
    SIT_EXAMS = "sit_exams"
    PRINT_EXAMS = "print_exams"  # admission tickets, door lists, sign-in sheets, seat charts
    RUN_CENTRE = "run_centre"  # sites, rooms, joint-exam logistics (seats, numbers, attendance)
    SCAN_SHEETS = "scan_sheets"  # upload scanned answer sheets, resolve the exception queue
    MARK_ANSWERS = "mark_answers"  # online marking (网上阅卷): units, batches, marks, progress
    PROCTOR_EXAMS = "proctor_exams"  # live proctor wall, proctor commands, review of flagged candidates


_TEACHING = frozenset({Cap.SIGNED_IN, Cap.MANAGE_CLASSES, Cap.USE_BANK, Cap.BUILD_PAPERS, Cap.SCHEDULE_EXAMS,
                       Cap.SCAN_SHEETS, Cap.MARK_ANSWERS, Cap.PROCTOR_EXAMS})

GRANTS: dict[Role, frozenset[Cap]] = {
    Role.ADMIN: frozenset(Cap) - {Cap.SIT_EXAMS},
    Role.TEACHER: _TEACHING,
    Role.REVIEWER: _TEACHING,
    Role.SCHOOL_ADMIN: frozenset({Cap.SIGNED_IN, Cap.MANAGE_CLASSES, Cap.MANAGE_ORG, Cap.MANAGE_USERS,
                                  Cap.SCHEDULE_EXAMS}),
    Role.CENTRE_STAFF: frozenset({Cap.SIGNED_IN, Cap.PRINT_EXAMS, Cap.RUN_CENTRE, Cap.SCAN_SHEETS,
                                  Cap.PROCTOR_EXAMS}),
    Role.PROCTOR: frozenset({Cap.SIGNED_IN, Cap.PROCTOR_EXAMS}),
    Role.MARKER: frozenset({Cap.SIGNED_IN, Cap.MARK_ANSWERS}),
    Role.STUDENT: frozenset({Cap.SIGNED_IN, Cap.SIT_EXAMS}),
}

# Roles that may edit or retire an item someone else wrote (if they can see it).
ITEM_REVIEWERS = frozenset({Role.ADMIN, Role.REVIEWER})
# Duties that may release results and manage an exam's staff; and that may read its results.
MANAGING_DUTIES = frozenset({ExamDuty.ORGANISER})
RESULT_DUTIES = frozenset({ExamDuty.ORGANISER, ExamDuty.MARKER})


def role_may(role: Role | str, cap: Cap) -> bool:
    return cap in GRANTS.get(Role(role), frozenset())


def is_district(user: User) -> bool:
    return user.role == Role.ADMIN


# ---- schools, classes and accounts ------------------------------------------------------------

# Accounts a school admin may not create, change or see in their school's user lists.
SCHOOL_ADMIN_CANNOT_MANAGE = frozenset({Role.ADMIN, Role.SCHOOL_ADMIN})


def is_school_admin_of(user: User, school_id: int | None) -> bool:
    return user.role == Role.SCHOOL_ADMIN and user.school_id is not None and user.school_id == school_id


def may_administer_school(user: User, school_id: int | None) -> bool:
    """Its grades, classes, teacher assignments and accounts."""
    return is_district(user) or is_school_admin_of(user, school_id)


def _assigned_classes(user_id: int) -> Select[Any]:
    return select(TeacherAssignment.class_id).where(TeacherAssignment.teacher_id == user_id)


def may_manage_class(session: Session, user: User, klass: SchoolClass) -> bool:
    """Enrol its students, schedule exams for it: its school's admins, the teachers assigned to it."""
    if may_administer_school(user, klass.school_id):
        return True
    if not role_may(user.role, Cap.SCHEDULE_EXAMS) or user.school_id != klass.school_id:
        return False
    return bool(session.scalar(select(exists(
        _assigned_classes(user.id).where(TeacherAssignment.class_id == klass.id)))))


def classes_clause(user: User) -> ColumnElement[bool]:
    if is_district(user):
        return true()
    if user.school_id is None:
        return false()
    if user.role == Role.SCHOOL_ADMIN:
        return SchoolClass.school_id == user.school_id
    return and_(SchoolClass.school_id == user.school_id, SchoolClass.id.in_(_assigned_classes(user.id)))


def may_manage_account(actor: User, role: Role | str, school_id: int | None) -> bool:
    """Create, change, reset, deactivate an account with this role in this school."""
    if is_district(actor):
        return True
    return is_school_admin_of(actor, school_id) and Role(role) not in SCHOOL_ADMIN_CANNOT_MANAGE


def users_clause(actor: User) -> ColumnElement[bool]:
    """Accounts listed and exported for this user manager."""
    if is_district(actor):
        return true()
    if actor.role != Role.SCHOOL_ADMIN or actor.school_id is None:
        return false()
    return and_(User.school_id == actor.school_id, User.role.not_in(list(SCHOOL_ADMIN_CANNOT_MANAGE)))


# ---- exams ------------------------------------------------------------------------------------

def _staff_duty(user_id: int, duties: Iterable[ExamDuty] | None = None) -> Select[Any]:
    query = select(ExamStaff.exam_id).where(ExamStaff.user_id == user_id)
    if duties is not None:
        query = query.where(ExamStaff.duty.in_(list(duties)))
    return query


def exams_clause(user: User) -> ColumnElement[bool]:
    """The exams a user may see at all."""
    if is_district(user):
        return true()
    if user.role == Role.STUDENT:
        return Exam.id.in_(select(ExamCandidate.exam_id).where(ExamCandidate.user_id == user.id))
    if user.role == Role.CENTRE_STAFF:
        return centre_exams_clause(user)
    if not role_may(user.role, Cap.SCHEDULE_EXAMS):  # proctors, markers
        return Exam.id.in_(_staff_duty(user.id))
    mine = or_(Exam.created_by == user.id, Exam.id.in_(_staff_duty(user.id)))
    if user.role == Role.SCHOOL_ADMIN and user.school_id is not None:
        return or_(mine, Exam.class_id.in_(select(SchoolClass.id).where(SchoolClass.school_id == user.school_id)))
    return mine


def _of_my_school(session: Session, user: User, exam: Exam) -> bool:
    """A school admin's reach over exams: those set for a class of their school."""
    if user.role != Role.SCHOOL_ADMIN or exam.class_id is None:
        return False
    klass = session.get(SchoolClass, exam.class_id)
    return klass is not None and is_school_admin_of(user, klass.school_id)


def _has_duty(session: Session, exam: Exam, user: User, duties: Iterable[ExamDuty] | None) -> bool:
    return session.scalar(select(exists(_staff_duty(user.id, duties).where(ExamStaff.exam_id == exam.id)))) or False


def may_see_exam(session: Session, user: User, exam: Exam) -> bool:
    if is_district(user):
        return True
    if user.role == Role.STUDENT:
        return session.get(ExamCandidate, (exam.id, user.id)) is not None
    if (role_may(user.role, Cap.SCHEDULE_EXAMS) or user.role == Role.CENTRE_STAFF) and exam.created_by == user.id:
        return True
    return _of_my_school(session, user, exam) or _has_duty(session, exam, user, None)


def may_manage_exam(session: Session, user: User, exam: Exam) -> bool:
    """Release results, assign staff, change the exam."""
    if is_district(user):
        return True
    if not role_may(user.role, Cap.SCHEDULE_EXAMS):
        return False
    return exam.created_by == user.id or _has_duty(session, exam, user, MANAGING_DUTIES)


def may_read_results(session: Session, user: User, exam: Exam) -> bool:
    if is_district(user):
        return True
    if not role_may(user.role, Cap.SCHEDULE_EXAMS):
        return False
    if _of_my_school(session, user, exam):
        return True
    return exam.created_by == user.id or _has_duty(session, exam, user, RESULT_DUTIES)


# ---- items and papers -------------------------------------------------------------------------

def _school_members(school_id: int) -> Select[Any]:
    return select(User.id).where(User.school_id == school_id)


def _exams_not_closed(now: datetime) -> Select[Any]:
    return select(Exam.id).where(Exam.closes_at > now)


def _exams_of(user: User) -> Select[Any]:
    """Exams whose keys this user may know before they close: created, staffed, or on their paper."""
    return select(Exam.id).where(or_(
        Exam.created_by == user.id, Exam.id.in_(_staff_duty(user.id)),
        Exam.paper_id.in_(select(Paper.id).where(Paper.author_id == user.id))))


def items_clause(user: User, now: datetime) -> ColumnElement[bool]:
    """Items (with keys) this user may read: sharing scope, minus items on exams still running
    that are not theirs."""
    if is_district(user):
        return true()
    if not role_may(user.role, Cap.USE_BANK):
        return false()
    shared: list[ColumnElement[bool]] = [Item.share_scope == ShareScope.DISTRICT]
    if user.school_id is not None:
        shared.append(and_(Item.share_scope == ShareScope.SCHOOL,
                           Item.author_id.in_(_school_members(user.school_id))))
    locked = (select(ItemUsage.item_id).where(ItemUsage.exam_id.in_(_exams_not_closed(now)))
              .where(ItemUsage.exam_id.not_in(_exams_of(user))))
    return or_(Item.author_id == user.id, and_(or_(*shared), Item.id.not_in(locked)))


def may_read_item(session: Session, user: User, item: Item, now: datetime) -> bool:
    clause = items_clause(user, now)
    return session.scalar(select(exists().where(Item.id == item.id, clause))) or False


def may_edit_item(user: User, item: Item) -> bool:
    """Given that the user may read it: the author, or a reviewer (audited by the caller)."""
    return item.author_id == user.id or user.role in ITEM_REVIEWERS


def papers_clause(user: User, now: datetime) -> ColumnElement[bool]:
    """Papers this user may read: their own; papers of exams they run; other papers of their
    school once no exam that uses them is still open."""
    if is_district(user):
        return true()
    if not role_may(user.role, Cap.BUILD_PAPERS):
        return false()
    mine = or_(Paper.author_id == user.id, Paper.id.in_(select(Exam.paper_id).where(Exam.id.in_(_exams_of(user)))))
    if user.school_id is None:
        return mine
    running = select(Exam.paper_id).where(Exam.id.in_(_exams_not_closed(now)))
    school = and_(Paper.author_id.in_(_school_members(user.school_id)), Paper.id.not_in(running))
    return or_(mine, school)


def may_read_paper(session: Session, user: User, paper: Paper, now: datetime) -> bool:
    return session.scalar(select(exists().where(Paper.id == paper.id, papers_clause(user, now)))) or False


def may_read_media(session: Session, user: User, sha256: str, now: datetime) -> bool:
    """A stored picture is served to staff who may read some item that uses it; one that no item
    uses yet (just uploaded) to bank users, who can only name it by its content hash."""
    if is_district(user):
        return True
    if not role_may(user.role, Cap.USE_BANK):
        return False
    uses = Item.media.cast(Item.search_text.type).contains(sha256)
    if not session.scalar(select(exists().where(uses))):
        return True
    return session.scalar(select(exists().where(uses, items_clause(user, now)))) or False


# ---- printing (tickets, door lists, sign-in sheets, seat charts) -----------------------------

def may_print_exam(session: Session, user: User, exam: Exam) -> bool:
    """Print an exam's papers and read its print runs: the district, or exam-centre staff who
    created the exam or organise it."""
    if is_district(user):
        return True
    if not role_may(user.role, Cap.PRINT_EXAMS):
        return False
    return exam.created_by == user.id or _has_duty(session, exam, user, MANAGING_DUTIES)


def may_print_paper(session: Session, user: User, exam: Exam) -> bool:
    """Print an exam's paper (student copy) and its answer sheets: whoever manages the exam (the
    district, its creator, its organisers) and exam-centre staff who may print it. The teacher's
    copy, with keys, is for those who manage the exam only (:func:`may_manage_exam`)."""
    return may_manage_exam(session, user, exam) or may_print_exam(session, user, exam)


# ---- scanning (answer sheets in, exception queue) ---------------------------------------------

def may_scan_exam(session: Session, user: User, exam: Exam) -> bool:
    """Upload an exam's scanned answer sheets and resolve its exceptions: the district, the
    teacher or centre staff member who created the exam, and its organisers."""
    if is_district(user):
        return True
    if not role_may(user.role, Cap.SCAN_SHEETS):
        return False
    return exam.created_by == user.id or _has_duty(session, exam, user, MANAGING_DUTIES)


# ---- online marking (网上阅卷) -----------------------------------------------------------------
#
# Markers are the exam's staff with the marker duty; a unit with assignments narrows that to the
# markers assigned to it. The lead marker (the unit's, else whoever manages the exam) arbitrates and
# handles problem scripts. Whoever manages the exam sets units up and watches progress.

def is_exam_marker(session: Session, user: User, exam: Exam) -> bool:
    return role_may(user.role, Cap.MARK_ANSWERS) and _has_duty(session, exam, user, {ExamDuty.MARKER})


def may_see_marking(session: Session, user: User, exam: Exam) -> bool:
    """The exam's marking units and progress (markers: their own counts only)."""
    return may_manage_exam(session, user, exam) or is_exam_marker(session, user, exam)


def may_lead_marking(session: Session, user: User, exam: Exam, lead_marker_id: int | None) -> bool:
    """Arbitrate a unit's disagreements and problem scripts."""
    if lead_marker_id is not None and user.id == lead_marker_id:
        return role_may(user.role, Cap.MARK_ANSWERS)
    return may_manage_exam(session, user, exam)


# ---- exam centres (考务): sites, rooms and joint-exam logistics ---------------------------------
#
# Sites and rooms are district-wide places: every centre_staff member and admin manages them.
# A joint exam's logistics (sittings, rooms, forms, seats, admission numbers, attendance) are run by
# admins and by the centre staff who created the exam or are its organisers (exam_staff). Proctors
# assigned to the exam and teachers whose classes sit it may read (the latter only their part).

def centre_exams_clause(user: User) -> ColumnElement[bool]:
    """The exams a centre_staff member sees: created, or assigned to in any duty."""
    return or_(Exam.created_by == user.id, Exam.id.in_(_staff_duty(user.id)))


def may_run_joint_exam(session: Session, user: User, exam: Exam) -> bool:
    if is_district(user):
        return True
    if user.role != Role.CENTRE_STAFF:
        return False
    return exam.created_by == user.id or _has_duty(session, exam, user, MANAGING_DUTIES)


def may_read_joint_exam(session: Session, user: User, exam: Exam) -> bool:
    """Seat plans, candidates, the audit trail: those who run it and its proctors."""
    return may_run_joint_exam(session, user, exam) or (
        user.role == Role.CENTRE_STAFF and _has_duty(session, exam, user, None))


def may_read_joint_audit(session: Session, user: User, exam: Exam) -> bool:
    """The audit trail of a joint exam: whoever runs it, its creator and all of its staff."""
    return is_district(user) or exam.created_by == user.id or _has_duty(session, exam, user, None)


def teacher_candidates_clause(user: User) -> ColumnElement[bool]:
    """A teacher's part of a joint exam: candidates of the classes they may see."""
    return ExamCandidate.class_id.in_(select(SchoolClass.id).where(classes_clause(user)))


# ---- proctoring (智能监考) ------------------------------------------------------------------------
#
# A proctor watches the exams they are assigned to (exam_staff duty proctor), limited to their room
# when the assignment names one. Whoever runs the exam (creator, organisers, district admins, the
# managing centre staff) watches and reviews every room.

def may_run_proctoring(session: Session, user: User, exam: Exam) -> bool:
    """Change the exam's proctoring settings (weights, retention) and take final decisions."""
    return may_manage_exam(session, user, exam) or may_run_joint_exam(session, user, exam)


def proctor_rooms(session: Session, user: User, exam: Exam) -> frozenset[int | None] | None:
    """The exam rooms this user may watch: ``None`` means every room; an empty set means none."""
    if not role_may(user.role, Cap.PROCTOR_EXAMS) and not may_manage_exam(session, user, exam):
        return frozenset()
    if may_run_proctoring(session, user, exam):
        return None
    rooms = session.scalars(select(ExamStaff.exam_room_id).where(
        ExamStaff.exam_id == exam.id, ExamStaff.user_id == user.id, ExamStaff.duty == ExamDuty.PROCTOR)).all()
    if any(room is None for room in rooms):
        return None
    return frozenset(rooms)


def may_proctor_room(session: Session, user: User, exam: Exam, exam_room_id: int | None) -> bool:
    rooms = proctor_rooms(session, user, exam)
    return rooms is None or exam_room_id in rooms
