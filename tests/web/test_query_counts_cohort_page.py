"""A cohort's page asks the database the same number of questions however
many sessions the cohort has and however many of them are double-booked:
the trainers' double bookings are found for all sessions at once."""

from __future__ import annotations

import html
from datetime import date

from app.models import Cohort, Role, User
from tests.web.helpers import log_in
from tests.web.test_query_counts import statements_of


def build(make, db, key: str, number: int) -> tuple[str, int, int]:
    """A cohort of the curriculum `key` whose trainer also teaches every
    session of a second cohort on the same days (put there after planning,
    as an import or an old plan might): each session is double-booked."""
    org = make.organisation(f"Org {number}")
    admin = make.user(Role.ADMIN, [org], email=f"admin{number}@example.org")
    trainer = make.user(Role.TRAINER, [org], name=f"Trainerin {number}")
    cohort = make.cohort(org, key=key, start=date(2027, 3, 1), trainers=[trainer], name="Eins")
    other = make.cohort(org, key=key, start=date(2027, 3, 1), name="Zwei")
    booked = db.session.get(User, trainer.id)
    for session in db.session.get(Cohort, other.id).sessions:
        if session.starts_at is not None:
            session.trainers.append(booked)
    db.session.commit()
    sessions = sum(1 for s in db.session.get(Cohort, cohort.id).sessions if s.starts_at)
    return admin.email, cohort.id, sessions


def test_the_cohort_page_asks_the_same_for_few_and_many_sessions(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    counts, clashes = {}, {}
    for number, key in enumerate(("compact", "blended")):
        email, cohort_id, sessions = build(make, db, key, number)
        visitor = app.test_client()
        log_in(visitor, email)
        url = f"/cohorts/{cohort_id}"
        counts[key] = len(statements_of(visitor, db.engine, {"page": url})["page"])
        page = html.unescape(visitor.get(url).get_data(as_text=True))
        clashes[key] = (page.count(f"Trainerin {number} wäre an zwei Orten zugleich"), sessions)
    assert counts["compact"] == counts["blended"]
    for found, sessions in clashes.values():
        assert found == sessions > 0
