"""Demo data: one school, a teacher, five students, a mixed paper and an exam open now."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import item_bank
from exam_server.clock import system_clock
from exam_server.db import create_db_engine, make_session_factory, session_scope
from exam_server.services import accounts, exams, org
from exam_server.settings import Settings
from item_bank import knowledge
from models import Exam, ExamDuty, Item, ItemStatus, Role, SchoolClass, ShareScope, User

PASSWORDS = {"admin": "admin-pass-1", "teacher": "teacher-pass-1", "student": "student-pass-1",
             "reviewer": "reviewer-pass-1", "proctor": "proctor-pass-1", "schooladmin": "schooladmin-pass-1"}
STUDENTS = [("student1", "张三 Zhang San"), ("student2", "李四 Li Si"), ("student3", "王五 Wang Wu"),
            ("student4", "赵六 Zhao Liu"), ("student5", "陈七 Chen Qi")]

DEMO_ITEMS: list[tuple[str, str, dict[str, Any], float]] = [
    ("single_choice", "函数 y = x² 的图像是什么？ (What is the graph of y = x²?)",
     {"options": [{"id": "A", "text": "直线 a line"}, {"id": "B", "text": "抛物线 a parabola"},
                  {"id": "C", "text": "圆 a circle"}, {"id": "D", "text": "双曲线 a hyperbola"}], "correct": "B"}, 3),
    ("multiple_choice", "下列哪些是质数？ (Which are prime numbers?)",
     {"options": [{"id": "A", "text": "2"}, {"id": "B", "text": "9"}, {"id": "C", "text": "11"},
                  {"id": "D", "text": "15"}], "correct": ["A", "C"], "partial_credit": "gaokao"}, 6),
    ("true_false", "水在标准大气压下 100°C 沸腾。 (Water boils at 100°C at standard pressure.)",
     {"correct": True}, 2),
    ("fill_blank", "中国的首都是 ____。 (The capital of China is ____.)",
     {"blanks": [{"answers": [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0}],
                  "case_sensitive": False}]}, 4),
    ("numeric", "计算 7 × 8 = ? (Compute 7 × 8.)",
     {"answers": [{"value": 56, "tolerance": 0, "fraction": 1.0}]}, 5),
    ("short_answer", "简述光合作用的意义。 (Briefly explain why photosynthesis matters.)",
     {"reference_answer": "把光能转化为化学能，释放氧气。", "max_chars": 2000}, 10),
]


BANK_TOPICS = [("数学", "代数", "一次方程"), ("数学", "代数", "二次函数"), ("数学", "几何", "三角形"),
               ("数学", "统计与概率", "概率")]


def _bank_items(topic: int, n: int) -> tuple[str, str, dict[str, Any], float, float]:
    """A small deterministic practice bank, so assembling a paper works in the demo."""
    a, b = 3 + (n * 7 + topic) % 17, 2 + (n * 5 + topic * 3) % 13
    if n % 3 == 0:
        return ("numeric", f"计算 {a} × {b} = ? (Compute {a} × {b}.)",
                {"answers": [{"value": a * b, "tolerance": 0}]}, 0.45 + 0.05 * (n % 5), 90)
    if n % 3 == 1:
        return ("true_false", f"{a} + {b} 大于 {a + b - 1 + n % 2 * 2}。 ({a} + {b} > {a + b - 1 + n % 2 * 2}.)",
                {"correct": n % 2 == 0}, 0.8 - 0.04 * (n % 4), 30)
    options = [{"id": letter, "text": str(a + b + delta)} for letter, delta in zip("ABCD", (-1, 0, 1, 2), strict=True)]
    return ("single_choice", f"{a} + {b} = ? ", {"options": options, "correct": "B"}, 0.6 + 0.05 * (n % 4), 60)


def _ensure_bank(session: Session, teacher: User) -> None:
    if session.scalars(select(Item).where(Item.status == ItemStatus.REVIEWED)).first():
        return
    now = system_clock()
    for topic, path in enumerate(BANK_TOPICS):
        point = knowledge.ensure_path(session, path)
        for n in range(10):
            item_type, stem, definition, difficulty, seconds = _bank_items(topic, n)
            item_bank.create_item(session, teacher.id, item_bank.ItemInput(
                item_type, stem, definition, status=ItemStatus.REVIEWED, difficulty_estimate=difficulty,
                time_seconds=seconds, knowledge_point_ids=[point.id], tags=["示范 demo"], source="demo",
                share_scope=ShareScope.DISTRICT), now)


def seed_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Seed once (re-running keeps existing data and opens a fresh exam if none is open)."""
    engine = create_db_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine, None)) as session:
            teacher = _ensure_people(session)
            _ensure_open_exam(session, teacher)
            _ensure_bank(session, teacher)
    finally:
        engine.dispose()
    logins = [(name, name, PASSWORDS[name]) for name in ("admin", "schooladmin", "teacher", "reviewer", "proctor")]
    return logins + [("student", name, PASSWORDS["student"]) for name, _ in STUDENTS]


def _ensure_people(session: Session) -> User:
    now = system_clock()
    existing = session.scalars(select(User).where(User.username == "teacher")).first()
    if existing is not None:
        return existing
    district = org.create_district(session, "示范区 Demo District", "DEMO")
    school = accounts.create_school(session, "示范中学 Demo Secondary School", "示范区 Demo District", "SF",
                                    district.id)
    grade = org.create_grade(session, school.id, "高一", None)
    klass = accounts.create_class(session, school.id, "高一(1)班 Grade 10 Class 1", grade.id)
    accounts.create_user(session, "admin", PASSWORDS["admin"], Role.ADMIN, "管理员 Admin", None, now)
    accounts.create_user(session, "schooladmin", PASSWORDS["schooladmin"], Role.SCHOOL_ADMIN,
                         "钱校管 Mr Qian (school admin)", school.id, now)
    teacher = accounts.create_user(session, "teacher", PASSWORDS["teacher"], Role.TEACHER, "王老师 Ms Wang",
                                   school.id, now)
    accounts.create_user(session, "reviewer", PASSWORDS["reviewer"], Role.REVIEWER, "李教研员 Mr Li (reviewer)",
                         school.id, now)
    accounts.create_user(session, "proctor", PASSWORDS["proctor"], Role.PROCTOR, "周监考 Ms Zhou (proctor)",
                         school.id, now)
    org.assign_teacher(session, klass, teacher.id, "数学")
    for username, name in STUDENTS:
        student = accounts.create_user(session, username, PASSWORDS["student"], Role.STUDENT, name, school.id, now)
        accounts.add_to_class(session, klass.id, student.id)
    return teacher


def _ensure_open_exam(session: Session, teacher: User) -> None:
    now = system_clock()
    if session.scalars(select(Exam).where(Exam.closes_at > now + timedelta(hours=1))).first():
        return
    items = [
        item_bank.create_item(session, teacher.id, item_bank.ItemInput(t, stem, definition), now)
        for t, stem, definition, _ in DEMO_ITEMS
    ]
    slots = [item_bank.SlotInput(item.id, points) for item, (*_, points) in zip(items, DEMO_ITEMS, strict=True)]
    paper = item_bank.create_paper(session, teacher.id, item_bank.PaperInput(
        "示范测验 Demo Quiz", [item_bank.SectionInput("客观题 Objective", slots[:5]),
                               item_bank.SectionInput("主观题 Written", slots[5:])]), now)
    klass = session.scalars(select(SchoolClass)).first()
    assert klass is not None
    exam = exams.schedule_exam(session, teacher, exams.ExamInput(
        "示范测验 Demo Quiz", paper.id, klass.id, now - timedelta(minutes=1), now + timedelta(days=7), 60), now)
    proctor = session.scalars(select(User).where(User.username == "proctor")).first()
    if proctor is not None:
        exams.assign_staff(session, exam, proctor.id, ExamDuty.PROCTOR)
