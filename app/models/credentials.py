"""Signed credentials: the organisations' signing keys, the credentials
issued with them, and each organisation's count of status list entries.

A private key is stored only encrypted (app.credentials.keys); its public
half stays published after a rotation, so that credentials signed with it
still verify. A credential keeps its place (its index) in the issuer's
status list for good: the bit there says whether it is still in force.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.certificates import Certificate
from app.models.organisations import Organisation
from app.schema import UTCDateTime, utcnow


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    """One Ed25519 key of an organisation; the one not retired signs."""

    __tablename__ = "credential_keys"
    __table_args__ = (
        # One current key per organisation, also when two requests make one at once.
        Index(
            "ix_credential_keys_current",
            "organisation_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The JOSE key id, published in the JWKS and named in each signature's header.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    # The public key as a JWK (kty OKP, crv Ed25519, x).
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The private key, AES-256-GCM encrypted: nonce and ciphertext.
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()


class CredentialRecord(db.Model):  # type: ignore[name-defined,misc]
    """One signed credential of a certificate (issue or re-issue)."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("organisation_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # None once the certificate was deleted (erasure without keeping certificates).
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL"), unique=True
    )
    key_id: Mapped[int] = mapped_column(ForeignKey("credential_keys.id"), index=True)
    # The credential's "id" (urn:uuid), shared by a certificate and its re-issues.
    credential_id: Mapped[str] = mapped_column(String(80), index=True)
    # The place of its bit in the issuer's revocation status list.
    status_index: Mapped[int]
    # The VC-JWT as issued; None after the person's erasure (it names them).
    jwt: Mapped[str | None] = mapped_column(Text)
    # The salt of the hashed e-mail address in the credential; None after erasure.
    subject_salt: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its status bit was set: revoked, superseded, or deleted with the person.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate | None] = relationship()
    key: Mapped[SigningKey] = relationship()


class StatusList(db.Model):  # type: ignore[name-defined,misc]
    """How many status list entries the organisation has given out."""

    __tablename__ = "credential_status_lists"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)
