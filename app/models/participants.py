"""Participants (future companions) and their enrolments in cohorts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app import folding
from app.extensions import db
from app.models import participant_search
from app.models.cohorts import Cohort
from app.models.organisations import Organisation
from app.schema import UTCDateTime, utcnow

# The fields the search looks in; a change to one of them renews the search
# text and the sort keys.
SEARCHED = ("first_name", "last_name", "email", "department", "site", "employee_number")
# Folding can lengthen a name (ß as ss); bytewise order on PostgreSQL too.
KEY = String(400).with_variant(String(400, collation="C"), "postgresql")


class CalendarChoice(StrEnum):
    """How a person gets their dates: e-mail invitations that their calendar
    keeps up to date, a feed they subscribe to, or both
    (docs/calendar-invitations.md says what each means in which client)."""

    INVITATIONS = "invitations"
    FEED = "feed"
    BOTH = "both"


class Participant(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("organisation_id", "email"),
        UniqueConstraint("organisation_id", "employee_number"),
        # The list's order, walked a page at a time.
        Index("ix_participants_name_order", "last_name_key", "first_name_key", "id"),
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
    # The language of the messages they get; their dates by e-mail
    # invitations, by a subscribed feed, or both (see CalendarChoice); and
    # whether they want reminders (changes are always sent).
    language: Mapped[str] = mapped_column(String(5), default="de")
    calendar_choice: Mapped[str] = mapped_column(String(20), default="invitations")
    reminders: Mapped[bool] = mapped_column(default=True)
    # Kept by the model whenever a field above changes (see `_derive`), and
    # made from the row by an INSERT without the model (a bulk load): what
    # the search looks in (app.folding.search_text; indexed for substrings by
    # app.models.participant_search) and the alphabetical order, compared
    # byte by byte on every database so that SQLite and PostgreSQL agree.
    search_text: Mapped[str] = mapped_column(Text, default=lambda c: _derive_on_insert(c)[0])
    last_name_key: Mapped[str] = mapped_column(KEY, default=lambda c: _derive_on_insert(c)[1])
    first_name_key: Mapped[str] = mapped_column(KEY, default=lambda c: _derive_on_insert(c)[2])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    organisation: Mapped[Organisation] = relationship()
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="participant")

    @validates(*SEARCHED)
    def _derive(self, key: str, value: str | None) -> str | None:
        if key == "employee_number":
            value = value or None  # NULL when absent (the unique constraint)
        fields = {name: getattr(self, name) for name in SEARCHED if name != key}
        for name, text in derived(fields | {key: value}).items():
            setattr(self, name, text)
        return value

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_key(self) -> tuple[str, str, int]:
        """Alphabetical order as in a German phone book (DIN 5007-1): Öztürk
        next to Oswald, not after Zander."""
        return (folding.fold(self.last_name), folding.fold(self.first_name), self.id)


def derived(values: dict[str, Any]) -> dict[str, str]:
    """The search text and sort keys of a person with these fields (for rows
    written without the model, such as the import's one INSERT)."""
    return {
        "search_text": folding.search_text(values.get(name) for name in SEARCHED),
        "last_name_key": folding.fold(values.get("last_name") or ""),
        "first_name_key": folding.fold(values.get("first_name") or ""),
    }


def _derive_on_insert(context: Any) -> tuple[str, str, str]:
    values = derived(context.get_current_parameters())
    return values["search_text"], values["last_name_key"], values["first_name_key"]


participant_search.follow(Participant.__table__)


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
