"""Organisations (client companies) and their closure days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.schema import UTCDateTime, utcnow


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    default_region: Mapped[str] = mapped_column(String(20), default="DE-BW")
    default_timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What certificates print: who signs them, and the letterhead logo (PNG).
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_role: Mapped[str] = mapped_column(String(200), default="")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Data protection: after how many years the attendance details of a
    # completed cohort are deleted (None: kept), and whether a person's
    # certificates stay verifiable, without their name, after erasure.
    attendance_retention_years: Mapped[int | None]
    keep_certificates_after_erasure: Mapped[bool] = mapped_column(default=True)
    # Notifications: the sender (and calendar ORGANIZER) of its messages,
    # MAIL_FROM when empty; reminders this many days before each session;
    # reminders when a self-study phase starts and shortly before it ends.
    mail_from: Mapped[str] = mapped_column(String(320), default="")
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [7, 1])
    study_reminders: Mapped[bool] = mapped_column(default=True)
    # Waiting lists: a place that frees is offered to the first in line for
    # `offer_days` days ("offer"), or given to them at once ("move_up").
    waiting_list_mode: Mapped[str] = mapped_column(String(20), default="offer")
    offer_days: Mapped[int] = mapped_column(default=3)
    # Registration (app.services.registrations): whether the employee's
    # manager confirms before HR decides, and the hash of the secret part of
    # the organisation's registration address (NULL: no address).
    manager_step: Mapped[bool] = mapped_column(default=True)
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Make-ups (app.services.make_ups): whether people of the other
    # organisations its consultants serve may make up elements in its
    # cohorts' sessions, and its people in theirs (both must allow it).
    share_make_ups: Mapped[bool] = mapped_column(default=False)
    # The last serial number given to a certificate of this organisation.
    last_certificate_serial: Mapped[int] = mapped_column(default=0)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    closure_days: Mapped[list[ClosureDay]] = relationship(
        back_populates="organisation", order_by="ClosureDay.day", cascade="all, delete-orphan"
    )


class ClosureDay(db.Model):  # type: ignore[name-defined,misc]
    """A day the whole organisation is closed (company holidays, works meeting)."""

    __tablename__ = "closure_days"
    __table_args__ = (UniqueConstraint("organisation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="closure_days")
