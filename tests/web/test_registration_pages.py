"""The pages of registering, as a browser uses them: the public registration
page and its form (errors at their fields, nothing saved), the e-mail link,
the manager's page, the status page, HR's page of the cohort's
registrations, the cohort's edit form and the registration settings."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import throttle
from app.models import Cohort, Notification, Participant, Role
from app.models.registrations import Registration, RegistrationState
from app.services import registrations
from app.services.policy import Actor
from tests.web.helpers import log_in, post_form

S = RegistrationState


@pytest.fixture(autouse=True)
def fresh_budget(app):
    """Every test registers from 127.0.0.1: each starts with the full budget."""
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def world(db, make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, name="Frühjahr <A>", start=date.today() + timedelta(days=60))
    registrations.change_cohort_registration(
        Actor.system(), cohort.id, open_=True, closes_on=None, today=date.today()
    )
    address = registrations.renew_address(Actor.system(), org.id)
    db.session.commit()
    return org, cohort, address


FORM = {
    "first_name": "Erika",
    "last_name": "Muster",
    "email": "erika@example.org",
    "department": "",
    "manager_name": "Max Chef",
    "manager_email": "chef@example.org",
}


def link(db, what: str, key: str | None = None) -> str:
    found = [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.kind == "registration" and n.payload["what"] == what
    ]
    value = found[-1].payload["link"]
    return re.sub(r"^https?://[^/]+", "", value[key] if key else value)


def register(client, cohort, address, **changes):
    page = f"/register/{address}"
    return post_form(client, page, {"cohort": cohort.id, **FORM, **changes})


def test_the_public_page_lists_the_open_cohorts_and_takes_a_registration(client, db, world):
    _, cohort, address = world
    page = client.get(f"/register/{address}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Für die Qualifizierung zur Lernbegleitung bewerben" in html
    assert "Frühjahr &lt;A&gt;" in html
    assert 'name="csrf_token"' in html
    answer = register(client, cohort, address)
    assert answer.status_code == 200
    assert "Bitte sehen Sie in Ihr Postfach" in answer.get_data(as_text=True)
    [registration] = db.session.scalars(select(Registration)).all()
    assert registration.state is S.REGISTERED
    assert registration.manager_email == "chef@example.org"


def test_every_error_of_the_form_is_shown_at_its_field_and_nothing_saved(client, db, world):
    _, cohort, address = world
    answer = register(client, cohort, address, first_name="", email="kein-at", manager_email="")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "Bitte korrigieren Sie die markierten Felder" in html
    assert 'id="first_name-error"' in html
    assert 'id="email-error"' in html
    assert 'id="manager_email-error"' in html
    assert "Bitte nennen Sie die E-Mail-Adresse Ihrer Führungskraft." in html
    assert db.session.scalars(select(Registration)).all() == []
    assert db.session.scalars(select(Participant)).all() == []


def test_without_the_csrf_token_or_with_an_unknown_address_nothing_happens(client, db, world):
    _, cohort, address = world
    refused = client.post(f"/register/{address}", data={"cohort": cohort.id, **FORM})
    assert refused.status_code == 400
    assert client.get("/register/unknown").status_code == 404
    assert db.session.scalars(select(Registration)).all() == []


def test_a_closed_cohort_is_refused_at_its_field(client, db, world, make):
    org, cohort, address = world
    other = make.cohort(org, name="Zu", start=date.today() + timedelta(days=30))
    answer = register(client, other, address)
    assert answer.status_code == 400
    assert 'id="cohort-error"' in answer.get_data(as_text=True)
    assert db.session.scalars(select(Registration)).all() == []


def test_from_the_e_mail_link_through_the_manager_to_hr(client, db, world):
    _, cohort, address = world
    cohort_id = cohort.id
    register(client, cohort, address)
    confirm = link(db, "confirm", "confirm")
    status = link(db, "confirm", "status")
    assert "Wartet auf die Bestätigung Ihrer E-Mail-Adresse" in client.get(status).get_data(
        as_text=True
    )
    # Opening the link changes nothing; the button does.
    page = client.get(confirm)
    assert page.status_code == 200
    assert "Meine E-Mail-Adresse bestätigen" in page.get_data(as_text=True)
    confirmed = post_form(client, confirm, {})
    assert confirmed.status_code == 200
    assert "Wartet auf Ihre Führungskraft" in confirmed.get_data(as_text=True)
    used = client.get(confirm)  # once only
    assert used.status_code == 404
    assert "noch einmal auf der Bewerbungsseite Ihrer Organisation" in used.get_data(as_text=True)

    manager = link(db, "manager")
    page = client.get(manager)
    assert "Erika Muster möchte Lernbegleiter:in werden" in page.get_data(as_text=True)
    too_little = post_form(client, f"{manager}/confirm", {"weekly_hours": "1,5"}, form_url=manager)
    assert too_little.status_code == 400
    html = too_little.get_data(as_text=True)
    assert 'id="weekly_hours-error"' in html
    assert "mindestens 2 und höchstens 24 Stunden" in html
    not_a_number = post_form(
        client, f"{manager}/confirm", {"weekly_hours": "zwei"}, form_url=manager
    )
    assert "Bitte geben Sie Stunden an" in not_a_number.get_data(as_text=True)
    done = post_form(client, f"{manager}/confirm", {"weekly_hours": "2,5"}, form_url=manager)
    assert done.status_code == 200
    assert "mit 2,5 Stunden pro Woche bestätigt" in done.get_data(as_text=True)
    assert client.get(manager).status_code == 404
    # Every message holds the status link; a newer one replaces the earlier.
    assert client.get(status).status_code == 404
    status = link(db, "manager_confirmed", "status")
    assert "Wartet auf die Entscheidung der Personalabteilung" in client.get(status).get_data(
        as_text=True
    )

    log_in(client, "hr@example.org")
    staff = f"/cohorts/{cohort_id}/registrations"
    html = client.get(staff).get_data(as_text=True)
    assert "Bewerbungen für Frühjahr &lt;A&gt;" in html
    assert "Die Führungskraft gewährt 2,5 Stunden pro Woche" in html
    registration = db.session.scalar(select(Registration))
    accepted = post_form(
        client, f"{staff}/accept", {"registration": registration.id}, form_url=staff
    )
    assert accepted.status_code == 303
    assert "ist angenommen und in Frühjahr" in client.get(staff).get_data(as_text=True)
    status = link(db, "accepted", "status")
    html = client.get(status).get_data(as_text=True)
    assert "Angenommen: Sie sind in der Gruppe Frühjahr &lt;A&gt;" in html
    # Each step is in the cohort's history, in words.
    history = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    for step in (
        "Erika Muster hat sich beworben",
        "Erika Muster hat die E-Mail-Adresse bestätigt",
        "die Führungskraft von Erika Muster hat die Zeit für die Rolle bestätigt",
        "hat die Bewerbung von Erika Muster angenommen",
    ):
        assert step in history


def test_hr_declines_only_with_a_reason(client, db, world):
    _, cohort, address = world
    cohort_id = cohort.id
    register(client, cohort, address)
    registration_id = db.session.scalar(select(Registration.id))
    log_in(client, "hr@example.org")
    staff = f"/cohorts/{cohort_id}/registrations"
    chosen = {"registration": registration_id}
    refused = post_form(client, f"{staff}/decline", {**chosen, "reason": ""}, form_url=staff)
    assert refused.status_code == 400
    assert f'id="reason-{registration_id}-error"' in refused.get_data(as_text=True)
    declined = post_form(
        client, f"{staff}/decline", {**chosen, "reason": "Kein Platz"}, form_url=staff
    )
    assert declined.status_code == 303
    db.session.expire_all()
    assert db.session.get(Registration, registration_id).decline_reason == "Kein Platz"


def test_a_trainer_sees_but_does_not_decide_and_another_organisation_finds_nothing(
    app, client, db, world, make
):
    org, cohort, address = world
    cohort_id = cohort.id
    register(client, cohort, address)
    registration_id = db.session.scalar(select(Registration.id))
    log_in(client, "trainer@example.org")
    staff = f"/cohorts/{cohort_id}/registrations"
    html = client.get(staff).get_data(as_text=True)
    assert "Erika Muster" in html
    assert "annehmen</button>" not in html
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/cohorts").get_data(as_text=True)
    )
    response = client.post(
        f"{staff}/decline",
        data={"csrf_token": token.group(1), "registration": registration_id, "reason": "x"},
    )
    assert response.status_code == 403
    other = make.organisation("Andere GmbH")
    make.user(Role.HR, [other], email="hr@andere.example")
    stranger = app.test_client()
    log_in(stranger, "hr@andere.example")
    assert stranger.get(staff).status_code == 404


def test_the_cohort_edit_form_opens_registration_with_a_closing_date(client, db, world, make):
    org, _, _ = world
    make.user(Role.ADMIN, [org], email="admin@example.org")
    cohort_id = make.cohort(org, name="Herbst", start=date(2027, 9, 6)).id
    log_in(client, "admin@example.org")
    page = f"/cohorts/{cohort_id}/edit"
    html = client.get(page).get_data(as_text=True)
    assert "Offen für Bewerbungen" in html
    assert "Bewerbungsschluss" in html
    form = {"name": "Herbst", "capacity": "", "venue": "", "online_link": "", "version": "1"}
    late = post_form(
        client, page, {**form, "registration_open": "y", "registration_closes_on": "06.09.2027"}
    )
    assert late.status_code == 400
    assert 'id="registration_closes_on-error"' in late.get_data(as_text=True)
    saved = post_form(
        client, page, {**form, "registration_open": "y", "registration_closes_on": "01.08.2027"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    assert cohort.registration_open
    assert cohort.registration_closes_on == date(2027, 8, 1)


def test_hr_switches_the_manager_step_off_and_renews_the_address(app, client, db, world):
    org, cohort, address = world
    org_id = org.id
    log_in(client, "hr@example.org")
    page = f"/organisations/{org_id}/registration"
    assert "Bewerbungsadresse" in client.get(page).get_data(as_text=True)
    # The box unticked; the rest as the page shows it.
    kept = {"waiting_list_mode": "offer", "offer_days": "3"}
    assert post_form(client, page, kept).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(org), org_id).manager_step is False
    renewed = post_form(client, f"{page}/address", {}, form_url=page)
    assert renewed.status_code == 200
    [fresh] = re.findall(
        r'value="(https?://[^"]+/register/[^"]+)"', renewed.get_data(as_text=True)
    )
    assert client.get(f"/register/{address}").status_code == 404
    anyone = app.test_client()
    assert anyone.get(re.sub(r"^https?://[^/]+", "", fresh)).status_code == 200


def test_hr_invites_someone_and_the_link_opens_the_form_filled_in(app, client, db, world, make):
    org, cohort, _ = world
    cohort_id = cohort.id
    person_id = make.participant(
        org, first_name="Paul", manager_name="Mia Leitung", manager_email="mia@example.org"
    ).id
    log_in(client, "hr@example.org")
    staff = f"/cohorts/{cohort_id}/registrations"
    sent = post_form(client, f"{staff}/invite", {"participant": person_id}, form_url=staff)
    assert sent.status_code == 303
    invitation = link(db, "invitation", "confirm")
    person_client = app.test_client()
    html = person_client.get(invitation).get_data(as_text=True)
    assert 'value="mia@example.org"' in html
    answered = post_form(
        person_client,
        invitation,
        {"manager_name": "Mia Leitung", "manager_email": "mia@example.org"},
    )
    assert answered.status_code == 200
    assert "Wartet auf Ihre Führungskraft" in answered.get_data(as_text=True)


def test_one_client_registering_again_and_again_is_slowed_down(client, db, world):
    _, cohort, address = world
    answers = [
        register(client, cohort, address, email=f"person{n}@example.org").status_code
        for n in range(21)
    ]
    assert answers[:20] == [200] * 20
    assert answers[20] == 429


def test_the_links_answers_need_the_csrf_token(client, db, world):
    _, cohort, address = world
    register(client, cohort, address)
    confirm = link(db, "confirm", "confirm")
    assert client.post(confirm).status_code == 400
    post_form(client, confirm, {})
    manager = link(db, "manager")
    assert client.post(f"{manager}/confirm", data={"weekly_hours": "3"}).status_code == 400
    assert client.post(f"{manager}/refuse", data={"reason": ""}).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Registration)).state is S.EMAIL_CONFIRMED


def test_hr_is_warned_before_accepting_and_may_accept_all_the_same(client, db, world, make):
    from app.models import Enrolment

    org, cohort, address = world
    cohort_id = cohort.id
    other_id = make.cohort(org, name="Herbst", start=date.today() + timedelta(days=90)).id
    register(client, SimpleNamespace(id=cohort_id), address)
    post_form(client, link(db, "confirm", "confirm"), {})
    manager = link(db, "manager")
    post_form(client, f"{manager}/confirm", {"weekly_hours": "2"}, form_url=manager)
    registration_id, person_id = db.session.execute(
        select(Registration.id, Registration.participant_id)
    ).one()
    db.session.add(Enrolment(cohort_id=other_id, participant_id=person_id))
    db.session.commit()
    log_in(client, "hr@example.org")
    staff = f"/cohorts/{cohort_id}/registrations"
    chosen = {"registration": registration_id}
    warned = post_form(client, f"{staff}/accept", chosen, form_url=staff)
    assert warned.status_code == 409
    html = warned.get_data(as_text=True)
    assert "Herbst" in html
    assert "Trotzdem annehmen" in html
    assert 'data-code="enrolled_elsewhere"' in html
    accepted = post_form(client, f"{staff}/accept", {**chosen, "acknowledge": "y"}, form_url=staff)
    assert accepted.status_code == 303
    db.session.expire_all()
    assert db.session.get(Registration, registration_id).state is S.ACCEPTED


def test_hr_chooses_how_freed_places_go_and_whether_make_ups_are_shared(client, db, world):
    org, _, _ = world
    org_id = org.id
    log_in(client, "hr@example.org")
    page = f"/organisations/{org_id}/registration"
    shown = client.get(page).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="offer"', shown)  # as stored
    wrong = post_form(
        client, page, {"manager_step": "y", "waiting_list_mode": "offer", "offer_days": "0"}
    )
    assert wrong.status_code == 422
    assert "Ein Angebot gilt 1 bis 14 Tage." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(org), org_id).offer_days == 3  # unchanged
    done = post_form(
        client,
        page,
        {"manager_step": "y", "waiting_list_mode": "move_up", "share_make_ups": "y"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    stored = db.session.get(type(org), org_id)
    assert (stored.waiting_list_mode, stored.offer_days, stored.share_make_ups) == (
        "move_up",
        3,
        True,
    )
    assert stored.manager_step is True
