"""The organisation tree: district -> school -> grade -> class, and which teacher teaches which
class what. Exam sites (考点) and their rooms (考场) are physical places reused across exams."""

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    district: Mapped[str | None] = mapped_column(String(200))  # free text, kept from before districts
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    # The school code (学校代码) used in admission numbers and exports.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)


class Grade(Base):
    """A year group in one school (高一, Grade 10), optionally with its entry year (届)."""

    __tablename__ = "grades"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    entry_year: Mapped[int | None] = mapped_column(Integer)


class SchoolClass(Base):
    __tablename__ = "school_classes"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("grades.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class TeacherAssignment(Base):
    """A teacher teaches a subject to a class (a teacher sees the classes they teach)."""

    __tablename__ = "teacher_assignments"

    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_classes.id"), primary_key=True, index=True)
    subject: Mapped[str] = mapped_column(String(50), primary_key=True)


class Site(Base):
    """An exam site (考点): usually a school, sometimes a hall; has rooms."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))


class Room(Base):
    """An exam room (考场) with a seat grid: ``rows`` x ``cols`` places, ``capacity`` of them used.

    Seat numbers are 1-based and row-major from the front: seat ``n`` is in row ``(n-1) // cols``
    and column ``(n-1) % cols``; seats are used in that order, so capacity <= rows x cols. Two
    seats are adjacent when they share a row and neighbouring columns, or a column and
    neighbouring rows (what a candidate can see)."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    cols: Mapped[int] = mapped_column(Integer)
