"""Issuing, finding and revoking secret links (only their hashes are kept)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import AccessToken, Purpose, User
from app.models.tokens import new_token, token_hash


def issue(purpose: Purpose, subject_id: int, organisation_id: int, actor: User | None) -> str:
    """A new token for `subject_id`; earlier ones of the same purpose stop working.
    The plain token is returned once and never stored."""
    revoke(purpose, subject_id)
    token = new_token()
    db.session.add(
        AccessToken(
            purpose=purpose,
            subject_id=subject_id,
            organisation_id=organisation_id,
            token_hash=token_hash(token),
            created_by_id=actor.id if actor is not None else None,
        )
    )
    return token


def revoke(purpose: Purpose, subject_id: int) -> bool:
    """End every active token of `purpose` for `subject_id`; True when one was active."""
    found = db.session.scalars(
        select(AccessToken).where(
            AccessToken.purpose == purpose,
            AccessToken.subject_id == subject_id,
            AccessToken.revoked_at.is_(None),
        )
    ).all()
    for token in found:
        token.revoked_at = datetime.now(UTC)
    return bool(found)


_TOKENS = AccessToken.__table__
_SUBJECT = select(_TOKENS.c.purpose, _TOKENS.c.subject_id).where(
    _TOKENS.c.token_hash == bindparam("hash"), _TOKENS.c.revoked_at.is_(None)
)


def resolve_subject(token: str, purposes: frozenset[Purpose]) -> tuple[Purpose, int] | None:
    """Purpose and subject of an active `token` serving one of `purposes`: the
    light lookup for feeds, which calendar clients fetch again and again."""
    if not token or len(token) > 100:
        return None
    row = db.session.connection().execute(_SUBJECT, {"hash": token_hash(token)}).first()
    if row is None or row.purpose not in purposes:
        return None
    return row.purpose, row.subject_id


def resolve(token: str, purposes: frozenset[Purpose]) -> AccessToken | None:
    """The active token record for `token` if it serves one of `purposes`."""
    if not token or len(token) > 100:
        return None
    record = db.session.scalar(
        select(AccessToken).where(AccessToken.token_hash == token_hash(token))
    )
    if record is None or not record.active or record.purpose not in purposes:
        return None
    return record


def current(purpose: Purpose, subject_id: int) -> AccessToken | None:
    return db.session.scalar(
        select(AccessToken)
        .where(
            AccessToken.purpose == purpose,
            AccessToken.subject_id == subject_id,
            AccessToken.revoked_at.is_(None),
        )
        .order_by(AccessToken.created_at.desc())
        .limit(1)
    )
