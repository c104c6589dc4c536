"""Long work that leaves the request: forming tandems for a large pool,
printing many certificates, importing a file of people. A job row is
written in the transaction of the request that asks for the work; the
worker claims it, reports its progress in short transactions of their own,
and stores what came out (a link, counts, or a file)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.extensions import db
from app.schema import UTCDateTime, utcnow


class JobState(StrEnum):
    QUEUED = "queued"  # recorded, waiting for a worker
    RUNNING = "running"  # a worker claimed it (see Job.progressed_at)
    DONE = "done"  # finished; `result` (and maybe `file`) hold what came out
    FAILED = "failed"  # given up: `message` says why, in the starter's language


class Job(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What addresses name: random, so one job's address tells nothing of others.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    # Who started it: only they (and admins of the organisation) see it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The language of the person who started it: its messages are in it.
    language: Mapped[str] = mapped_column(String(8), default="de")
    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False, length=20), default=JobState.QUEUED
    )
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # What the page says: the step under way, or why it failed.
    message: Mapped[str | None] = mapped_column(Text)
    # What the work needs (a cohort's version, the checked rows of a file…).
    params: Mapped[dict[str, Any]] = deferred(mapped_column(JSON, default=dict, nullable=False))
    # What came out: counts and the page to go on to.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A file that came out (a PDF of certificates), kept for a day.
    file: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last sign of life of the worker running it.
    progressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_jobs_state_created_at", "state", "created_at"),)
