"""Secret links: a participant's personal page and private calendar feeds.

Only a hash of each token is stored. A token serves exactly one purpose and
one subject, and can be revoked on its own; the link it belongs to then
answers 404 at once. A token replaced by a newer one may keep working for a
while (app.services.tokens.REPLACED_KEEPS_WORKING): its revoked_at is then
the moment it stops, in the future.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.schema import UTCDateTime, utcnow


class Purpose(StrEnum):
    PERSONAL_PAGE = "personal_page"
    PARTICIPANT_FEED = "participant_feed"
    TRAINER_FEED = "trainer_feed"
    COHORT_FEED = "cohort_feed"
    API = "api"  # a user's key to the JSON API, for one organisation


def new_token() -> str:
    # 256 bits; Google's and Moodle's secret calendar addresses have fewer.
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens are long and random, so a fast hash is enough (no password KDF).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccessToken(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[Purpose] = mapped_column(Enum(Purpose, native_enum=False, length=30))
    # The participant, user or cohort the token is for.
    subject_id: Mapped[int] = mapped_column(index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        """Working now: never ended, or replaced and not yet at its end."""
        return self.revoked_at is None or self.revoked_at > utcnow()
