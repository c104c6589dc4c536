"""The paper of a cohort asks the database the same number of questions
however many people are enrolled and marked (no query per person or mark)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from app.models import Enrolment, Participant, Role
from app.services import attendance
from cohorts.eligibility import Mark
from tests.web.helpers import log_in


def statements_of(client, engine, url: str) -> list[str]:
    client.get(url)  # warm caches (curriculum parsing) first
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return seen


def counts(app, make, db, people: int) -> dict[str, int]:
    org = make.organisation(f"Org {people}")
    viewer = make.user(Role.TRAINER, [org], email=f"trainer{people}@example.org")
    cohort = make.cohort(org, key="blended", start=date(2026, 3, 2), region="DE-BY")
    enrolled = []
    for n in range(people):
        person = Participant(
            organisation=org,
            first_name=f"P{n}",
            last_name=f"N{n}",
            email=f"p{people}-{n}@example.org",
            department="IT",
            site="Ulm",
        )
        db.session.add_all([person, Enrolment(cohort=cohort, participant=person)])
        enrolled.append(person)
    db.session.flush()
    for session in cohort.sessions:
        for person in enrolled:
            attendance.set_mark(
                session, person, Mark.DONE if session.all_day else Mark.PRESENT, None
            )
    db.session.commit()
    timed = next(s.id for s in cohort.sessions if not s.all_day)
    client = app.test_client()
    log_in(client, viewer.email)
    pages = {
        "sign-in sheet": f"/cohorts/{cohort.id}/sessions/{timed}/sign-in-sheet.pdf",
        "schedule": f"/cohorts/{cohort.id}/schedule.pdf",
        "report PDF": f"/cohorts/{cohort.id}/attendance-report.pdf",
        "report XLSX": f"/cohorts/{cohort.id}/attendance-report.xlsx",
    }
    return {name: len(statements_of(client, db.engine, url)) for name, url in pages.items()}


def test_printouts_ask_as_often_for_3_people_as_for_30(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    small = counts(app, make, db, 3)
    large = counts(app, make, db, 30)
    assert small == large
    # The reports read the make-ups booked elsewhere too (one statement).
    assert max(small.values()) <= 13, small
