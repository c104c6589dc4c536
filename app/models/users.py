"""Staff accounts: one role each, members of one or more organisations."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Column, Enum, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.organisations import Organisation
from app.schema import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    TRAINER = "trainer"
    CONSULTANT = "consultant"
    HR = "hr"


memberships = Table(
    "memberships",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def password_method() -> str:
    """scrypt (werkzeug's default cost): a slow, memory-hard KDF. Only the
    test configuration lowers the cost, where hundreds of accounts are made."""
    if has_app_context():
        return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    return "scrypt"


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(5), default="de")
    active: Mapped[bool] = mapped_column(default=True)
    # A trainer's dates by e-mail invitations, a feed or both; the weekly digest.
    calendar_choice: Mapped[str] = mapped_column(String(20), default="invitations")
    digest: Mapped[bool] = mapped_column(default=True)
    # Part of the login session: replacing it on logout ends every session of
    # the account, also a cookie someone copied.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A password reset link an admin sent: only its hash, until it expires or
    # is used (one at a time; a new one replaces it).
    reset_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reset_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=memberships, order_by=Organisation.name
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def organisation_ids(self) -> set[int]:
        return {o.id for o in self.organisations}
