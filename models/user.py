"""Users (staff and students), class membership and refresh tokens. Schools, grades and classes
are in :mod:`models.org`."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("school_id", "student_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # "Sign out everywhere" and deactivation: tokens issued before this instant are dead.
    tokens_valid_after: Mapped[datetime | None]
    # Students: the number the school keeps (学号), unique within the school; imports match on it.
    student_number: Mapped[str | None] = mapped_column(String(40))
    gender: Mapped[str | None] = mapped_column(String(10))
    # Initial passwords (imports, resets) must be changed at first login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The enrolled photo (content hash in the media store): tickets and the identity check.
    photo_sha256: Mapped[str | None] = mapped_column(String(64))


class ClassMembership(Base):
    __tablename__ = "class_memberships"

    class_id: Mapped[int] = mapped_column(ForeignKey("school_classes.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class RefreshToken(Base):
    """One row per issued refresh token, so a token can be rotated and revoked."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # One family per login; rotation keeps it. A reused token revokes the whole family.
    family_id: Mapped[str] = mapped_column(String(64), index=True, default="", server_default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    logged_out: Mapped[bool] = mapped_column(default=False, server_default=false())
