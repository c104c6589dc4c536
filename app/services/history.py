"""Every change is kept: who, when, before, after."""

from __future__ import annotations

from typing import Any

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
