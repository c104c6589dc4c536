"""Issued certificates: frozen records of what was printed, kept as evidence.

A certificate never changes after it is issued. A corrected name makes a new
record that supersedes the old one; a revocation keeps the record with its
reason. Only one certificate per person and cohort is in force at a time.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cohorts import Cohort
from app.models.organisations import Organisation
from app.models.participants import Participant
from app.models.users import User
from app.schema import UTCDateTime, utcnow


class CertificateState(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("organisation_id", "serial"),
        # One certificate in force per person and cohort, also when two
        # people issue at the same moment.
        Index(
            "ix_certificates_in_force",
            "cohort_id",
            "participant_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    serial: Mapped[int]
    # Verification code, normalised (no separators); printed on the certificate.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    # The name as printed, and everything else the certificate says (see
    # app.services.certificates.freeze for the shape).
    name: Mapped[str] = mapped_column(String(250))  # first and last name: 100 each
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    cohort: Mapped[Cohort | None] = relationship()
    participant: Mapped[Participant | None] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def erased(self) -> bool:
        """The person was erased; the certificate stays verifiable without a name."""
        return not self.name

    @hybrid_property
    def in_force(self) -> bool:
        """Neither revoked nor superseded by a corrected one; in a query the
        same as a condition, so every list and check reads it alike."""
        return self.revoked_at is None and self.superseded_at is None

    @in_force.inplace.expression
    @classmethod
    def _in_force_condition(cls) -> ColumnElement[bool]:
        return and_(cls.revoked_at.is_(None), cls.superseded_at.is_(None))

    @property
    def state(self) -> CertificateState:
        if self.revoked_at is not None:
            return CertificateState.REVOKED
        if self.superseded_at is not None:
            return CertificateState.SUPERSEDED
        return CertificateState.VALID


def serial_label(serial: int) -> str:
    """A serial number as printed: five digits."""
    return f"{serial:05d}"
