"""Two organisations with a cohort each, and API tokens for their people."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.models import Role
from app.services import api_tokens


@pytest.fixture
def world(make, db):
    ours, theirs = make.organisation("Eigene GmbH"), make.organisation("Fremde AG")
    people = {
        "hr": make.user(Role.HR, [ours], email="hr@eigene.example"),
        "trainer": make.user(Role.TRAINER, [ours], email="trainer@eigene.example"),
        "consultant": make.user(Role.CONSULTANT, [ours], email="berater@eigene.example"),
        "admin": make.user(Role.ADMIN, [ours], email="admin@eigene.example"),
        "stranger": make.user(Role.ADMIN, [theirs], email="admin@fremde.example"),
    }
    cohort = make.cohort(ours, start=date(2027, 3, 1), region="DE-BW", capacity=3)
    anna = make.participant(ours, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(ours, first_name="Ben", last_name="Bauer")
    foreign = make.cohort(theirs, start=date(2027, 3, 1), region="DE-BW")
    stranger = make.participant(theirs, cohort=foreign)
    tokens = {
        role: api_tokens.issue(user, user.organisations[0].id) for role, user in people.items()
    }
    db.session.commit()
    return {
        "tokens": tokens,
        "cohort": cohort.id,
        "sessions": [s.id for s in cohort.sessions],
        "anna": anna.id,
        "ben": ben.id,
        "foreign_cohort": foreign.id,
        "foreign_session": foreign.sessions[0].id,
        "stranger": stranger.id,
        "organisation": ours.id,
    }


@pytest.fixture
def call(client, world):
    """A request with the token of one of the world's people."""

    def request(method: str, url: str, who: str = "hr", **kwargs):
        headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
        return client.open(url, method=method, headers=headers, **kwargs)

    return request


@pytest.fixture
def records(world, make, db):
    """An existing record for every id an API route takes."""
    from app.models import Cohort, Participant
    from app.models.registrations import Registration, RegistrationState

    certificate = make.certificate(
        db.session.get(Cohort, world["cohort"]), db.session.get(Participant, world["anna"])
    )
    version = make.version("compact")
    registration = Registration(
        organisation_id=world["organisation"],
        cohort_id=world["cohort"],
        participant_id=world["ben"],
        state=RegistrationState.EMAIL_CONFIRMED,
    )
    db.session.add(registration)
    db.session.commit()
    return {
        "cohort_id": world["cohort"],
        "session_id": world["sessions"][0],
        "participant_id": world["anna"],
        "certificate_id": certificate.id,
        "curriculum_id": version.curriculum_id,
        "version_id": version.id,
        "registration_id": registration.id,
    }


@pytest.fixture
def held(make, db, world):
    """A cohort of the world's organisation that took place last year: Hanna
    attended everything and holds her certificate, Ida attended everything
    and holds none, Mia's attendance is still to be taken, Lena enrolled
    after the sessions."""
    from app.models import Organisation

    organisation = db.session.get(Organisation, world["organisation"])
    cohort = make.cohort(organisation, start=date.today() - timedelta(days=400), name="Vorjahr")
    before = datetime.combine(cohort.start_date, time(), UTC) - timedelta(days=30)
    people = {}
    names = (("Hanna", "Held"), ("Ida", "Imhof"), ("Mia", "Mohr"), ("Lena", "Later"))
    for first, last in names:
        person = make.participant(organisation, cohort=cohort, first_name=first, last_name=last)
        if first != "Lena":
            person.enrolments[0].enrolled_at = before
        people[first] = person
    db.session.commit()
    make.attended(cohort, people["Ida"])
    certificate = make.certificate(cohort, people["Hanna"])
    return {
        "cohort": cohort.id,
        "sessions": [s.id for s in sorted(cohort.sessions, key=lambda s: s.first_day)],
        "timed": next(s.id for s in cohort.sessions if not s.all_day),
        "hanna": people["Hanna"].id,
        "ida": people["Ida"].id,
        "mia": people["Mia"].id,
        "lena": people["Lena"].id,
        "certificate": certificate.id,
    }
