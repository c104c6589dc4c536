"""Cohorts and their dated sessions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, Enum, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.curricula import CurriculumElement, CurriculumVersion
from app.models.organisations import Organisation
from app.models.users import User
from app.schema import UTCDateTime, utcnow


class CohortState(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    def may_become(self, wanted: CohortState) -> bool:
        """Whether a planner may move a cohort from this state to `wanted`."""
        return wanted in ALLOWED_MOVES[self]


# The moves of planning: forward only. Reopening a completed cohort is not
# one of them (it is an administrator's correction, `Cohort.reopen`).
ALLOWED_MOVES: dict[CohortState, frozenset[CohortState]] = {
    CohortState.PLANNED: frozenset({CohortState.RUNNING, CohortState.CANCELLED}),
    CohortState.RUNNING: frozenset({CohortState.COMPLETED, CohortState.CANCELLED}),
    CohortState.COMPLETED: frozenset(),
    CohortState.CANCELLED: frozenset(),
}


class InvalidStateChange(Exception):
    def __init__(self, current: CohortState, wanted: CohortState) -> None:
        self.current = current
        self.wanted = wanted
        super().__init__(f"a {current} cohort cannot become {wanted}")


cohort_trainers = Table(
    "cohort_trainers",
    db.metadata,
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

session_trainers = Table(
    "session_trainers",
    db.metadata,
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Cohort(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("curriculum_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    delivery: Mapped[str | None] = mapped_column(String(20))
    venue: Mapped[str | None] = mapped_column(Text)
    online_link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    # Whether a full cohort takes people onto its waiting list
    # (app.services.waiting_lists).
    waiting_list: Mapped[bool] = mapped_column(default=True)
    # Open for employees' registrations until the closing date (or the start)
    # on the organisation's registration page (app.services.registrations).
    registration_open: Mapped[bool] = mapped_column(default=False)
    registration_closes_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[CohortState] = mapped_column(
        Enum(CohortState, native_enum=False, length=20), default=CohortState.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When anything a calendar shows changed (venue, link, name, state).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The seed of the last "shuffle" of the tandems, so a proposal can be made again.
    pairing_seed: Mapped[int | None]
    # When the retention period deleted the cohort's attendance details.
    attendance_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    organisation: Mapped[Organisation] = relationship()
    version: Mapped[CurriculumVersion] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=cohort_trainers, order_by=User.name)
    sessions: Mapped[list[Session]] = relationship(
        back_populates="cohort",
        order_by="(Session.first_day, Session.starts_at, Session.id)",
        cascade="all, delete-orphan",
    )
    closures: Mapped[list[CohortClosure]] = relationship(
        back_populates="cohort", order_by="CohortClosure.day", cascade="all, delete-orphan"
    )

    def change_state(self, wanted: CohortState) -> None:
        if not self.state.may_become(wanted):
            raise InvalidStateChange(self.state, wanted)
        self.state = wanted

    def start(self) -> None:
        self.change_state(CohortState.RUNNING)

    def complete(self) -> None:
        self.change_state(CohortState.COMPLETED)

    def cancel(self) -> None:
        self.change_state(CohortState.CANCELLED)

    def reopen(self) -> None:
        """A completed cohort runs again (to correct its attendance)."""
        if self.state is not CohortState.COMPLETED:
            raise InvalidStateChange(self.state, CohortState.RUNNING)
        self.state = CohortState.RUNNING

    def take_back_cancellation(self, previous: CohortState) -> None:
        """A cancellation undone at once: the cohort is as it was before."""
        if self.state is not CohortState.CANCELLED or not previous.may_become(self.state):
            raise InvalidStateChange(self.state, previous)
        self.state = previous


class CohortClosure(db.Model):  # type: ignore[name-defined,misc]
    """A closure day of this cohort only (a room not available, a trainer away)."""

    __tablename__ = "cohort_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    cohort: Mapped[Cohort] = relationship(back_populates="closures")


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def new_uid() -> str:
    return str(uuid.uuid4())


class Session(db.Model):  # type: ignore[name-defined,misc]
    """One dated session of a cohort. `uid` never changes (the iCalendar UID);
    `revision` goes up whenever its time or status changes (the SEQUENCE)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[int] = mapped_column(ForeignKey("curriculum_elements.id"), index=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=new_uid)
    all_day: Mapped[bool]
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_day: Mapped[date] = mapped_column(Date, index=True)
    last_day: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(20))
    pinned: Mapped[bool] = mapped_column(default=False)
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus, native_enum=False, length=20), default=SessionStatus.SCHEDULED
    )
    venue: Mapped[str | None] = mapped_column(Text)
    online_link: Mapped[str | None] = mapped_column(String(500))
    revision: Mapped[int] = mapped_column(default=0)
    # When the session last changed in any way a calendar shows (also its
    # trainers, which live in another table: services set it then).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    element: Mapped[CurriculumElement] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=session_trainers, order_by=User.name)

    @property
    def effective_venue(self) -> str | None:
        return self.venue or self.cohort.venue

    @property
    def effective_link(self) -> str | None:
        return self.online_link or self.cohort.online_link
