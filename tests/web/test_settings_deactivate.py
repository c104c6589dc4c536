"""Deactivating an account asks first, on a page of its own: what ends (for
good, the calendar address) and the cohorts whose sessions still to come
the person trains, which then need another trainer. Reactivating is one step."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import CohortState, Role, User
from tests.web.helpers import csrf_token, log_in


def a_monday(weeks_from_now: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_from_now)


def test_the_page_names_what_ends_and_the_cohorts_ahead(client, make, db):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org", name="Ada Admin")
    trainer = make.user(Role.TRAINER, [org], email="t@example.org", name="Tobias Brandt")
    ahead = make.cohort(org, start=a_monday(6), trainers=[trainer], name="Kompakt Ulm")
    over = make.cohort(org, start=a_monday(-20), trainers=[trainer], name="Vorbei 2025")
    over.state = CohortState.COMPLETED
    # A cohort of the organisation without them is not theirs.
    make.cohort(org, start=a_monday(8), name="Fremde Gruppe")
    db.session.commit()
    ahead_id, trainer_id = ahead.id, trainer.id
    log_in(client, "admin@example.org")

    account = client.get(f"/settings/users/{trainer_id}").get_data(as_text=True)
    assert f'action="/settings/users/{trainer_id}/deactivate">' in account
    assert "Deaktivieren …</button>" in account
    page = client.get(f"/settings/users/{trainer_id}/deactivate").get_data(as_text=True)
    assert "Das Konto von Tobias Brandt deaktivieren?" in page
    assert "auf allen Geräten abgemeldet" in page
    assert "API-Schlüssel" in page
    assert "Kalenderadresse des Kontos gilt endgültig nicht mehr" in page
    listed = page.split('id="trained-cohorts">')[1].split("</ul>")[0]
    assert f'<a href="/cohorts/{ahead_id}">Kompakt Ulm</a>' in listed
    assert "Termine, der nächste am" in listed
    assert "Vorbei 2025" not in page
    assert "Fremde Gruppe" not in page
    assert "Diese Termine brauchen eine andere Trainer:in" in page
    # Looking is not deactivating.
    db.session.expire_all()
    assert db.session.get(User, trainer_id).active is True

    token = csrf_token(client, f"/settings/users/{trainer_id}/deactivate")
    done = client.post(
        f"/settings/users/{trainer_id}/deactivate",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Tobias Brandt kann sich nicht mehr anmelden" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, trainer_id).active is False
    # A deactivated account's page leads back to the account.
    again = client.get(f"/settings/users/{trainer_id}/deactivate")
    assert again.status_code == 303
    # Reactivating stays one step.
    client.post(f"/settings/users/{trainer_id}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, trainer_id).active is True


def test_a_person_without_sessions_ahead_is_said_so(client, make):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org")
    hr_id = make.user(Role.HR, [org], email="hr@example.org", name="Hanna Personal").id
    log_in(client, "admin@example.org")
    page = client.get(f"/settings/users/{hr_id}/deactivate").get_data(as_text=True)
    assert "Hanna Personal ist bei keinem kommenden Termin Trainer:in." in page
    assert 'id="trained-cohorts"' not in page


def test_only_an_admin_of_the_persons_organisation_gets_the_page(client, make):
    org = make.organisation()
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [other], email="s@example.org")
    trainer_id = make.user(Role.TRAINER, [org], email="t@example.org").id
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "s@example.org")
    assert client.get(f"/settings/users/{trainer_id}/deactivate").status_code == 404


def test_hr_does_not_get_the_page(app, make):
    org = make.organisation()
    trainer_id = make.user(Role.TRAINER, [org], email="t@example.org").id
    make.user(Role.HR, [org], email="hr@example.org")
    client = app.test_client()
    log_in(client, "hr@example.org")
    assert client.get(f"/settings/users/{trainer_id}/deactivate").status_code == 403
