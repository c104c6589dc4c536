"""Withdrawing one person from a cohort: the page asks first and says what
will happen, and right afterwards the withdrawal can be undone while
nothing has moved on in the cohort."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
    Tandem,
    TandemState,
)
from app.services.enrolments import withdrawal_stamp
from tests.web.helpers import csrf_token, log_in

_UNDO_STAMP = re.compile(r'name="withdrawn_at"[^>]*value="([^"]+)"')


def setup(make, **cohort):  # type: ignore[no-untyped-def]
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    group = make.cohort(org, name="Gruppe Nord", **cohort)
    anna = make.participant(org, cohort=group, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=group, first_name="Ben", last_name="Brandt")
    # Just the ids and what the tests read: records go stale while requests run.
    shown = SimpleNamespace(
        id=group.id,
        organisation_id=org.id,
        first_day=min(s.first_day for s in group.sessions),
    )
    return shown, SimpleNamespace(id=anna.id), SimpleNamespace(id=ben.id)


def enrolment_of(db, person_id: int) -> Enrolment:
    db.session.expire_all()
    return db.session.scalar(select(Enrolment).where(Enrolment.participant_id == person_id))


def withdraw(client, group_id: int, enrolment_id: int, back: str):  # type: ignore[no-untyped-def]
    url = f"/cohorts/{group_id}/enrolments/{enrolment_id}/withdraw"
    token = csrf_token(client, f"{url}?back={back}")
    return client.post(url, data={"csrf_token": token, "confirmed": "yes", "back": back})


def test_withdrawing_asks_first_with_what_will_happen(client, make, db):
    group, anna, ben = setup(make)
    make.tandem(group, [anna, ben])
    enrolment = enrolment_of(db, anna.id)
    person_page = f"/participants/{anna.id}"
    log_in(client, "hr@example.org")

    page = client.get(person_page).get_data(as_text=True)
    link = f"/cohorts/{group.id}/enrolments/{enrolment.id}/withdraw?back={person_page}"
    assert f'href="{link.split("?")[0]}?back=' in page
    assert "Austragen …" in page
    question = client.get(link).get_data(as_text=True)
    assert "Anna Albers aus der Gruppe „Gruppe Nord“ austragen?" in question
    # The coming sessions, with German dates, the partner and the certificate.
    assert f"{group.first_day:%d.%m.%Y}" in question
    assert "Das bestätigte Tandem mit Ben Brandt verliert die Person." in question
    assert "Ein Zertifikat aus dieser Gruppe kann danach nicht mehr ausgestellt" in question
    assert 'name="csrf_token"' in question
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.ENROLLED

    # A one-click button of an older page only asks, too.
    token = csrf_token(client, link)
    again = client.post(link.split("?")[0], data={"csrf_token": token})
    assert again.status_code == 200
    assert "austragen?" in again.get_data(as_text=True)
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.ENROLLED
    # Without the form's token nothing happens.
    assert client.post(link.split("?")[0], data={"confirmed": "yes"}).status_code == 400
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.ENROLLED

    done = withdraw(client, group.id, enrolment.id, person_page)
    assert done.status_code == 303
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.WITHDRAWN
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Anna Albers wurde aus der Gruppe „Gruppe Nord“ ausgetragen." in after
    assert "Rückgängig" in after
    assert f'href="{person_page}"' in after


def test_a_certificate_in_force_is_said_to_stay(client, make, db):
    group, anna, _ben = setup(make)
    make.certificate(db.session.get(Cohort, group.id), db.session.get(Participant, anna.id))
    enrolment = enrolment_of(db, anna.id)
    log_in(client, "hr@example.org")
    question = client.get(f"/cohorts/{group.id}/enrolments/{enrolment.id}/withdraw")
    text = question.get_data(as_text=True)
    assert "aus dieser Gruppe bleibt gültig." in text


def test_undo_enrols_again_as_before(client, make, db):
    group, anna, ben = setup(make)
    make.tandem(group, [anna, ben])
    enrolment = enrolment_of(db, anna.id)
    enrolled_at = enrolment.enrolled_at
    log_in(client, "hr@example.org")
    done = withdraw(client, group.id, enrolment.id, f"/cohorts/{group.id}")
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    stamp = _UNDO_STAMP.search(after).group(1)
    token = csrf_token(client, done.headers["Location"])
    undo_url = f"/cohorts/{group.id}/enrolments/{enrolment.id}/undo-withdrawal"
    undone = client.post(
        undo_url,
        data={"csrf_token": token, "withdrawn_at": stamp, "back": f"/cohorts/{group.id}"},
    )
    assert undone.status_code == 303
    assert undone.headers["Location"] == f"/cohorts/{group.id}"
    again = enrolment_of(db, anna.id)
    assert (again.id, again.status, again.enrolled_at) == (
        enrolment.id,
        EnrolmentStatus.ENROLLED,
        enrolled_at,
    )
    assert again.withdrawn_at is None
    tandem = db.session.scalar(select(Tandem))
    assert tandem.state is TandemState.CONFIRMED
    assert {m.participant_id for m in tandem.members} == {anna.id, ben.id}
    shown = client.get(f"/cohorts/{group.id}").get_data(as_text=True)
    assert "ist wieder in der Gruppe „Gruppe Nord“ eingeschrieben" in shown

    # The same undo a second time, or of an older withdrawal, is refused.
    withdraw(client, group.id, enrolment.id, f"/cohorts/{group.id}")
    page = f"/cohorts/{group.id}/enrolments/{enrolment.id}/withdrawn"
    stale = client.post(
        undo_url,
        data={"csrf_token": csrf_token(client, page), "withdrawn_at": stamp},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert stale.status_code == 303
    assert 'refused-undo_outdated"' in client.get(page).get_data(as_text=True)
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.WITHDRAWN
    # Without a stamp it is refused the same way, not taken as "any withdrawal".
    unstamped = client.post(
        undo_url,
        data={"csrf_token": csrf_token(client, page)},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert unstamped.status_code == 303
    assert 'refused-undo_outdated"' in client.get(page).get_data(as_text=True)
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.WITHDRAWN


def test_no_undo_once_the_tandems_changed(client, make, db):
    group, anna, ben = setup(make)
    enrolment = enrolment_of(db, anna.id)
    log_in(client, "hr@example.org")
    page = withdraw(client, group.id, enrolment.id, f"/participants/{anna.id}").headers["Location"]
    make.tandem(group, [ben])  # confirmed after the withdrawal
    shown = client.get(page).get_data(as_text=True)
    assert "Rückgängig" not in shown
    assert "die Tandems der Gruppe haben sich seit dem Austragen geändert" in shown


def test_no_undo_once_a_session_has_begun_since(client, make, db):
    group, anna, _ben = setup(make, start=date.today() - timedelta(days=60))
    enrolment = enrolment_of(db, anna.id)
    log_in(client, "hr@example.org")
    page = withdraw(client, group.id, enrolment.id, f"/participants/{anna.id}").headers["Location"]
    # As if she had been withdrawn the day before the first session.
    withdrawn = enrolment_of(db, anna.id)
    withdrawn.withdrawn_at = datetime.combine(
        group.first_day - timedelta(days=1), datetime.min.time(), UTC
    )
    db.session.commit()
    shown = client.get(page).get_data(as_text=True)
    assert "seit dem Austragen hat ein Termin der Gruppe begonnen" in shown
    stamp = withdrawal_stamp(enrolment_of(db, anna.id).withdrawn_at)
    refused = client.post(
        f"/cohorts/{group.id}/enrolments/{enrolment.id}/undo-withdrawal",
        data={"csrf_token": csrf_token(client, page), "withdrawn_at": stamp},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert refused.status_code == 303
    assert 'refused-undo_session_begun"' in client.get(page).get_data(as_text=True)
    assert enrolment_of(db, anna.id).status is EnrolmentStatus.WITHDRAWN


def test_no_undo_once_the_place_is_taken(client, make, db):
    group, anna, _ben = setup(make, capacity=2)
    enrolment = enrolment_of(db, anna.id)
    log_in(client, "hr@example.org")
    page = withdraw(client, group.id, enrolment.id, f"/participants/{anna.id}").headers["Location"]
    make.participant(
        db.session.get(Organisation, group.organisation_id),
        cohort=db.session.get(Cohort, group.id),
        first_name="Cem",
    )
    shown = client.get(page).get_data(as_text=True)
    assert "Rückgängig" not in shown
    assert "ist voll (2 Plätze)" in shown
