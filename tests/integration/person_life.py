"""A participant's whole life in Qualiplan, under two names and a third one
printed on a corrected certificate: every kind of record that can hold
something about a person, written by the services the doors use.

The erasure and export tests start from here; the names are distinctive so
that a scan of the database's bytes finds nothing else by chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import CurriculumRecord, Organisation, Purpose, Role
from app.services import (
    calendars,
    certificates,
    enrolments,
    participants,
    personal_links,
    tandems,
    tokens,
    waiting_lists,
)
from app.services.accounts import create_user
from app.services.attendance import grid, set_mark
from app.services.cohorts import NewCohort, create_cohort
from app.services.policy import Actor
from cohorts.eligibility import Mark

PASSWORD = "correct horse battery staple"  # noqa: S105 -- test accounts only

FIRST = "Zephyrine"
OLD_LAST = "Quellmalz-Ødegård"
OLD_EMAIL = "zephyrine.quellmalz@example.org"
NEW_LAST = "Brightwater"
NEW_EMAIL = "z.brightwater@example.org"
# The name a re-issued certificate printed, with the Danish letter spelt out.
PRINTED = "Zephyrine Quellmalz-Odegaard"
OLD_NAME = f"{FIRST} {OLD_LAST}"
NEW_NAME = f"{FIRST} {NEW_LAST}"

# Everything that names her, in any of her names; none of it may survive erasure.
TRACES = (FIRST, OLD_LAST, NEW_LAST, "Quellmalz", "Odegaard", OLD_EMAIL, NEW_EMAIL)

STAFF_EMAILS = ("admin@example.org", "hr@example.org", "trainer@example.org")
MANAGER_EMAIL = "mara.manager@example.org"


@dataclass(frozen=True)
class Life:
    organisation: int
    person: int
    partner: int
    reporting: int  # the colleague whose manager she is
    apart: int  # the colleague she must never be paired with
    cohort: int
    second_cohort: int
    certificate_code: str
    page_token: str


def person_fields(first: str, last: str, email: str, **extra: str) -> dict[str, str]:
    fields = {
        "first_name": first,
        "last_name": last,
        "email": email,
        "department": "Einkauf",
        "site": "Stuttgart",
        "manager_name": "",
        "manager_email": "",
    }
    return {**fields, **extra}


def staff(organisation: Organisation) -> None:
    create_user(STAFF_EMAILS[0], "Ada Admin", Role.ADMIN, PASSWORD, [organisation])
    create_user(STAFF_EMAILS[1], "Hanna HR", Role.HR, PASSWORD, [organisation])
    create_user(STAFF_EMAILS[2], "Tim Trainer", Role.TRAINER, PASSWORD, [organisation])


def before_the_rename(actor: Actor, *, keep_certificates: bool = True) -> Life:
    """Her first name's records: created, enrolled, paired, kept apart from
    someone, marked, certified (the certificate corrected, revoked with a
    reason that names her, issued again), a personal page and a feed."""
    organisation = Organisation(name="Quellwerk GmbH", default_region="DE-BW")
    organisation.keep_certificates_after_erasure = keep_certificates
    db.session.add(organisation)
    db.session.flush()
    staff(organisation)
    cohort = _cohort(organisation, "compact", "Frühjahr", date(2027, 3, 1))
    second = _cohort(organisation, "blended", "Herbst", date(2027, 9, 6))
    db.session.flush()

    person = participants.add(
        actor,
        organisation.id,
        person_fields(
            FIRST,
            OLD_LAST,
            OLD_EMAIL,
            manager_name="Mara Manager",
            manager_email=MANAGER_EMAIL,
        ),
    )
    partner = participants.add(
        actor,
        organisation.id,
        person_fields("Bruno", "Bauer", "bruno.bauer@example.org", department="Vertrieb"),
    )
    reporting = participants.add(
        actor,
        organisation.id,
        person_fields(
            "Carla",
            "Conti",
            "carla.conti@example.org",
            department="Lager",
            manager_name=OLD_NAME,
            manager_email=OLD_EMAIL,
        ),
    )
    apart = participants.add(
        actor,
        organisation.id,
        person_fields("Dario", "Duarte", "dario.duarte@example.org", department="IT"),
    )
    # Carla's manager is in the cohort too: asked about, and enrolled all the same.
    for someone in (person, partner, reporting, apart):
        enrolments.enrol_participant(actor, cohort.id, someone.id, acknowledge=True)
    tandems.keep_apart(actor, cohort.id, person.id, apart.id)
    tandems.keep_apart(actor, cohort.id, person.id, reporting.id)
    db.session.flush()
    tandems.propose(cohort, actor.user, expected_version=cohort.lock_version)
    tandems.confirm(cohort, actor.user, expected_version=cohort.lock_version)

    board = grid(cohort)
    for session in board.sessions:
        mark = Mark.DONE if session.all_day else Mark.PRESENT
        set_mark(session, person, Mark.ABSENT if not session.all_day else mark, actor.user)
        set_mark(session, person, mark, actor.user)
        set_mark(session, partner, mark, actor.user)
    db.session.flush()
    first = certificates.issue_certificate(actor, cohort.id, person.id)
    corrected = certificates.reissue_certificate(actor, first.id, PRINTED)
    certificates.revoke_certificate(
        actor, corrected.id, f"issued to {OLD_NAME} before her attendance was checked"
    )
    again = certificates.issue_certificate(actor, cohort.id, person.id)

    _, page_token = personal_links.create_link(actor, person.id)
    calendars.subscribe_participant(person)
    tokens.issue(Purpose.PARTICIPANT_FEED, person.id, organisation.id, actor.user)
    db.session.flush()
    return Life(
        organisation=organisation.id,
        person=person.id,
        partner=partner.id,
        reporting=reporting.id,
        apart=apart.id,
        cohort=cohort.id,
        second_cohort=second.id,
        certificate_code=again.code,
        page_token=page_token,
    )


def after_the_rename(actor: Actor, life: Life) -> None:
    """Her new name's records: a second cohort she joins and leaves, and the
    first cohort's tandems confirmed again."""
    from app.models import Cohort

    enrolment = enrolments.enrol_participant(actor, life.second_cohort, life.person)
    enrolments.withdraw_participant(actor, life.second_cohort, enrolment.id)
    # The cohort fills up meanwhile: she waits on its list for a place again.
    second = db.session.get(Cohort, life.second_cohort)
    second.capacity = 0
    waiting_lists.join_list(actor, life.second_cohort, life.person)
    cohort = db.session.get(Cohort, life.cohort)
    tandems.propose(cohort, actor.user, expected_version=cohort.lock_version, shuffle=True)
    tandems.confirm(cohort, actor.user, expected_version=cohort.lock_version)
    db.session.flush()


def rename(actor: Actor, life: Life) -> None:
    from app.models import Participant

    person = db.session.get(Participant, life.person)
    participants.edit(
        actor,
        life.person,
        person_fields(
            FIRST,
            NEW_LAST,
            NEW_EMAIL,
            manager_name="Mara Manager",
            manager_email=MANAGER_EMAIL,
        ),
        version=person.lock_version,
    )
    db.session.flush()


def _cohort(organisation: Organisation, key: str, name: str, start: date):
    version = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.key == key, CurriculumRecord.organisation_id.is_(None)
        )
    ).versions[-1]
    cohort, _ = create_cohort(
        NewCohort(
            organisation=organisation, version=version, name=name, start=start, region="DE-BW"
        ),
        actor=None,
    )
    return cohort
