"""After a bulk action the list returns as it was filtered; a withdrawal of
many can be undone like the withdrawal of one (the same stamps and rules:
only while nothing has moved on since), for all of them or nobody."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from app.models import Enrolment
from tests.web.helpers import csrf_token, log_in
from tests.web.test_bulk_actions import confirm, enrolled, preview, setup

_UNDO = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


def enrol_all(db, cohort, people) -> None:
    for person in people:
        db.session.add(Enrolment(cohort_id=cohort.id, participant_id=person.id))
    db.session.commit()


def withdraw_from_filtered_list(client, cohort, people):
    filters = {"filter-cohort": str(cohort.id), "filter-department": "Pflege", "filter-page": "1"}
    page = preview(
        client,
        action="withdraw",
        cohort=str(cohort.id),
        person=[str(p.id) for p in people],
        **filters,
    )
    return page, confirm(client, page)


def test_the_list_returns_with_its_filters_and_the_withdrawal_can_be_undone(client, make, db):
    _, cohort, people = setup(make)
    enrol_all(db, cohort, people)
    log_in(client, "hr@example.org")
    listed = client.get(f"/participants?cohort={cohort.id}&department=Pflege").get_data(
        as_text=True
    )
    assert f'name="filter-cohort" value="{cohort.id}"' in listed
    assert 'name="filter-department" value="Pflege"' in listed

    page, done = withdraw_from_filtered_list(client, cohort, people[:2])
    back = f"/participants?cohort={cohort.id}&department=Pflege"
    assert f'href="{html.escape(back)}"' in page.get_data(as_text=True)
    assert done.status_code == 303
    assert enrolled(db, cohort) == {"Carla", "Dora"}
    after = urlsplit(done.headers["Location"])
    assert after.path == "/participants/bulk/withdrawn"
    assert parse_qs(after.query)["back"] == [back]

    shown = html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "2 Personen wurden ausgetragen." in shown
    assert "2 Personen sind aus dieser Gruppe ausgetragen" in shown
    assert "Anna Müller" in shown
    assert "Ben Köhler" in shown
    assert "Für 2 Personen rückgängig machen" in shown

    fields = {name: html.unescape(value) for name, value in _UNDO.findall(shown)}
    fields["csrf_token"] = csrf_token(client, done.headers["Location"])
    undone = client.post("/participants/bulk/undo-withdrawal", data=fields)
    assert undone.status_code == 303
    assert undone.headers["Location"] == back
    assert enrolled(db, cohort) == {"Anna", "Ben", "Carla", "Dora"}
    final = html.unescape(client.get(back).get_data(as_text=True))
    assert "Das Austragen ist rückgängig gemacht: 2 Personen sind wieder eingeschrieben." in final


def test_an_undo_outdated_for_one_undoes_nothing(client, make, db):
    _, cohort, people = setup(make)
    enrol_all(db, cohort, people)
    log_in(client, "hr@example.org")
    _, done = withdraw_from_filtered_list(client, cohort, people[:2])
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    fields = {name: html.unescape(value) for name, value in _UNDO.findall(shown)}
    fields["csrf_token"] = csrf_token(client, done.headers["Location"])
    # Anna's enrolment changed meanwhile (enrolled and withdrawn again).
    anna = db.session.scalar(select(Enrolment).where(Enrolment.participant_id == people[0].id))
    anna.withdrawn_at = anna.withdrawn_at + timedelta(seconds=5)
    db.session.commit()

    refused = client.post("/participants/bulk/undo-withdrawal", data=fields)
    assert refused.status_code == 303
    assert enrolled(db, cohort) == {"Carla", "Dora"}  # Ben is not enrolled again either
    text = html.unescape(client.get(refused.headers["Location"]).get_data(as_text=True))
    assert "(Anna Müller)" in text
    assert "Es wurde nichts gespeichert." in text


def test_no_undo_once_the_tandems_changed(client, make, db):
    _, cohort, people = setup(make)
    enrol_all(db, cohort, people)
    log_in(client, "hr@example.org")
    _, done = withdraw_from_filtered_list(client, cohort, people[:2])
    make.tandem(cohort, [people[2], people[3]])  # confirmed after the withdrawal
    shown = html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Für 2 Personen rückgängig machen" not in shown
    assert (
        "Das Austragen lässt sich nicht mehr rückgängig machen: die Tandems der Gruppe "
        "haben sich seit dem Austragen geändert" in shown
    )


def test_the_withdrawn_page_of_another_cohort_is_not_found(client, make, db):
    org, cohort, people = setup(make)
    enrol_all(db, cohort, people)
    other = make.cohort(org, name="Herbst").id
    log_in(client, "hr@example.org")
    _, done = withdraw_from_filtered_list(client, cohort, people[:1])
    query = parse_qs(urlsplit(done.headers["Location"]).query)
    wrong = client.get(f"/participants/bulk/withdrawn?cohort={other}&e={query['e'][0]}")
    assert wrong.status_code == 404
