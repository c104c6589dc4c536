"""The outbox: every e-mail Qualiplan sends, written in the transaction of
the change that causes it, and what became of it (the delivery log)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.schema import UTCDateTime, utcnow


class Delivery(StrEnum):
    QUEUED = "queued"  # waiting for its time, or for the mail server to answer again
    SENDING = "sending"  # a worker holds it (see Notification.claimed_until)
    SENT = "sent"  # the mail server took it
    FAILED = "failed"  # given up: the server's answer says why


class Notification(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One message to one address: the same key is never recorded twice, so
    # recording a change again, or two workers, cannot send it twice.
    # Also what matches many rows inserted at once to their generated ids
    # (insert_sentinel), so that SQLite too takes a change's messages in
    # one INSERT instead of one each; it changes no table.
    key: Mapped[str] = mapped_column(String(200), unique=True, insert_sentinel=True)
    # What it is (app.notices renders each kind) and what the renderer needs,
    # as it was when the change happened.
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8), default="de")
    address: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    # Whom it is for: a participant (erasing them erases their messages) or a user.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[Delivery] = mapped_column(
        Enum(Delivery, native_enum=False, length=20),
        default=Delivery.QUEUED,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not before then: a reminder's moment, or the next try after a failure.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The mail server's last answer when it did not take the message.
    answer: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_notifications_state_due_at", "state", "due_at"),
        # The delivery log of a cohort and of a person, newest first.
        Index("ix_notifications_cohort_log", "cohort_id", "created_at", "id"),
        Index("ix_notifications_participant_log", "participant_id", "created_at", "id"),
    )
