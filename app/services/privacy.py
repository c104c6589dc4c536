"""A person's rights over their data (GDPR Art. 15 and 17) and the retention
period for attendance details.

Export gathers everything stored about one participant (app.services.person_data).
Erasure removes it: the person, their enrolments, marks, tandem places,
links, the history of their record, and every mention of any name or
address they ever had in other records; on SQLite also from the database
files (app.services.database_files). Issued certificates either stay
verifiable without a name or go, as the organisation's setting says. Retention deletes the
attendance details of cohorts completed longer ago than the organisation's
period; issued certificates, the evidence, stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from app import credentials
from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    Change,
    ClosureDay,
    Cohort,
    CohortClosure,
    CohortState,
    Enrolment,
    Job,
    Notification,
    NotTogether,
    Organisation,
    Participant,
    Registration,
    Session,
    Tandem,
    TandemMember,
    User,
    participant_search,
)
from app.services import (
    calendars,
    database_files,
    history,
    notifications,
    person_data,
    policy,
    waiting_lists,
)
from app.services.errors import DomainError, expect_version
from app.services.policy import Action, Actor
from app.services.redaction import Redactor
from curricula.messages import msg


class ErasureRefused(DomainError):
    code = "name_mismatch"


def export(actor: Actor, participant_id: int) -> tuple[Participant, dict[str, Any]]:
    """The person and everything Qualiplan stores about them, as plain JSON values
    (what the export holds of other people: app.services.person_data)."""
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.EXPORT_PERSON, person.organisation_id)
    return person, person_data.gather(person)


@dataclass(frozen=True)
class Erasure:
    certificates_kept: int
    certificates_deleted: int
    # Other records that named the person and now say "[erased]" instead.
    mentions_replaced: int = 0


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
    # Every name and address the person ever had, found before the history
    # that holds the earlier ones goes.
    redactor = Redactor(person_data.identity(person).mentions)
    certificates = person_data.certificates_of(person)
    credentials.erased(certificates, kept=organisation.keep_certificates_after_erasure)
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
    for token in person_data.tokens_of(person):
        db.session.delete(token)
    for change in history.about(organisation.id, person_data.OWN_SUBJECTS, person.id):
        db.session.delete(change)
    # They leave every waiting list: an offer they held goes to the next in line.
    waiting_lists.leave_every_list(person)
    db.session.execute(delete(Registration).where(Registration.participant_id == person.id))
    db.session.execute(delete(Enrolment).where(Enrolment.participant_id == person.id))
    # The messages sent to them: addresses, names and dates are about them.
    notifications.forget_participant(person.id)
    erased_id = person.id
    db.session.delete(person)
    db.session.flush()
    participant_search.forget_erased(db.session.connection())
    mentions = _redact_mentions(organisation.id, redactor)
    # Who erased someone, and when, stays on record; nothing about the person does.
    history.record(
        user=actor,
        organisation_id=organisation.id,
        subject="participant",
        subject_id=erased_id,
        action="erased",
    )
    database_files.forget_after_commit()
    kept = len(certificates) if organisation.keep_certificates_after_erasure else 0
    return Erasure(
        certificates_kept=kept,
        certificates_deleted=len(certificates) - kept,
        mentions_replaced=mentions,
    )


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
    if done:
        database_files.forget_after_commit()
    return done


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# Text other records hold that can name a person, searched on every erasure
# (tests/integration/test_erasure_everywhere.py holds every text column of
# the schema either to this list or to its list of text that never names one).
MENTIONS = (
    Change.before,
    Change.after,
    Tandem.reasons,
    Certificate.name,
    Certificate.content,
    Certificate.revoked_reason,
    Participant.manager_name,
    Participant.manager_email,
    # A registration names the person's manager and the reasons given.
    Registration.manager_name,
    Registration.manager_email,
    Registration.manager_reason,
    Registration.decline_reason,
    Cohort.venue,
    Session.venue,
    CohortClosure.reason,
    ClosureDay.reason,
    # Messages to others that named the person (a digest, a change notice).
    Notification.payload,
    Notification.subject,
    # A job's step, its refusal or its result may name people (a tandem's
    # warning, an import's rows); a job's PDF holds certificates, so it goes.
    Job.message,
    Job.params,
    Job.result,
)


def _redact_mentions(organisation_id: int, redactor: Redactor) -> int:
    """Puts the marker where other records of the organisation name the
    person: the history (a tandem confirmation lists everyone, a colleague's
    record names their manager), certificates, venues and closure reasons.
    A colleague's manager fields that name the person are emptied, as if
    the manager were not known. Answers how many records changed."""
    changed = []
    for id_, before, after in db.session.execute(
        select(Change.id, Change.before, Change.after)
        .where(Change.organisation_id == organisation_id)
        .execution_options(yield_per=500)
    ):
        redacted = redactor.value(before), redactor.value(after)
        if redacted != (before, after):
            changed.append({"id": id_, "before": redacted[0], "after": redacted[1]})
    if changed:
        db.session.execute(update(Change), changed)
    count = len(changed)
    in_organisation = Cohort.organisation_id == organisation_id
    for tandem in db.session.scalars(select(Tandem).join(Cohort).where(in_organisation)):
        count += _redact(tandem, "reasons", redactor)
    for certificate in db.session.scalars(
        select(Certificate).where(Certificate.organisation_id == organisation_id)
    ):
        count += any([_redact(certificate, f, redactor) for f in _CERTIFICATE_TEXT])
    for colleague in db.session.scalars(
        select(Participant).where(Participant.organisation_id == organisation_id)
    ):
        if _manager_is(colleague, redactor):
            colleague.manager_name, colleague.manager_email = "", ""
            count += 1
    for cohort in db.session.scalars(select(Cohort).where(in_organisation)):
        count += _redact(cohort, "venue", redactor)
    for session in db.session.scalars(select(Session).join(Cohort).where(in_organisation)):
        count += _redact(session, "venue", redactor)
    for closure in db.session.scalars(select(CohortClosure).join(Cohort).where(in_organisation)):
        count += _redact(closure, "reason", redactor)
    for day in db.session.scalars(
        select(ClosureDay).where(ClosureDay.organisation_id == organisation_id)
    ):
        count += _redact(day, "reason", redactor)
    for message in db.session.scalars(
        select(Notification)
        .where(Notification.organisation_id == organisation_id)
        .execution_options(yield_per=500)
    ):
        count += any([_redact(message, f, redactor) for f in ("payload", "subject")])
    for job in db.session.scalars(select(Job).where(Job.organisation_id == organisation_id)):
        count += any([_redact(job, f, redactor) for f in ("message", "params", "result")])
    db.session.execute(
        update(Job)
        .where(Job.organisation_id == organisation_id, Job.file.is_not(None))
        .values(file=None, file_name=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return count


_CERTIFICATE_TEXT = ("name", "content", "revoked_reason")


def _manager_is(colleague: Participant, redactor: Redactor) -> bool:
    """The colleague's manager is the person: by address when one is given
    (a namesake with another address is someone else), else by name."""
    if colleague.manager_email.strip():
        return redactor.mentions(colleague.manager_email)
    return redactor.mentions(colleague.manager_name)


def _redact(record: object, field: str, redactor: Redactor) -> bool:
    value = getattr(record, field)
    if value is None:
        return False
    redacted = redactor.value(value)
    if redacted == value:
        return False
    setattr(record, field, redacted)
    return True
