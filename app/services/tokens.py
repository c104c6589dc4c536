"""Issuing, finding and revoking secret links (only their hashes are kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import AccessToken, Purpose, User
from app.models.tokens import new_token, token_hash

# Every kind of secret link a person or record can hold. Ending someone's
# access ends all of these at once, so a link kind added later must be
# listed here to be ended with the others.
HELD_BY: dict[str, tuple[Purpose, ...]] = {
    "participant": (Purpose.PERSONAL_PAGE, Purpose.PARTICIPANT_FEED),
    "user": (Purpose.TRAINER_FEED, Purpose.API),
    "cohort": (Purpose.COHORT_FEED,),
}

# How long a link replaced by a newer one keeps working; kinds not named
# here end when replaced. HR replaces a personal link by sending a new one:
# the message may wait in the queue or in a spam folder, or the person may
# be away for a holiday, so the link they have keeps working for two weeks
# beside the new one. Ending access on purpose (`revoke`, `revoke_all`,
# erasure) ends every link at once, replaced ones too.
REPLACED_KEEPS_WORKING: dict[Purpose, timedelta] = {Purpose.PERSONAL_PAGE: timedelta(days=14)}


def issue(
    purpose: Purpose,
    subject_id: int,
    organisation_id: int,
    actor: User | None,
    *,
    token: str | None = None,
) -> str:
    """A new token for `subject_id`; earlier ones of the same purpose stop
    working, at once or after REPLACED_KEEPS_WORKING. The plain token is
    returned once and never stored. `token` is one made beforehand with
    `new_token` (a link that was e-mailed before it is kept)."""
    _replace(purpose, subject_id)
    token = token or new_token()
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


def _replace(purpose: Purpose, subject_id: int) -> None:
    keeps = REPLACED_KEEPS_WORKING.get(purpose)
    if keeps is None:
        revoke(purpose, subject_id)
        return
    # Its revoked_at is the moment it stops working; one replaced earlier
    # keeps the end it has.
    until = datetime.now(UTC) + keeps
    for record in db.session.scalars(
        select(AccessToken).where(
            AccessToken.purpose == purpose,
            AccessToken.subject_id == subject_id,
            AccessToken.revoked_at.is_(None),
        )
    ):
        record.revoked_at = until


def replaced(purpose: Purpose, subject_id: int) -> AccessToken | None:
    """The newest replaced token that still works (see REPLACED_KEEPS_WORKING)."""
    return db.session.scalar(
        select(AccessToken)
        .where(
            AccessToken.purpose == purpose,
            AccessToken.subject_id == subject_id,
            AccessToken.revoked_at > datetime.now(UTC),
        )
        .order_by(AccessToken.revoked_at.desc())
        .limit(1)
    )


def revoke(purpose: Purpose, subject_id: int) -> bool:
    """End every active token of `purpose` for `subject_id`; True when one was active."""
    return bool(_end((purpose,), subject_id))


def revoke_all(subject: str, subject_id: int) -> list[Purpose]:
    """End every active token `subject_id` holds as a `subject` (a key of
    HELD_BY): for a participant their personal page and their calendar feed.
    The purposes that had an active token, in HELD_BY's order."""
    ended = _end(HELD_BY[subject], subject_id)
    return [p for p in HELD_BY[subject] if p in ended]


def _end(purposes: tuple[Purpose, ...], subject_id: int) -> set[Purpose]:
    """Ends the working tokens: active ones and replaced ones still working."""
    now = datetime.now(UTC)
    found = db.session.scalars(
        select(AccessToken).where(
            AccessToken.purpose.in_(purposes),
            AccessToken.subject_id == subject_id,
            or_(AccessToken.revoked_at.is_(None), AccessToken.revoked_at > now),
        )
    ).all()
    for record in found:
        record.revoked_at = now
    return {record.purpose for record in found}


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
