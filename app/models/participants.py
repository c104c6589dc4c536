"""Participants (future companions) and their enrolments in cohorts."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models.cohorts import Cohort
from app.models.organisations import Organisation
from app.schema import UTCDateTime, utcnow


class Participant(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("organisation_id", "email"),
        UniqueConstraint("organisation_id", "employee_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    department: Mapped[str] = mapped_column(String(200), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    manager_name: Mapped[str] = mapped_column(String(200), default="")
    manager_email: Mapped[str] = mapped_column(String(254), default="")
    # The HR system's number of the person, when known: the key that finds
    # them again in the next import when their e-mail address has changed.
    # NULL when absent, so that the unique constraint holds only for numbers.
    employee_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    organisation: Mapped[Organisation] = relationship()
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="participant")

    @validates("employee_number")
    def _no_empty_number(self, _key: str, value: str | None) -> str | None:
        return value or None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_key(self) -> tuple[str, str, int]:
        """Alphabetical order as in a German phone book (DIN 5007-1): Öztürk
        next to Oswald, not after Zander."""
        return (_alphabetical(self.last_name), _alphabetical(self.first_name), self.id)


def _alphabetical(text: str) -> str:
    letters = unicodedata.normalize("NFKD", text)
    return "".join(c for c in letters if not unicodedata.combining(c)).casefold()


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"


class Enrolment(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(
        Enum(EnrolmentStatus, native_enum=False, length=20), default=EnrolmentStatus.ENROLLED
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship()
    participant: Mapped[Participant] = relationship(back_populates="enrolments")
