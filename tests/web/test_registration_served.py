"""The public registration page through a real HTTP server, as an employee's
phone reaches it: no account, the form posted as a browser posts it (UTF-8
names), an answer that keeps the secret address to this site and out of
caches, and an unknown address that answers 404 like any other page."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from app.extensions import db
from app.models import Participant, Role
from app.models.registrations import Registration, RegistrationState
from app.services import registrations
from app.services.policy import Actor
from tests.real_server import compact_cohort, fetch, organisation_with, served


def test_an_employee_registers_on_the_public_page(tmp_path):
    with served(tmp_path, "registration_served") as (app, base):
        with app.app_context():
            organisation = organisation_with(Role.HR, "hr@example.org", "Helga Roth")
            cohort = compact_cohort(
                organisation, "Frühjahr Süd", date.today() + timedelta(days=40)
            )
            db.session.flush()
            registrations.change_cohort_registration(
                Actor.system(), cohort.id, open_=True, closes_on=None, today=date.today()
            )
            address = registrations.renew_address(Actor.system(), organisation.id)
            cohort_id = cohort.id
            db.session.commit()

        page = fetch(f"{base}/register/{address}", headers={"Accept-Language": "de"})
        assert page.status == 200
        html = page.body.decode("utf-8")
        assert "Frühjahr Süd" in html
        assert 'name="viewport"' in html  # phones
        assert page.getheader("Referrer-Policy") == "same-origin"
        assert page.getheader("Cache-Control") == "no-store"

        form = {
            "cohort": cohort_id,
            "first_name": "Jürgen",
            "last_name": "Öztürk",
            "email": "juergen@example.org",
            "manager_name": "Grete Weiß",
            "manager_email": "grete@example.org",
        }
        answer = fetch(
            f"{base}/register/{address}",
            method="POST",
            body=urlencode(form).encode("utf-8"),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "de",
            },
        )
        assert answer.status == 200
        assert "Bitte sehen Sie in Ihr Postfach" in answer.body.decode("utf-8")

        assert fetch(f"{base}/register/not-{address}").status == 404

        with app.app_context():
            [registration] = db.session.scalars(select(Registration)).all()
            person = db.session.get(Participant, registration.participant_id)
            assert (person.first_name, person.last_name) == ("Jürgen", "Öztürk")
            assert registration.state is RegistrationState.REGISTERED
            assert registration.manager_name == "Grete Weiß"
            db.session.remove()
