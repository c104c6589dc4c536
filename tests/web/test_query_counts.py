"""The main pages ask the database the same number of questions however much
data there is (no query per row)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from app.models import Enrolment, Participant, Role
from tests.web.helpers import log_in


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_of(client, engine, pages: dict[str, str]) -> dict[str, list[str]]:
    """The statements each page runs when asked a second time (the first
    warms caches such as the parsed curricula); every page must answer 200."""
    found = {}
    for name, url in pages.items():
        client.get(url)
        with counting(engine) as statements:
            assert client.get(url).status_code == 200, url
        found[name] = statements
    return found


def build(make, db, cohorts: int, people: int):
    org = make.organisation(f"Org {cohorts}")
    trainers = [make.user(Role.TRAINER, [org], name=f"Trainer {n}") for n in range(3)]
    viewer = make.user(Role.ADMIN, [org], email=f"viewer{cohorts}@example.org")
    first = None
    for number in range(cohorts):
        cohort = make.cohort(
            org,
            key="blended" if number % 2 else "compact",
            start=date(2026, 12, 7) + timedelta(weeks=3 * number),
            region="DE-BY",
            trainers=[trainers[number % 3]],
            name=f"Gruppe {number}",
        )
        first = first or cohort
        for n in range(people):
            person = Participant(
                organisation=org,
                first_name=f"P{n}",
                last_name=f"N{number}",
                email=f"p{number}-{n}@example.org",
                department="IT",
                site="Ulm",
            )
            db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
    db.session.commit()
    return viewer.email, first.id, first.sessions[0].id, person.id


def queries_per_page(app, make, db, cohorts, people):
    email, cohort_id, session_id, person_id = build(make, db, cohorts, people)
    client = app.test_client()
    log_in(client, email)
    pages = {
        "dashboard": "/dashboard",
        "cohort": f"/cohorts/{cohort_id}",
        "session": f"/cohorts/{cohort_id}/sessions/{session_id}",
        "participants": "/participants",
        "participant": f"/participants/{person_id}",
        "new cohort": "/cohorts/new",
    }
    return {name: len(run) for name, run in statements_of(client, db.engine, pages).items()}


def test_query_counts_do_not_grow_with_the_data(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    small = queries_per_page(app, make, db, cohorts=2, people=3)
    large = queries_per_page(app, make, db, cohorts=12, people=30)
    assert large == small
