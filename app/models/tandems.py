"""Tandems of a cohort: proposals a trainer works on, and the confirmed ones
that enter the history every later pairing respects."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cohorts import Cohort
from app.models.participants import Participant
from app.models.users import User
from app.schema import UTCDateTime, utcnow


class TandemState(StrEnum):
    PROPOSED = "proposed"  # being worked on, seen by staff only
    CONFIRMED = "confirmed"  # the cohort's tandems, shown to participants
    ENDED = "ended"  # replaced by a later confirmation; stays in the history


class Tandem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tandems"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[TandemState] = mapped_column(
        Enum(TandemState, native_enum=False, length=20), default=TandemState.PROPOSED
    )
    locked: Mapped[bool] = mapped_column(default=False)
    score: Mapped[int] = mapped_column(default=0)
    # The core's reasons as [template, {name: value}] pairs, translated when shown.
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship()
    members: Mapped[list[TandemMember]] = relationship(
        back_populates="tandem", cascade="all, delete-orphan", order_by="TandemMember.id"
    )

    @property
    def people(self) -> list[Participant]:
        return [m.participant for m in self.members]


class TandemMember(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tandem_members"
    __table_args__ = (UniqueConstraint("tandem_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tandem_id: Mapped[int] = mapped_column(
        ForeignKey("tandems.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )

    tandem: Mapped[Tandem] = relationship(back_populates="members")
    participant: Mapped[Participant] = relationship()


class NotTogether(db.Model):  # type: ignore[name-defined,misc]
    """Two people of an organisation who must never form a tandem, in any cohort."""

    __tablename__ = "not_together"
    __table_args__ = (UniqueConstraint("first_id", "second_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Stored with first_id < second_id, so a pair exists once.
    first_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    first: Mapped[Participant] = relationship(foreign_keys=[first_id])
    second: Mapped[Participant] = relationship(foreign_keys=[second_id])
    created_by: Mapped[User | None] = relationship()
