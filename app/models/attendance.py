"""Attendance: one mark per session and person, and every change of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cohorts import Cohort, Session
from app.models.participants import Participant
from app.models.users import User
from app.schema import UTCDateTime, utcnow
from cohorts.eligibility import Mark


class AttendanceRecord(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    # The cohort the attendance counts for: another one than the session's
    # when someone makes up an element in another cohort.
    for_cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    mark: Mapped[Mark] = mapped_column(
        Enum(Mark, native_enum=False, length=20), default=Mark.NOT_RECORDED
    )
    minutes_missed: Mapped[int] = mapped_column(default=0)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session: Mapped[Session] = relationship()
    participant: Mapped[Participant] = relationship()
    for_cohort: Mapped[Cohort] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class AttendanceChange(db.Model):  # type: ignore[name-defined,misc]
    """Who changed a mark, when, from what to what: kept for every write, so
    two trainers saving the same cell at once both stay on record."""

    __tablename__ = "attendance_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendance.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    before_mark: Mapped[Mark] = mapped_column(Enum(Mark, native_enum=False, length=20))
    before_minutes: Mapped[int] = mapped_column(default=0)
    after_mark: Mapped[Mark] = mapped_column(Enum(Mark, native_enum=False, length=20))
    after_minutes: Mapped[int] = mapped_column(default=0)

    attendance: Mapped[AttendanceRecord] = relationship()
    user: Mapped[User | None] = relationship()
