"""HR's page of a cohort's registrations asks the database the same number
of questions for few and for many registrations in every state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.extensions import db as _db
from app.models import Role, User
from app.models.registrations import Registration, RegistrationState
from tests.web.helpers import log_in
from tests.web.test_query_counts import statements_of


def build(make, db, number: int, people: int) -> tuple[str, int]:
    org = make.organisation(f"Org {number}")
    hr = make.user(Role.HR, [org], email=f"hr{number}@example.org")
    cohort = make.cohort(org, name="Eins", start=date.today() + timedelta(days=60), capacity=2)
    cohort.registration_open = True
    now = datetime.now(UTC)
    deciding = db.session.get(User, hr.id)
    for n in range(people):
        person = make.participant(org, first_name=f"P{n}")
        registration = Registration(
            organisation_id=org.id,
            cohort_id=cohort.id,
            participant_id=person.id,
            state=RegistrationState.REGISTERED,
            registered_at=now + timedelta(seconds=n),
            changed_at=now,
        )
        db.session.add(registration)
        if n % 4 >= 1:
            registration.confirm_email(now, None, now)
        if n % 4 == 2:
            registration.confirm_by_manager(now, 120)
        if n % 4 == 3:
            registration.decline(now, deciding, "Kein Bedarf")
    db.session.commit()
    return hr.email, cohort.id


def test_the_registrations_page_asks_the_same_for_few_and_many(app, client, make, db):
    counts = {}
    for number, people in enumerate((4, 40)):
        email, cohort_id = build(make, db, number, people)
        visitor = app.test_client()
        log_in(visitor, email)
        pages = {"registrations": f"/cohorts/{cohort_id}/registrations"}
        counts[people] = len(statements_of(visitor, _db.engine, pages)["registrations"])
    assert counts[4] == counts[40], counts
    assert counts[40] <= 15, counts
