"""A person's rights over their data (GDPR Art. 15 and 17) and the retention
period for attendance details.

Export gathers everything stored about one participant. Erasure removes it:
the person, their enrolments, marks, tandem places, links and every mention
in the change history. Issued certificates either stay verifiable without a
name or go, as the organisation's setting says. Retention deletes the
attendance details of cohorts completed longer ago than the organisation's
period; issued certificates, the evidence, stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select

from app.extensions import db
from app.models import (
    AccessToken,
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    Change,
    Cohort,
    CohortState,
    Enrolment,
    NotTogether,
    Organisation,
    Participant,
    Session,
    Tandem,
    TandemMember,
    User,
)
from app.services import calendars, history, policy, tokens
from app.services.errors import DomainError, expect_version
from app.services.policy import Action, Actor
from curricula.messages import msg

PERSONAL_PURPOSES = tokens.HELD_BY["participant"]
ERASED = "[erased]"


class ErasureRefused(DomainError):
    code = "name_mismatch"


def export(actor: Actor, participant_id: int) -> tuple[Participant, dict[str, Any]]:
    """The person and everything Qualiplan stores about them, as plain JSON values."""
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.EXPORT_PERSON, person.organisation_id)
    return person, _export(person)


def _export(person: Participant) -> dict[str, Any]:
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "person": {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "department": person.department,
            "site": person.site,
            "manager_name": person.manager_name,
            "manager_email": person.manager_email,
            "organisation": person.organisation.name,
            "created_at": person.created_at.isoformat(),
        },
        "enrolments": [
            {
                "cohort": e.cohort.name,
                "status": e.status.value,
                "enrolled_at": e.enrolled_at.isoformat(),
                "withdrawn_at": e.withdrawn_at.isoformat() if e.withdrawn_at else None,
            }
            for e in person.enrolments
        ],
        "attendance": _attendance(person),
        "tandems": _tandems(person),
        "never_in_a_tandem_with": [
            other.name
            for other in db.session.scalars(
                select(Participant).where(Participant.id.in_(_not_together_ids(person)))
            )
        ],
        "links": [
            {
                "purpose": t.purpose.value,
                "created_at": t.created_at.isoformat(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in _tokens(person)
        ],
        "certificates": [
            {
                "serial": c.serial,
                "code": c.code,
                "state": c.state.value,
                "issued_on": c.issued_on.isoformat(),
                "name": c.name,
                "content": c.content,
                "revoked_reason": c.revoked_reason or None,
            }
            for c in db.session.scalars(
                select(Certificate).where(Certificate.participant_id == person.id)
            )
        ],
        "history": [
            {
                "at": c.at.isoformat(),
                "by": c.user.name if c.user else None,
                "action": f"{c.subject} {c.action}",
                "before": c.before,
                "after": c.after,
            }
            for c in _history(person)
        ],
    }


@dataclass(frozen=True)
class Erasure:
    certificates_kept: int
    certificates_deleted: int


def erase(actor: Actor, participant_id: int, typed_name: str) -> Erasure:
    """Removes the person and everything about them; `typed_name` must be
    their full name (spaces aside), as a check against erasing the wrong person."""
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.ERASE_PERSON, person.organisation_id)
    if " ".join(typed_name.split()) != person.name:
        raise ErasureRefused(msg("the name typed does not match; nobody was erased"))
    return _erase(person, actor.user)


def require_settings(actor: Actor, organisation_id: int) -> None:
    """Refuse who may not see or change the organisation's settings."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.PRIVACY_SETTINGS, organisation.id)


def change_settings(
    actor: Actor,
    organisation_id: int,
    *,
    retention_years: int | None,
    keep_certificates: bool,
    version: object,
) -> Organisation:
    """The organisation's retention period and what erasure does to certificates."""
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.PRIVACY_SETTINGS, organisation.id)
    expect_version(organisation, version)
    organisation.attendance_retention_years = retention_years
    organisation.keep_certificates_after_erasure = keep_certificates
    return organisation


def _erase(person: Participant, actor: User | None) -> Erasure:
    organisation = person.organisation
    names = {person.name, person.email}
    certificates = list(
        db.session.scalars(select(Certificate).where(Certificate.participant_id == person.id))
    )
    if organisation.keep_certificates_after_erasure:
        for certificate in certificates:
            certificate.name = ""
            certificate.participant_id = None
    else:
        for certificate in certificates:
            db.session.delete(certificate)
    records = select(AttendanceRecord.id).where(AttendanceRecord.participant_id == person.id)
    db.session.execute(delete(AttendanceChange).where(AttendanceChange.attendance_id.in_(records)))
    db.session.execute(
        delete(AttendanceRecord).where(AttendanceRecord.participant_id == person.id)
    )
    # Their tandem partners' calendars show the name: those feeds change now.
    calendars.names_changed(e.cohort_id for e in person.enrolments)
    db.session.execute(delete(TandemMember).where(TandemMember.participant_id == person.id))
    db.session.execute(
        delete(NotTogether).where(
            or_(NotTogether.first_id == person.id, NotTogether.second_id == person.id)
        )
    )
    db.session.execute(
        delete(AccessToken).where(
            AccessToken.subject_id == person.id, AccessToken.purpose.in_(PERSONAL_PURPOSES)
        )
    )
    for change in _history(person):
        db.session.delete(change)
    _scrub_mentions(person, names)
    db.session.execute(delete(Enrolment).where(Enrolment.participant_id == person.id))
    erased_id = person.id
    db.session.delete(person)
    db.session.flush()
    # Who erased someone, and when, stays on record; nothing about the person does.
    history.record(
        user=actor,
        organisation_id=organisation.id,
        subject="participant",
        subject_id=erased_id,
        action="erased",
    )
    kept = len(certificates) if organisation.keep_certificates_after_erasure else 0
    return Erasure(certificates_kept=kept, certificates_deleted=len(certificates) - kept)


@dataclass(frozen=True)
class Deleted:
    cohort: Cohort
    records: int


def apply_retention(today: date) -> list[Deleted]:
    """Deletes attendance details of completed cohorts past their organisation's
    retention period (the command's commit point keeps it). Running it again
    deletes nothing more."""
    done = []
    rows = db.session.execute(
        select(Cohort, Organisation.attendance_retention_years, func.max(Session.last_day))
        .join(Organisation, Organisation.id == Cohort.organisation_id)
        .join(Session, Session.cohort_id == Cohort.id)
        .where(
            Organisation.attendance_retention_years.is_not(None),
            Cohort.state == CohortState.COMPLETED,
            Cohort.attendance_deleted_at.is_(None),
        )
        .group_by(Cohort.id, Organisation.attendance_retention_years)
    ).all()
    for cohort, years, last_day in rows:
        if _years_later(last_day, years) > today:
            continue
        records = select(AttendanceRecord.id).where(AttendanceRecord.for_cohort_id == cohort.id)
        count = db.session.scalar(select(func.count()).select_from(records.subquery())) or 0
        db.session.execute(
            delete(AttendanceChange).where(AttendanceChange.attendance_id.in_(records))
        )
        db.session.execute(
            delete(AttendanceRecord).where(AttendanceRecord.for_cohort_id == cohort.id)
        )
        cohort.attendance_deleted_at = datetime.now(UTC)
        done.append(Deleted(cohort, count))
    db.session.flush()
    return done


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _attendance(person: Participant) -> list[dict[str, Any]]:
    records = db.session.scalars(
        select(AttendanceRecord)
        .where(AttendanceRecord.participant_id == person.id)
        .order_by(AttendanceRecord.id)
    ).all()
    changes: dict[int, list[AttendanceChange]] = {}
    for change in db.session.scalars(
        select(AttendanceChange)
        .where(AttendanceChange.attendance_id.in_([r.id for r in records]))
        .order_by(AttendanceChange.at)
    ):
        changes.setdefault(change.attendance_id, []).append(change)
    return [
        {
            "cohort": r.for_cohort.name,
            "session": r.session.element.title_en,
            "day": r.session.first_day.isoformat(),
            "mark": r.mark.value,
            "minutes_missed": r.minutes_missed,
            "changes": [
                {
                    "at": c.at.isoformat(),
                    "by": c.user.name if c.user else None,
                    "before": c.before_mark.value,
                    "after": c.after_mark.value,
                }
                for c in changes.get(r.id, [])
            ],
        }
        for r in records
    ]


def _tandems(person: Participant) -> list[dict[str, Any]]:
    tandems = db.session.scalars(
        select(Tandem)
        .join(TandemMember, TandemMember.tandem_id == Tandem.id)
        .where(TandemMember.participant_id == person.id)
        .order_by(Tandem.created_at)
    ).all()
    return [
        {
            "cohort": db.session.get(Cohort, t.cohort_id).name,  # type: ignore[union-attr]
            "state": t.state.value,
            "with": [p.name for p in t.people if p.id != person.id],
        }
        for t in tandems
    ]


def _not_together_ids(person: Participant) -> list[int]:
    rows = db.session.execute(
        select(NotTogether.first_id, NotTogether.second_id).where(
            or_(NotTogether.first_id == person.id, NotTogether.second_id == person.id)
        )
    ).all()
    return [second if first == person.id else first for first, second in rows]


def _tokens(person: Participant) -> list[AccessToken]:
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(
                AccessToken.subject_id == person.id,
                AccessToken.purpose.in_(PERSONAL_PURPOSES),
            )
            .order_by(AccessToken.created_at)
        )
    )


def _history(person: Participant) -> list[Change]:
    return list(
        db.session.scalars(
            select(Change)
            .where(
                Change.organisation_id == person.organisation_id,
                Change.subject.in_(["participant", "enrolment"]),
                Change.subject_id == person.id,
            )
            .order_by(Change.at)
        )
    )


def _scrub_mentions(person: Participant, names: set[str]) -> None:
    """Replaces the person's name and address in the history of their cohorts
    (a tandem confirmation lists everyone's names)."""
    cohorts = [e.cohort_id for e in person.enrolments]
    for change in db.session.scalars(select(Change).where(Change.cohort_id.in_(cohorts))):
        before, after = _replaced(change.before, names), _replaced(change.after, names)
        if before != change.before or after != change.after:
            change.before, change.after = before, after


def _replaced(value: Any, names: set[str]) -> Any:
    if isinstance(value, str):
        return ERASED if value in names else value
    if isinstance(value, list):
        return [_replaced(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _replaced(v, names) for k, v in value.items()}
    return value
