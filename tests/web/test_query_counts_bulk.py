"""The preview of a bulk enrolment asks the database the same number of
questions however many people are chosen: the enrolment's rules are checked
for all of them at once, not person by person."""

from __future__ import annotations

import html
from datetime import date

from app.models import Enrolment, Participant, Role
from tests.web.helpers import csrf_token, log_in
from tests.web.test_query_counts import counting


def build(make, db, people: int) -> tuple[str, int, list[int]]:
    """A cohort with room for all but two of `people`; one of them enrolled
    already, one certified in an earlier cohort of the curriculum and one
    enrolled in another open cohort of it."""
    org = make.organisation(f"Org {people}")
    make.user(Role.HR, [org], email=f"hr{people}@example.org")
    cohort = make.cohort(org, name="Frühjahr", capacity=people - 2, start=date(2027, 9, 6))
    earlier = make.cohort(org, name="Vorjahr", start=date(2027, 3, 1))
    other = make.cohort(org, name="Parallel", start=date(2027, 10, 4))
    chosen = [
        make.participant(org, first_name=f"P{n:02}", last_name="Müller", email=f"p{n}@{people}.x")
        for n in range(people)
    ]
    certified, elsewhere, inside = chosen[1], chosen[2], chosen[3]
    db.session.add(
        Enrolment(cohort=earlier, participant=db.session.get(Participant, certified.id))
    )
    db.session.add(Enrolment(cohort=other, participant=db.session.get(Participant, elsewhere.id)))
    db.session.add(Enrolment(cohort=cohort, participant=db.session.get(Participant, inside.id)))
    db.session.commit()
    make.certificate(earlier, certified)
    return f"hr{people}@example.org", cohort.id, [p.id for p in chosen]


def preview_statements(app, make, db, people: int) -> tuple[int, str]:
    email, cohort_id, ids = build(make, db, people)
    client = app.test_client()
    log_in(client, email)
    data = {
        "csrf_token": csrf_token(client, "/participants"),
        "action": "enrol",
        "cohort": str(cohort_id),
        "person": [str(i) for i in ids],
    }
    client.post("/participants/bulk", data=data)
    with counting(db.engine) as statements:
        page = client.post("/participants/bulk", data=data)
    assert page.status_code == 200
    return len(statements), html.unescape(page.get_data(as_text=True))


def test_the_preview_asks_the_same_questions_for_few_and_many(app, client, make, db):
    # `client` sets the isolated test client class used by app.test_client().
    few, few_page = preview_statements(app, make, db, people=6)
    many, many_page = preview_statements(app, make, db, people=30)
    assert many == few
    for page, places in ((few_page, 4), (many_page, 28)):
        # One is in already and takes a place; the two warned take one each.
        assert "1 Person ist schon eingeschrieben" in page
        assert "Bei 2 Personen lohnt ein zweiter Blick" in page
        assert "P01 Müller hat bereits ein gültiges Zertifikat" in page
        assert "P02 Müller ist bereits in der Gruppe „Parallel“" in page
        assert f"die Gruppe „Frühjahr“ ist voll ({places} Plätze)" in page
