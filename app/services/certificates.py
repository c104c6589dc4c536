"""Issuing, re-issuing and revoking certificates, and reading them back.

Issuing freezes what the certificate says (in German and English) into the
record, so it prints the same years later whatever happens to the
curriculum, the cohort or the person. Serial numbers count per organisation
and are taken with one UPDATE … RETURNING, which the database serialises.
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

from app.exports.certificate_pdf import PrintedCertificate, PrintedElement
from app.extensions import db
from app.i18n import Translator
from app.models import (
    Certificate,
    Cohort,
    Organisation,
    Participant,
    User,
)
from app.services import attendance
from cohorts.eligibility import Attendance, Decision, credited_hours, decide
from curricula.messages import Message, MessageError, msg

# Crockford's base 32: no I, L, O or U, so nothing reads as something else.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CertificateRefused(MessageError):
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


def serial_label(serial: int) -> str:
    return f"{serial:05d}"


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
            Certificate.superseded_at.is_(None),
            Certificate.revoked_at.is_(None),
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
                Certificate.superseded_at.is_(None),
                Certificate.revoked_at.is_(None),
            )
            .order_by(Certificate.issued_on)
        )
    )


def find(code: str) -> Certificate | None:
    normal = normalise_code(code)
    if normal is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == normal))


def issue(cohort: Cohort, participant: Participant, actor: User | None) -> Certificate:
    """A certificate for one eligible person of the cohort."""
    _refuse_without_attendance(cohort)
    now = standing(cohort)
    entry = next((e for e in now.entries if e.participant.id == participant.id), None)
    name = participant.name
    if entry is None:
        raise CertificateRefused(msg("{name} is not enrolled in this cohort.", name=name))
    if entry.certificate is not None:
        raise CertificateRefused(
            msg("{name} has a certificate already; re-issue it to correct it.", name=name)
        )
    if not entry.decision.eligible:
        raise CertificateRefused(msg("{name} does not meet the certificate rule.", name=name))
    return _issue_many(cohort, [entry], now, actor)[0]


def issue_all(cohort: Cohort, actor: User | None) -> list[Certificate]:
    """Certificates for everyone eligible who has none yet, in the list's order."""
    _refuse_without_attendance(cohort)
    now = standing(cohort)
    waiting = [e for e in now.entries if e.decision.eligible and e.certificate is None]
    return _issue_many(cohort, waiting, now, actor) if waiting else []


def reissue(old: Certificate, name: str, actor: User | None) -> Certificate:
    """A new certificate with a corrected name; the old one is superseded."""
    name = " ".join(name.split())
    if old.revoked_at is not None or old.superseded_at is not None or old.erased:
        raise CertificateRefused(msg("Only a certificate in force can be re-issued."))
    if not name or len(name) > 200:
        raise CertificateRefused(msg("The name must have 1 to 200 characters."))
    # Out of force before the new one exists: one certificate in force per person.
    old.superseded_at = datetime.now(UTC)
    db.session.flush()
    new = _record(old.organisation, _take_serials(old.organisation_id, 1), actor)
    new.cohort_id, new.participant_id = old.cohort_id, old.participant_id
    new.name, new.content = name, dict(old.content)
    new.issued_on = _today(old.cohort)
    db.session.add(new)
    _flush_or_refuse(msg("Someone else changed this certificate just now; nothing was issued."))
    old.superseded_by = new
    db.session.flush()
    return new


def revoke(certificate: Certificate, reason: str, actor: User | None) -> None:
    reason = " ".join(reason.split())
    if certificate.revoked_at is not None:
        raise CertificateRefused(msg("This certificate is revoked already."))
    if not reason or len(reason) > 500:
        raise CertificateRefused(msg("Give a reason for the revocation (up to 500 characters)."))
    certificate.revoked_at = datetime.now(UTC)
    certificate.revoked_reason = reason
    certificate.revoked_by = actor
    db.session.flush()


def printed(certificate: Certificate, language: str, verify_url: str) -> PrintedCertificate:
    """What the certificate page says in `language`, from the frozen record."""
    content = certificate.content
    elements = tuple(
        PrintedElement(
            title=e["title"][language],
            first_day=date.fromisoformat(e["first_day"]),
            last_day=date.fromisoformat(e["last_day"]),
            hours=e["hours"],
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
    return issued


def _refuse_without_attendance(cohort: Cohort) -> None:
    if cohort.attendance_deleted_at is not None:
        raise CertificateRefused(
            msg("the attendance of this cohort was deleted after the retention period")
        )


def _flush_or_refuse(message: Message) -> None:
    try:
        db.session.flush()
    except IntegrityError as error:
        # Someone else issued or re-issued in the same moment.
        db.session.rollback()
        raise CertificateRefused(message) from error


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
            "issuer": organisation.name,
            "signatory": organisation.signatory_name,
            "signatory_role": organisation.signatory_role,
        }
    return frozen
