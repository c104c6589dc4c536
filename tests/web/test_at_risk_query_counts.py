"""The at-risk panels ask the database the same number of questions however
many cohorts and people are at risk: everything is read set-wise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Cohort, Enrolment, Participant, Role
from app.services import at_risk, attendance
from cohorts.eligibility import Mark
from tests.web.helpers import log_in
from tests.web.test_query_counts import statements_of

TODAY = datetime.now(UTC).date()


def build(make, db, number: int, cohorts: int, people: int) -> tuple[str, int, int]:
    """`cohorts` cohorts that began weeks ago, each with `people` people
    absent on seminar day 2, and as many later cohorts to make it up in."""
    org = make.organisation(f"Zählwerk {number}")
    admin = make.user(Role.ADMIN, [org], email=f"admin{number}@zaehlwerk.example")
    first = None
    for n in range(cohorts):
        cohort = make.cohort(org, start=TODAY - timedelta(days=40 + 7 * n), name=f"Früh {n}")
        make.cohort(org, start=TODAY + timedelta(days=30 + 7 * n), name=f"Spät {n}")
        first = first or cohort
        missed = next(
            s for s in db.session.get(Cohort, cohort.id).sessions if s.element.key == "seminar-2"
        )
        for p in range(people):
            person = Participant(
                organisation=org,
                first_name=f"P{p}",
                last_name=f"C{n}",
                email=f"p{p}c{n}@x.example",
            )
            db.session.add(person)
            begun = datetime.now(UTC) - timedelta(days=60)
            db.session.add(Enrolment(cohort_id=cohort.id, participant=person, enrolled_at=begun))
            db.session.flush()
            attendance.set_mark(missed, person, Mark.ABSENT, None)
    db.session.commit()
    person_id = db.session.scalar(
        db.select(Enrolment.participant_id).where(Enrolment.cohort_id == first.id).limit(1)
    )
    return admin.email, first.id, person_id


def test_the_at_risk_panels_ask_the_same_for_few_and_many(app, client, make, db):
    counts = {}
    for number, (cohorts, people) in enumerate(((1, 1), (4, 6))):
        email, cohort_id, person_id = build(make, db, number, cohorts, people)
        visitor = app.test_client()
        log_in(visitor, email)
        pages = {
            "overview": "/dashboard",
            "cohort": f"/cohorts/{cohort_id}",
            "cohort's at-risk page": f"/cohorts/{cohort_id}/at-risk",
            "person": f"/participants/{person_id}",
        }
        found = statements_of(visitor, db.engine, pages)
        page = visitor.get("/dashboard").get_data(as_text=True)
        # The overview names the first of them and counts the rest per cohort.
        assert page.count("at-risk-entry") == min(cohorts * people, at_risk.OVERVIEW_LIMIT)
        assert ("alle nach Gruppen" in page) == (cohorts * people > at_risk.OVERVIEW_LIMIT)
        counts[(cohorts, people)] = {name: len(s) for name, s in found.items()}
    assert counts[(1, 1)] == counts[(4, 6)]
