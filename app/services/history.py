"""Every change is kept: who, when, before, after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Change, User


def record(
    *,
    user: User | None,
    organisation_id: int,
    subject: str,
    subject_id: int,
    action: str,
    cohort_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Change:
    change = Change(
        user=user,
        organisation_id=organisation_id,
        cohort_id=cohort_id,
        subject=subject,
        subject_id=subject_id,
        action=action,
        before=before,
        after=after,
    )
    db.session.add(change)
    return change


def about(organisation_id: int, subjects: tuple[str, ...], subject_id: int) -> list[Change]:
    """The organisation's changes of one subject (a person's record and their
    enrolments share the person's id as subject id), oldest first."""
    return list(
        db.session.scalars(
            select(Change)
            .where(
                Change.organisation_id == organisation_id,
                Change.subject.in_(subjects),
                Change.subject_id == subject_id,
            )
            .order_by(Change.at, Change.id)
        )
    )
