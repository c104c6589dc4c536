"""The participants list and a participant's page ask the database the same
number of questions however many people, cohorts and certificates there are."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import Enrolment, EnrolmentStatus, Participant, Role
from tests.web.helpers import log_in
from tests.web.test_query_counts import statements_of


def build(make, db, cohorts: int, people: int) -> tuple[str, int]:
    """An organisation with `cohorts` cohorts of `people` people each, and
    one person enrolled in every cohort (withdrawn from every other one)."""
    org = make.organisation(f"Org {cohorts}")
    viewer = make.user(Role.HR, [org], email=f"hr{cohorts}@example.org")
    everywhere = make.participant(org, first_name="Überall", last_name="Öztürk")
    first = None
    for number in range(cohorts):
        cohort = make.cohort(
            org,
            key="blended" if number % 2 else "compact",
            start=date(2026, 12, 7) + timedelta(weeks=3 * number),
            name=f"Gruppe {number}",
        )
        first = first or cohort
        enrolment = Enrolment(cohort=cohort, participant=everywhere)
        db.session.add(enrolment)
        if number % 2:
            enrolment.status = EnrolmentStatus.WITHDRAWN
        for n in range(people):
            person = Participant(
                organisation=org,
                first_name=f"P{n}",
                last_name=f"Müller{number}",
                email=f"p{number}-{n}@example.org",
                department=f"Abteilung {n % 3}",
                site=f"Standort {n % 2}",
            )
            db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.commit()
    make.certificate(first, everywhere)
    return viewer.email, everywhere.id


def statements_per_page(app, make, db, cohorts: int, people: int) -> dict[str, int]:
    email, person_id = build(make, db, cohorts, people)
    client = app.test_client()
    log_in(client, email)
    pages = {
        "list": "/participants",
        "search": "/participants?q=muller&department=Abteilung+1&sort=-name",
        "second page": "/participants?page=2",
        "filtered": "/participants?certificate=none&cohort=none",
        "participant": f"/participants/{person_id}",
    }
    return {name: len(run) for name, run in statements_of(client, db.engine, pages).items()}


def test_statements_do_not_grow_with_people_cohorts_or_enrolments(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    small = statements_per_page(app, make, db, cohorts=2, people=30)
    large = statements_per_page(app, make, db, cohorts=9, people=15)
    assert large == small
