"""API tokens: a user's keys to the JSON API, one per integration if needed.

Unlike the secret links, a new API token does not end the earlier ones: an
HR system and a reporting script each get their own and are revoked alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import AccessToken, Purpose, User
from app.models.tokens import new_token, token_hash
from app.services.errors import NotFound


def issue(user: User, organisation_id: int) -> str:
    """A new token for `user` in one of their organisations, returned once
    (another organisation is not found, as everywhere)."""
    if organisation_id not in user.organisation_ids:
        raise NotFound()
    token = new_token()
    db.session.add(
        AccessToken(
            purpose=Purpose.API,
            subject_id=user.id,
            organisation_id=organisation_id,
            token_hash=token_hash(token),
            created_by_id=user.id,
        )
    )
    db.session.flush()
    return token


def of_user(user: User) -> list[AccessToken]:
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(
                AccessToken.purpose == Purpose.API,
                AccessToken.subject_id == user.id,
                AccessToken.revoked_at.is_(None),
            )
            .order_by(AccessToken.created_at)
        )
    )


def revoke(user: User, token_id: int) -> AccessToken:
    """Ends one of the user's tokens; NotFound when it is not theirs or ended already."""
    record = db.session.get(AccessToken, token_id)
    if (
        record is None
        or record.purpose is not Purpose.API
        or record.subject_id != user.id
        or record.revoked_at is not None
    ):
        raise NotFound()
    record.revoked_at = datetime.now(UTC)
    return record
