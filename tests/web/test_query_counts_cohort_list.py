"""The cohort list asks the database the same number of questions however
many cohorts, sessions, trainers and people there are, in every order and
with every filter (no query per row)."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import CohortState, Enrolment, Participant, Role
from tests.web.helpers import log_in
from tests.web.test_query_counts import counting, statements_of

LISTS = {
    "default": "/cohorts",
    "search": "/cohorts?q=gruppe+1",
    "by name": "/cohorts?sort=name",
    "by organisation": "/cohorts?sort=-organisation",
    "by state": "/cohorts?sort=state",
    "by participants": "/cohorts?sort=-participants",
    "by start": "/cohorts?sort=start",
    "every filter": "/cohorts?state=planned&state=completed&year=2027&region=DE-BY"
    "&curriculum={curriculum}&trainer={trainer}&organisation={organisation}",
    "bad values": "/cohorts?state=x&year=abc&page=-1&sort=up&organisation=9999",
}


def build(make, db, cohorts: int, people: int) -> tuple[str, dict[str, int]]:
    org = make.organisation(f"Org {cohorts}", region="DE-BY")
    other = make.organisation(f"Andere {cohorts}", region="DE-BY")
    trainers = [make.user(Role.TRAINER, [org, other], name=f"Trainer {n}") for n in range(3)]
    viewer = make.user(Role.ADMIN, [org, other], email=f"viewer{cohorts}@example.org")
    first = None
    for number in range(cohorts):
        cohort = make.cohort(
            org if number % 3 else other,
            key="blended" if number % 2 else "compact",
            start=date(2026, 12, 7) + timedelta(weeks=3 * number),
            region="DE-BY",
            trainers=[trainers[number % 3]],
            name=f"Gruppe {number}",
            capacity=30,
        )
        if number % 4 == 3:
            cohort.state = CohortState.COMPLETED
        first = first or cohort
        for n in range(people):
            person = Participant(
                organisation_id=cohort.organisation_id,
                first_name=f"P{n}",
                last_name=f"N{number}",
                email=f"p{cohorts}-{number}-{n}@example.org",
            )
            db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.commit()
    ids = {
        "curriculum": first.version.curriculum_id,
        "trainer": trainers[0].id,
        "organisation": first.organisation_id,
    }
    return viewer.email, ids


def asked(statements: list[str]) -> int:
    """Questions to the database, without the savepoints of the test's
    transaction around each request."""
    return sum(not s.lstrip().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")) for s in statements)


def statements_per_list(app, make, db, cohorts: int, people: int) -> dict[str, int]:
    email, ids = build(make, db, cohorts, people)
    client = app.test_client()
    log_in(client, email)
    pages = {name: url.format(**ids) for name, url in LISTS.items()}
    counts = {name: asked(run) for name, run in statements_of(client, db.engine, pages).items()}
    if cohorts > 25:
        with counting(db.engine) as statements:
            assert client.get("/cohorts?page=2").status_code == 200
        counts["page 2"] = asked(statements)
    return counts


def test_statements_do_not_grow_with_the_number_of_cohorts(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    small = statements_per_list(app, make, db, cohorts=3, people=2)
    large = statements_per_list(app, make, db, cohorts=40, people=12)
    assert large.pop("page 2") == large["default"]
    assert large == small
    # The login's user and organisations, the filters' choices (curricula,
    # trainers, regions and years), the counts per state, the page, its
    # trainers and its numbers of people; a search reads the names once more.
    assert large["default"] == 9, large
    assert max(large.values()) <= 10, large
