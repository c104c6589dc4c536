"""Withdrawing from the status page, as a browser does it: the button, the
page that says what will happen, the confirmation; HR's page and the
cohort's history show it; refusals are pages of their own, never a
traceback; without the CSRF token nothing happens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import throttle
from app.models import Enrolment, EnrolmentStatus, Notification, Role
from app.models.registrations import Registration, RegistrationState
from app.services import registrations
from app.services.policy import Actor
from tests.web.helpers import csrf_token, log_in, post_form

S = RegistrationState


@pytest.fixture(autouse=True)
def fresh_budget(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def world(db, make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Frühjahr", start=date.today() + timedelta(days=60))
    registrations.change_cohort_registration(
        Actor.system(), cohort.id, open_=True, closes_on=None, today=date.today()
    )
    registrations.change_manager_step(Actor.system(), org.id, False)
    address = registrations.renew_address(Actor.system(), org.id)
    db.session.commit()
    return org, cohort.id, address


def register(client, cohort_id, address, email="erika@example.org"):
    form = {
        "cohort": cohort_id,
        "first_name": "Erika",
        "last_name": "Muster",
        "email": email,
        "department": "",
        "manager_name": "",
        "manager_email": "",
    }
    assert post_form(client, f"/register/{address}", form).status_code == 200


def newest(db, email="erika@example.org", what=None) -> Notification:
    found = [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.kind == "registration"
        and n.address == email
        and (what is None or n.payload["what"] == what)
    ]
    return found[-1]


def path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def status_of(db, email="erika@example.org") -> str:
    return path(newest(db, email).payload["link"]["status"])


def confirmed(client, db, world, email="erika@example.org") -> str:
    _, cohort_id, address = world
    register(client, cohort_id, address, email)
    confirm = path(newest(db, email, "confirm").payload["link"]["confirm"])
    assert post_form(client, confirm, {}).status_code == 200
    return status_of(db, email)


def hr_accepts(app, cohort_id: int, email: str) -> None:
    """HR accepts the person's registration on the cohort's page."""
    registration = [r for r in db_registrations() if r.participant.email == email][0]
    staff = app.test_client()
    log_in(staff, "hr@example.org")
    page = f"/cohorts/{cohort_id}/registrations"
    answer = post_form(staff, f"{page}/accept", {"registration": registration.id}, form_url=page)
    assert answer.status_code == 303


def db_registrations() -> list[Registration]:
    from app.extensions import db

    return list(db.session.scalars(select(Registration)))


def withdraw(client, status: str, what: str, token: str | None = None):
    """The button of the page that asks first (its CSRF token, or `token`)."""
    token = token or csrf_token(client, f"{status}?withdraw=1")
    return client.post(status, data={"csrf_token": token, "what": what})


def test_the_person_withdraws_before_hr_decides(client, db, world):
    _, cohort_id, _ = world
    status = confirmed(client, db, world)
    page = client.get(status).get_data(as_text=True)
    assert "Wartet auf die Entscheidung der Personalabteilung" in page
    assert "Bewerbung zurückziehen" in page
    asking = client.get(f"{status}?withdraw=1")
    assert asking.status_code == 200
    html = asking.get_data(as_text=True)
    assert "Bewerbung für Frühjahr zurückziehen?" in html
    assert "Ihre Bewerbung endet: Die Personalabteilung entscheidet nicht mehr darüber" in html
    assert 'name="csrf_token"' in html
    # Opening the page changed nothing.
    assert db.session.scalar(select(Registration)).state is S.EMAIL_CONFIRMED

    done = withdraw(client, status, "application")
    assert done.status_code == 303
    assert done.headers["Location"].endswith(status)
    after = client.get(status).get_data(as_text=True)
    assert "Ihre Bewerbung für Frühjahr ist zurückgezogen." in after
    assert "Zurückgezogen" in after
    assert "Bewerbung zurückziehen</a>" not in after
    told = newest(db, what="withdrawn")
    assert path(told.payload["link"]["status"]) == status

    # HR sees it, and the history says it in words.
    log_in(client, "hr@example.org")
    staff = client.get(f"/cohorts/{cohort_id}/registrations").get_data(as_text=True)
    assert "Erika Muster:" in staff
    assert "Bewerbung zurückgezogen" in staff
    assert "Keine Bewerbung wartet." in staff
    history = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Erika Muster hat die Bewerbung zurückgezogen" in history


def test_a_second_click_and_an_unknown_link_give_a_page_of_their_own(client, db, world):
    status = confirmed(client, db, world)
    token = csrf_token(client, f"{status}?withdraw=1")
    assert withdraw(client, status, "application", token).status_code == 303
    again = withdraw(client, status, "application", token)
    assert again.status_code == 409
    assert "Ihre Bewerbung ist bereits beendet." in again.get_data(as_text=True)
    asking = client.get(f"{status}?withdraw=1")
    assert asking.status_code == 409
    assert "Zum Stand Ihrer Bewerbung" in asking.get_data(as_text=True)
    unknown = client.get("/registration/unknown?withdraw=1")
    assert unknown.status_code == 404
    assert "Dieser Link funktioniert nicht mehr" in unknown.get_data(as_text=True)
    posted = withdraw(client, "/registration/unknown", "application", csrf_token(client, "/login"))
    assert posted.status_code == 404
    assert (
        len(
            [
                n
                for n in db.session.scalars(select(Notification))
                if n.payload.get("what") == "withdrawn"
            ]
        )
        == 1
    )


def test_without_the_csrf_token_nothing_happens(client, db, world):
    status = confirmed(client, db, world)
    refused = client.post(status, data={"what": "application"})
    assert refused.status_code == 400
    wrong = withdraw(client, status, "everything")
    assert wrong.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Registration)).state is S.EMAIL_CONFIRMED


def test_an_expired_status_link_answers_404_with_its_page(client, db, world):
    status = confirmed(client, db, world)
    registration = db.session.scalar(select(Registration))
    registration.status_token_expires_at = registration.registered_at
    db.session.commit()
    for answer in (client.get(status), client.get(f"{status}?withdraw=1")):
        assert answer.status_code == 404
        assert "Dieser Link funktioniert nicht mehr" in answer.get_data(as_text=True)


def test_a_decision_meanwhile_is_said_clearly(app, client, db, world):
    _, cohort_id, _ = world
    status = confirmed(client, db, world)
    token = csrf_token(client, f"{status}?withdraw=1")
    registration = db.session.scalar(select(Registration))

    hr_accepts(app, cohort_id, registration.participant.email)
    # HR's message renewed the link: the page the person had open says so.
    stale = withdraw(client, status, "application", token)
    assert stale.status_code == 404
    current = status_of(db)
    changed = withdraw(client, current, "application")
    assert changed.status_code == 409
    assert "Ihre Bewerbung hat sich inzwischen geändert" in changed.get_data(as_text=True)
    assert db.session.scalar(select(Registration)).state is S.ACCEPTED


def test_an_enrolled_person_withdraws_from_the_cohort_and_the_next_moves_up(
    app, client, db, world, make
):
    org, cohort_id, _ = world
    from app.models import Cohort

    registrations.change_waiting_lists(Actor.system(), org.id, "move_up", None, False)
    cohort = db.session.get(Cohort, cohort_id)
    cohort.capacity = 1
    db.session.commit()
    for email in ("erika@example.org", "next@example.org"):
        confirmed(client, db, world, email)
        hr_accepts(app, cohort_id, email)
    mine, following = sorted(db.session.scalars(select(Registration)), key=lambda r: r.id)
    assert (mine.state, following.state) == (S.ACCEPTED, S.WAITING)
    status = status_of(db)
    page = client.get(status).get_data(as_text=True)
    assert "Aus der Gruppe austragen" in page
    asking = client.get(f"{status}?withdraw=1").get_data(as_text=True)
    assert "Aus der Gruppe Frühjahr austragen?" in asking
    assert "Ihr Platz geht an die erste Person auf der Warteliste." in asking
    assert "Sie können das nicht selbst rückgängig machen." in asking

    done = withdraw(client, status, "cohort")
    assert done.status_code == 303
    assert "Sie sind aus der Gruppe Frühjahr ausgetragen." in client.get(status).get_data(
        as_text=True
    )
    db.session.expire_all()
    mine, following = sorted(db.session.scalars(select(Registration)), key=lambda r: r.id)
    assert (mine.state, following.state) == (S.WITHDRAWN, S.ACCEPTED)
    states = {e.participant.email: e.status for e in db.session.scalars(select(Enrolment))}
    assert states == {
        "erika@example.org": EnrolmentStatus.WITHDRAWN,
        "next@example.org": EnrolmentStatus.ENROLLED,
    }
    message = newest(db, what="left_cohort")
    assert path(message.payload["link"]["status"]) == status


def test_someone_on_the_waiting_list_leaves_it(app, client, db, world):
    org, cohort_id, _ = world
    from app.models import Cohort

    cohort = db.session.get(Cohort, cohort_id)
    cohort.capacity = 1
    db.session.commit()
    for email in ("placed@example.org", "erika@example.org"):
        confirmed(client, db, world, email)
        hr_accepts(app, cohort_id, email)
    status = status_of(db)
    page = client.get(status).get_data(as_text=True)
    assert "Auf der Warteliste, Position 1" in page
    assert "Warteliste verlassen" in page
    asking = client.get(f"{status}?withdraw=1").get_data(as_text=True)
    assert "Warteliste von Frühjahr verlassen?" in asking
    done = withdraw(client, status, "list")
    assert done.status_code == 303
    assert "Sie haben die Warteliste von Frühjahr verlassen." in client.get(status).get_data(
        as_text=True
    )
    message = newest(db, what="left_list")
    assert str(message.payload["cohort"]) == "Frühjahr"


def test_the_withdrawal_message_in_german_holds_the_status_link(client, db, world):
    from app import notices

    status = confirmed(client, db, world)
    withdraw(client, status, "application")
    message = newest(db, what="withdrawn")
    rendered = notices.render("registration", message.payload, "de")
    assert str(rendered["Subject"]) == "Bewerbung zurückgezogen: Frühjahr"
    body = rendered.get_content()
    assert "wie gewünscht ist Ihre Bewerbung für die Gruppe Frühjahr" in body
    assert status in body


def withdraw_button(page: str) -> str | None:
    """The address of the page's withdraw button, if it has one."""
    found = re.search(r'<a class="button" id="withdraw" href="([^"]+)"', page)
    return found.group(1) if found else None


def test_the_confirmation_page_leads_to_the_status_pages_withdrawal(client, db, world):
    """Changed one's mind before confirming: the page the e-mail link opens
    offers the status page's withdrawal, which asks first as ever."""
    _, cohort_id, address = world
    register(client, cohort_id, address)
    confirm = path(newest(db, what="confirm").payload["link"]["confirm"])
    status = status_of(db)
    page = client.get(confirm)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Meine E-Mail-Adresse bestätigen" in text
    assert "Haben Sie es sich anders überlegt?" in text
    assert "können Sie Ihre Bewerbung hier zurückziehen" in text
    assert withdraw_button(text) == f"{status}?withdraw=1"

    # The status page's page that asks first; its way back leads to the
    # confirmation page the person came from, where they may still confirm.
    asking = client.get(withdraw_button(text), headers={"Referer": f"http://localhost{confirm}"})
    assert asking.status_code == 200
    html = asking.get_data(as_text=True)
    assert "Bewerbung für Frühjahr zurückziehen?" in html
    assert f'<a href="{confirm}">← Zurück, ohne etwas zu ändern</a>' in html
    plain = client.get(withdraw_button(text)).get_data(as_text=True)
    assert f'<a href="{status}">← Zurück, ohne etwas zu ändern</a>' in plain
    assert db.session.scalar(select(Registration)).state is S.REGISTERED  # nothing yet

    done = withdraw(client, status, "application")
    assert done.status_code == 303
    after = client.get(status).get_data(as_text=True)
    assert "Ihre Bewerbung für Frühjahr ist zurückgezogen." in after
    assert "Zurückgezogen" in after
    db.session.expire_all()
    assert db.session.scalar(select(Registration)).state is S.WITHDRAWN
    assert path(newest(db, what="withdrawn").payload["link"]["status"]) == status
    # The confirmation link has nothing left to confirm.
    used = client.get(confirm)
    assert used.status_code == 404
    assert "Dieser Link funktioniert nicht mehr" in used.get_data(as_text=True)


def test_the_page_after_confirming_offers_the_withdrawal(client, db, world):
    _, cohort_id, address = world
    register(client, cohort_id, address)
    confirm = path(newest(db, what="confirm").payload["link"]["confirm"])
    status = status_of(db)
    answer = post_form(client, confirm, {})
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "Ihre E-Mail-Adresse ist bestätigt." in text
    assert withdraw_button(text) == f"{status}?withdraw=1"
    asking = client.get(f"{status}?withdraw=1").get_data(as_text=True)
    assert "Bewerbung für Frühjahr zurückziehen?" in asking
    assert withdraw(client, status, "application").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Registration)).state is S.WITHDRAWN


def test_the_confirmation_page_offers_no_withdrawal_its_link_cannot_make(client, db, world):
    """A later message renewed the status link (the newest message holds the
    working one): the confirmation page cannot lead to it, and offers
    nothing rather than a link that no longer works."""
    from datetime import UTC, datetime

    _, cohort_id, address = world
    register(client, cohort_id, address)
    confirm = path(newest(db, what="confirm").payload["link"]["confirm"])
    registration = db.session.scalar(select(Registration))
    registrations.status_link(registration, datetime.now(UTC))
    db.session.commit()
    text = client.get(confirm).get_data(as_text=True)
    assert "Meine E-Mail-Adresse bestätigen" in text
    assert withdraw_button(text) is None
    assert "Haben Sie es sich anders überlegt?" not in text
    answer = post_form(client, confirm, {})
    assert answer.status_code == 200
    assert withdraw_button(answer.get_data(as_text=True)) is None


def test_a_confirmation_link_alone_does_not_make_the_status_link(app, client, db, world):
    """The status secret beside a confirmation link needs the server's key
    too: whoever saw the confirmation link in a log cannot work out the
    status link (which outlives it) and withdraw the person. With the
    app's key the confirmation page still leads to the working status
    page."""
    _, cohort_id, address = world
    register(client, cohort_id, address)
    confirm = path(newest(db, what="confirm").payload["link"]["confirm"])
    status = status_of(db)
    # The one-way step with nothing but the confirmation secret as its key
    # does not give the status secret.
    secret = confirm.rsplit("/", 1)[1].encode()
    alone = hmac.new(secret, b"registration status", hashlib.sha256).digest()
    assert status.rsplit("/", 1)[1] != base64.urlsafe_b64encode(alone).rstrip(b"=").decode()

    # Under another server key the same confirmation link makes another
    # secret, one the status page does not open: no withdrawal is offered.
    key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-server-key"  # noqa: S105 -- a test key
    try:
        other = client.get(confirm)
    finally:
        app.config["SECRET_KEY"] = key
    assert other.status_code == 200
    text = other.get_data(as_text=True)
    assert "Meine E-Mail-Adresse bestätigen" in text
    assert withdraw_button(text) is None

    text = client.get(confirm).get_data(as_text=True)
    assert withdraw_button(text) == f"{status}?withdraw=1"
    page = client.get(status)
    assert page.status_code == 200
    assert "Bewerbung zurückziehen" in page.get_data(as_text=True)
    asking = client.get(withdraw_button(text))
    assert asking.status_code == 200
    assert "Bewerbung für Frühjahr zurückziehen?" in asking.get_data(as_text=True)


def test_the_confirmation_page_offers_no_withdrawal_once_the_status_link_expired(
    client, db, world
):
    """The confirmation page's way to the status page follows the status
    page's own rule: an expired status link is offered nowhere."""
    _, cohort_id, address = world
    register(client, cohort_id, address)
    confirm = path(newest(db, what="confirm").payload["link"]["confirm"])
    registration = db.session.scalar(select(Registration))
    registration.status_token_expires_at = registration.registered_at
    db.session.commit()
    text = client.get(confirm).get_data(as_text=True)
    assert "Meine E-Mail-Adresse bestätigen" in text
    assert withdraw_button(text) is None
    assert "Haben Sie es sich anders überlegt?" not in text
