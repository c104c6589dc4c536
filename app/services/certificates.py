"""Issuing, re-issuing and revoking certificates, and reading them back.

Issuing freezes what the certificate says (in German and English) into the
record, so it prints the same years later whatever happens to the
curriculum, the cohort or the person. Serial numbers count per organisation
and are taken with one UPDATE … RETURNING, which the database serialises.

Every door (the pages, the API, the personal page, seed data) issues,
re-issues and revokes through the functions below that take an `Actor`
first; they check the policy and the rules, raise a `DomainError` with a
stable code when they refuse, and leave the commit to the caller's commit
point. The codes:

- `not_found` (404): the cohort, person or certificate is not the actor's to see
- `forbidden` (403): the actor's role does not issue certificates
- `attendance_deleted`: the cohort's attendance was deleted (retention period)
- `not_enrolled`: the person is not on the cohort's list
- `already_issued`: the person holds a certificate in force for the cohort
- `not_eligible`: the person does not meet the certificate rule
- `already_revoked`: the certificate is revoked (re-issue, revoke)
- `superseded`: the certificate was replaced by a re-issued one (re-issue)
- `erased_person`: the person was erased; the certificate stays as evidence only (re-issue)
- `invalid_name` (422), `reason_required` (422): the form's value is not acceptable
- `stale`: someone else issued or re-issued at the same moment
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import credentials
from app.exports.certificate_pdf import PrintedCertificate, PrintedElement, missing_glyphs
from app.extensions import db
from app.i18n import Translator
from app.models import (
    Certificate,
    CertificateState,
    Cohort,
    Organisation,
    Participant,
    User,
)
from app.models.certificates import serial_label
from app.services import attendance, policy
from app.services.errors import DomainError, InvalidInput, NotFound, StaleEdit
from app.services.policy import Action, Actor
from app.services.text import one_line
from cohorts.eligibility import Attendance, Decision, credited_hours, decide
from curricula.messages import Message, msg
from curricula.model import DEFAULT_UNIT_MINUTES

# Crockford's base 32: no I, L, O or U, so nothing reads as something else.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CertificateRefused(DomainError):
    """The certificate cannot be issued, re-issued or revoked; says why."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The stored form of a code as someone typed it, or None if it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Entry:
    """One enrolled person on the cohort's certificate list."""

    participant: Participant
    decision: Decision
    certificate: Certificate | None  # the one in force


@dataclass(frozen=True)
class Standing:
    """The cohort's attendance read once: what the list shows and what
    issuing freezes come from the same reading."""

    board: attendance.Grid
    records: dict[int, dict[str, Attendance]]
    entries: list[Entry]


def standing(cohort: Cohort) -> Standing:
    board = attendance.grid(cohort)
    records = attendance.attendance_by_person(cohort, board)
    curriculum = cohort.version.model
    current = {c.participant_id: c for c in in_force(cohort)}
    entries = [
        Entry(p, decide(curriculum, records[p.id]), current.get(p.id)) for p in board.people
    ]
    return Standing(board, records, entries)


def cohort_list(cohort: Cohort) -> list[Entry]:
    return standing(cohort).entries


def in_force(cohort: Cohort) -> list[Certificate]:
    """The cohort's certificates in force of people still on record, in
    alphabetical order (the certificates of erased people stay verifiable but
    are not printed; those of people who left the cohort since still print)."""
    found = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.cohort_id == cohort.id,
            Certificate.participant_id.is_not(None),
            Certificate.in_force,
        )
        .options(selectinload(Certificate.participant))
    )
    return sorted(found, key=lambda c: c.participant.sort_key)


def history(cohort: Cohort) -> list[Certificate]:
    """Every certificate of the cohort, newest first, superseded and revoked ones too."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.cohort_id == cohort.id)
            .options(selectinload(Certificate.issued_by), selectinload(Certificate.revoked_by))
            .order_by(Certificate.serial.desc())
        )
    )


def all_of_participant(participant_id: int) -> list[Certificate]:
    """Every certificate the person was issued, for HR's "qualified, and when?"."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.participant_id == participant_id)
            .order_by(Certificate.issued_on, Certificate.serial)
        )
    )


def of_participant(participant_id: int) -> list[Certificate]:
    """The person's certificates in force, for their personal page."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.participant_id == participant_id,
                Certificate.in_force,
            )
            .order_by(Certificate.issued_on)
        )
    )


def find(code: str) -> Certificate | None:
    normal = normalise_code(code)
    if normal is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == normal))


# Reading, for the pages and the API.


@dataclass(frozen=True)
class CohortCertificates:
    """The cohort's certificate page: who is eligible, what was issued."""

    cohort: Cohort
    entries: list[Entry]
    history: list[Certificate]
    waiting: int  # eligible people without a certificate in force
    printable: int  # certificates in force of people still on record
    unprintable: dict[int, str]  # participant id -> letters the font lacks
    can_issue: bool


def cohort_certificates(actor: Actor, cohort_id: int) -> CohortCertificates:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PRINT_CERTIFICATES, cohort.organisation_id)
    entries = cohort_list(cohort)
    issued = history(cohort)
    return CohortCertificates(
        cohort=cohort,
        entries=entries,
        history=issued,
        waiting=0
        if cohort.attendance_deleted_at
        else sum(1 for e in entries if e.decision.eligible and e.certificate is None),
        printable=sum(1 for c in issued if c.state is CertificateState.VALID and c.participant_id),
        unprintable={
            e.participant.id: lacking
            for e in entries
            if (lacking := missing_glyphs(e.participant.name))
        },
        can_issue=policy.may(actor, Action.ISSUE_CERTIFICATES, cohort.organisation_id),
    )


def certificate_of(actor: Actor, certificate_id: int) -> Certificate:
    """One certificate of the actor's organisations, in whatever state."""
    certificate = policy.get(actor, Certificate, certificate_id)
    policy.require(actor, Action.PRINT_CERTIFICATES, certificate.organisation_id)
    return certificate


def may_issue(actor: Actor, certificate: Certificate) -> bool:
    return policy.may(actor, Action.ISSUE_CERTIFICATES, certificate.organisation_id)


def printable_certificate(actor: Actor, certificate_id: int) -> Certificate:
    """A certificate to print: only one in force of a person still on record
    (a superseded, revoked or erased one is not found)."""
    certificate = certificate_of(actor, certificate_id)
    if certificate.state is not CertificateState.VALID or certificate.erased:
        raise NotFound()
    return certificate


def personal_certificate(participant_id: int, certificate_id: int) -> Certificate:
    """The person's own certificate in force, for their personal page (whose
    link the caller has checked); anyone else's, or one out of force, is not
    found."""
    certificate = db.session.get(Certificate, certificate_id)
    if (
        certificate is None
        or certificate.participant_id != participant_id
        or certificate.state is not CertificateState.VALID
    ):
        raise NotFound()
    return certificate


def printable_of_cohort(actor: Actor, cohort_id: int) -> tuple[Cohort, list[Certificate]]:
    """The cohort and its certificates to print, in alphabetical order."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PRINT_CERTIFICATES, cohort.organisation_id)
    return cohort, in_force(cohort)


# The use cases: each checks the policy and the rules, and never commits.


def issue_certificate(actor: Actor, cohort_id: int, participant_id: int) -> Certificate:
    """A certificate for one eligible person of the cohort."""
    cohort = _cohort_to_certify(actor, cohort_id)
    participant = policy.get(actor, Participant, participant_id)
    if participant.organisation_id != cohort.organisation_id:
        raise NotFound()
    now = standing(cohort)
    entry = next((e for e in now.entries if e.participant.id == participant.id), None)
    name = participant.name
    if entry is None:
        raise CertificateRefused(
            msg("{name} is not enrolled in this cohort.", name=name), code="not_enrolled"
        )
    if entry.certificate is not None:
        raise CertificateRefused(
            msg("{name} has a certificate already; re-issue it to correct it.", name=name),
            code="already_issued",
        )
    if not entry.decision.eligible:
        raise CertificateRefused(
            msg("{name} does not meet the certificate rule.", name=name), code="not_eligible"
        )
    return _issue_many(cohort, [entry], now, actor.user)[0]


def issue_eligible(actor: Actor, cohort_id: int) -> list[Certificate]:
    """Certificates for everyone eligible who has none yet, in the list's order."""
    cohort = _cohort_to_certify(actor, cohort_id)
    now = standing(cohort)
    waiting = [e for e in now.entries if e.decision.eligible and e.certificate is None]
    return _issue_many(cohort, waiting, now, actor.user) if waiting else []


def reissue_certificate(actor: Actor, certificate_id: int, name: str) -> Certificate:
    """A new certificate with a corrected name; the old one is superseded."""
    old = _certificate_to_change(actor, certificate_id)
    name = " ".join(one_line(name, "name", msg("name as printed")).split())
    if old.revoked_at is not None:
        raise CertificateRefused(
            msg("Only a certificate in force can be re-issued."), code="already_revoked"
        )
    if old.superseded_at is not None:
        raise CertificateRefused(
            msg("Only a certificate in force can be re-issued."), code="superseded"
        )
    if old.erased:
        raise CertificateRefused(
            msg("Only a certificate in force can be re-issued."), code="erased_person"
        )
    if not name or len(name) > 200:
        raise InvalidInput(
            msg("The name must have 1 to 200 characters."), code="invalid_name", field="name"
        )
    # Out of force before the new one exists: one certificate in force per person.
    old.superseded_at = datetime.now(UTC)
    db.session.flush()
    new = _record(old.organisation, _take_serials(old.organisation_id, 1), actor.user)
    new.cohort_id, new.participant_id = old.cohort_id, old.participant_id
    new.name, new.content = name, dict(old.content)
    new.issued_on = _today(old.cohort)
    db.session.add(new)
    _flush_or_refuse(msg("Someone else changed this certificate just now; nothing was issued."))
    old.superseded_by = new
    db.session.flush()
    credentials.reissued(old, new)
    return new


def revoke_certificate(actor: Actor, certificate_id: int, reason: str) -> Certificate:
    """Out of force, with the reason for HR; the verification page says revoked."""
    certificate = _certificate_to_change(actor, certificate_id)
    reason = " ".join(reason.split())
    if certificate.revoked_at is not None:
        raise CertificateRefused(
            msg("This certificate is revoked already."), code="already_revoked"
        )
    if not reason or len(reason) > 500:
        raise InvalidInput(
            msg("Give a reason for the revocation (up to 500 characters)."),
            code="reason_required",
            field="reason",
        )
    certificate.revoked_at = datetime.now(UTC)
    certificate.revoked_reason = reason
    certificate.revoked_by = actor.user
    db.session.flush()
    credentials.revoked(certificate)
    return certificate


# For callers that hold a user rather than an actor (seed data, benchmarks,
# test factories): the same use cases, as that user or as the system.


def _cohort_to_certify(actor: Actor, cohort_id: int) -> Cohort:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.ISSUE_CERTIFICATES, cohort.organisation_id)
    if cohort.attendance_deleted_at is not None:
        raise CertificateRefused(
            msg("the attendance of this cohort was deleted after the retention period"),
            code="attendance_deleted",
        )
    return cohort


def _certificate_to_change(actor: Actor, certificate_id: int) -> Certificate:
    certificate = policy.get(actor, Certificate, certificate_id)
    policy.require(actor, Action.ISSUE_CERTIFICATES, certificate.organisation_id)
    # Read again under a row lock: of two people revoking or re-issuing at the
    # same moment, the second sees what the first did instead of overwriting it.
    db.session.refresh(certificate, with_for_update=True)
    return certificate


def printed(certificate: Certificate, language: str, verify_url: str) -> PrintedCertificate:
    """What the certificate page says in `language`, from the frozen record."""
    content = certificate.content
    elements = tuple(
        PrintedElement(
            title=e["title"][language],
            first_day=date.fromisoformat(e["first_day"]),
            last_day=date.fromisoformat(e["last_day"]),
            hours=e["hours"],
            units=e.get("units"),
        )
        for e in content["elements"]
    )
    period = (
        (min(e.first_day for e in elements), max(e.last_day for e in elements))
        if elements
        else None
    )
    version_label = Translator(language).gettext(
        "Curriculum: %(name)s, version %(number)d",
        name=content["curriculum"][language],
        number=content["version"],
    )
    return PrintedCertificate(
        name=certificate.name,
        serial=serial_label(certificate.serial),
        code=grouped(certificate.code),
        verify_url=verify_url,
        verify_text=verify_url.split("://", 1)[-1],
        issued_on=certificate.issued_on,
        programme=content["programme"][language],
        version_label=version_label,
        period=period,
        elements=elements,
        topics=tuple(t[language] for t in content["topics"]),
        teaching_hours=content["teaching_hours"],
        # Certificates issued before teaching units were frozen stated hours
        # and go on printing them.
        teaching_units=content.get("teaching_units"),
        unit_minutes=content.get("unit_minutes", DEFAULT_UNIT_MINUTES),
        issuer=content["issuer"],
        signatory=content["signatory"],
        signatory_role=content["signatory_role"],
    )


def _issue_many(
    cohort: Cohort, entries: list[Entry], now: Standing, actor: User | None
) -> list[Certificate]:
    frozen = _freeze(cohort, entries, now)
    first = _take_serials(cohort.organisation_id, len(entries))
    today = _today(cohort)
    issued = []
    for offset, entry in enumerate(entries):
        certificate = _record(cohort.organisation, first + offset, actor)
        certificate.cohort_id = cohort.id
        certificate.participant_id = entry.participant.id
        certificate.name = entry.participant.name
        certificate.content = frozen[entry.participant.id]
        certificate.issued_on = today
        issued.append(certificate)
    db.session.add_all(issued)
    _flush_or_refuse(
        msg("Someone else issued certificates for this cohort just now; nothing was issued.")
    )
    credentials.issued(cohort, issued)
    return issued


def _flush_or_refuse(message: Message) -> None:
    try:
        db.session.flush()
    except IntegrityError as error:
        # Someone else issued or re-issued in the same moment; the commit
        # point rolls the whole request back.
        raise StaleEdit(message) from error


def _take_serials(organisation_id: int, count: int) -> int:
    """The first of `count` new serial numbers of the organisation."""
    last = db.session.execute(
        update(Organisation)
        .where(Organisation.id == organisation_id)
        .values(last_certificate_serial=Organisation.last_certificate_serial + count)
        .returning(Organisation.last_certificate_serial)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(last) - count + 1


def _record(organisation: Organisation, serial: int, actor: User | None) -> Certificate:
    return Certificate(
        organisation_id=organisation.id, serial=serial, code=new_code(), issued_by=actor
    )


def _today(cohort: Cohort | None) -> date:
    zone = ZoneInfo(cohort.timezone if cohort else "Europe/Berlin")
    return datetime.now(zone).date()


def _freeze(cohort: Cohort, entries: list[Entry], now: Standing) -> dict[int, dict[str, Any]]:
    """What each certificate will say, in both languages."""
    version = cohort.version
    curriculum = version.model
    board, records = now.board, now.records
    organisation = cohort.organisation
    topics = [
        {"de": t.de, "en": t.en}
        for e in curriculum.elements
        if e.counts_for_certificate
        for t in e.topics
    ]
    frozen = {}
    for entry in entries:
        mine = records[entry.participant.id]
        elements = []
        for session in board.sessions:
            element = curriculum.element(session.element.key)
            record = mine[element.key]
            if element.key not in entry.decision.attended:
                continue
            day = record.made_up
            elements.append(
                {
                    "title": {"de": element.title.de, "en": element.title.en},
                    "first_day": (day or session.first_day).isoformat(),
                    "last_day": (day or session.last_day).isoformat(),
                    "hours": round(credited_hours(element, record), 2),
                    "units": curriculum.units(credited_hours(element, record)),
                    "made_up": day is not None,
                }
            )
        frozen[entry.participant.id] = {
            "programme": {"de": curriculum.title.de, "en": curriculum.title.en},
            "curriculum": {
                "de": version.curriculum.title("de"),
                "en": version.curriculum.title("en"),
            },
            "version": version.number,
            "cohort": cohort.name,
            "elements": elements,
            "topics": topics,
            "teaching_hours": entry.decision.teaching_hours,
            "teaching_units": curriculum.units(entry.decision.teaching_hours),
            "unit_minutes": curriculum.unit_minutes,
            "issuer": organisation.name,
            "signatory": organisation.signatory_name,
            "signatory_role": organisation.signatory_role,
        }
    return frozen
