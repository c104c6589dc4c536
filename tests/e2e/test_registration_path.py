"""The whole way in, in a real browser on a phone-sized screen, with every
message through a real SMTP server: HR makes the registration address; an
employee registers, confirms their e-mail address by the link they
received, their manager confirms the weekly time by theirs, HR accepts, and
the invitations arrive. A second employee then finds the cohort full and is
put on its waiting list; a withdrawal offers them the place, by e-mail, and
they accept it. The public pages on the way pass axe (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from app import queue
from app.extensions import db
from app.models import Cohort, Enrolment, EnrolmentStatus, Organisation
from tests.e2e.conftest import demo_site, log_in
from tests.e2e.test_accessibility import violations_on
from tests.smtp import mail_server

HR = "hr@metallwerke-neckartal.example"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(browser, tmp_path):
    queue.huey.flush()
    with demo_site(tmp_path) as (app, url), mail_server(app) as server:
        with app.app_context():
            organisation = db.session.scalar(
                select(Organisation).where(Organisation.name.like("Metallwerke%"))
            )
            cohort = db.session.scalar(
                select(Cohort)
                .where(Cohort.organisation_id == organisation.id, Cohort.registration_open)
                .order_by(Cohort.id)
            )
            enrolled = db.session.scalars(
                select(Enrolment).where(
                    Enrolment.cohort_id == cohort.id,
                    Enrolment.status == EnrolmentStatus.ENROLLED,
                )
            ).all()
            # One place left: the first employee takes it, the second waits.
            cohort.capacity = len(enrolled) + 1
            ids = {
                "organisation": organisation.id,
                "cohort": cohort.id,
                "cohort_name": cohort.name,
                "enrolment": enrolled[0].id,
            }
            assert cohort.registration_closes_on >= date.today() + timedelta(days=1)
            db.session.commit()
            db.session.remove()
        server.app = app
        yield url, ids, server
    queue.huey.flush()


def delivered(server, address: str, count: int = 1):
    """The messages to `address`, after the queue has run what is due (in
    the served app, whichever app a test session holds open)."""
    with server.app.app_context():
        queue.run_pending()
    messages = server.inbox.to(address)
    assert len(messages) >= count, [str(m["Subject"]) for m in server.inbox.messages]
    return messages


def body_of(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()


def link_in(message, path: str) -> str:
    [found] = re.findall(rf"https?://\S+{path}\S+", body_of(message))
    return found


def status_link(server, address: str, count: int) -> str:
    """The status link of the newest of `count` registration messages to
    `address` (each holds one; a newer one replaces the earlier)."""
    with_status = [
        m
        for m in delivered(server, address)
        if re.search(r"https?://\S+/registration/(?!confirm)", body_of(m))
    ]
    assert len(with_status) >= count, [str(m["Subject"]) for m in with_status]
    return link_in(with_status[count - 1], "/registration/(?!confirm)")


def register(browser, base, address_link, ids, who, axe, problems):
    """An employee registers on a phone and confirms the address by the
    link in the message; answers their status page's link."""
    first, last, email, manager = who
    context = browser.new_context(locale="de-DE", base_url=base, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(address_link)
    problems += violations_on(page, axe, "registration page")
    page.get_by_label(re.compile(re.escape(ids["cohort_name"]))).check()
    page.get_by_label("Vorname").fill(first)
    page.get_by_label("Nachname").fill(last)
    page.get_by_label("Ihre dienstliche E-Mail-Adresse").fill(email)
    page.get_by_label("Ihre Führungskraft", exact=True).fill(manager[0])
    page.get_by_label("E-Mail-Adresse Ihrer Führungskraft").fill(manager[1])
    page.get_by_role("button", name="Bewerben").click()
    page.get_by_role("heading", name="Bitte sehen Sie in Ihr Postfach").wait_for()
    problems += violations_on(page, axe, "registered")
    context.close()
    return email


def test_from_registering_to_a_place_and_from_the_waiting_list_to_an_offer(browser, site):
    base, ids, server = site
    axe = Axe()
    problems: list[str] = []

    # HR makes the registration address and publishes it.
    hr_context = browser.new_context(locale="de-DE", base_url=base)
    hr = hr_context.new_page()
    hr.set_default_timeout(15_000)
    log_in(hr, HR)
    hr.goto(f"/cohorts/{ids['cohort']}")
    hr.get_by_role("link", name="Bewerbungen und Warteliste").click()
    hr.get_by_role("link", name="Einstellungen der Bewerbung").click()
    hr.get_by_role("button", name="Neue Adresse erstellen").click()
    address_link = hr.get_by_label("Bewerbungsadresse").input_value()
    problems += violations_on(hr, axe, "registration settings with the new address")
    assert "/register/" in address_link

    # The first employee registers and confirms their address.
    erika = register(
        browser,
        base,
        address_link,
        ids,
        (
            "Erika",
            "Mustermann",
            "erika.mustermann@metallwerke-neckartal.example",
            ("Max Vogt", "max.vogt@metallwerke-neckartal.example"),
        ),
        axe,
        problems,
    )
    [confirmation] = delivered(server, erika)
    assert str(confirmation["Subject"]).startswith("Bitte bestätigen Sie Ihre Bewerbung")
    confirm = link_in(confirmation, "/registration/confirm/")
    status = link_in(confirmation, "/registration/(?!confirm)")
    person = browser.new_context(locale="de-DE", base_url=base, viewport=PHONE).new_page()
    person.goto(confirm)
    problems += violations_on(person, axe, "e-mail confirmation")
    person.get_by_role("button", name="Meine E-Mail-Adresse bestätigen").click()
    person.get_by_text("Wartet auf Ihre Führungskraft").wait_for()
    problems += violations_on(person, axe, "status page")
    used = person.goto(confirm)
    assert used.status == 404
    person.get_by_role("heading", name="Dieser Link funktioniert nicht mehr").wait_for()
    problems += violations_on(person, axe, "a used link")

    # The manager confirms the time by their link.
    [to_manager] = delivered(server, "max.vogt@metallwerke-neckartal.example")
    assert "Erika Mustermann" in str(to_manager["Subject"])
    manager = browser.new_context(locale="de-DE", base_url=base, viewport=PHONE).new_page()
    manager.goto(link_in(to_manager, "/registration/manager/"))
    problems += violations_on(manager, axe, "manager's page")
    manager.get_by_label("Gewährte Zeit für die Rolle, Stunden pro Woche").fill("1")
    manager.get_by_role("button", name="Bewerbung bestätigen").click()
    manager.get_by_text("mindestens 2 und höchstens 24 Stunden").wait_for()
    problems += violations_on(manager, axe, "manager's page with an error")
    manager.get_by_label("Gewährte Zeit für die Rolle, Stunden pro Woche").fill("3")
    manager.get_by_role("button", name="Bewerbung bestätigen").click()
    manager.get_by_role("heading", name="Vielen Dank").wait_for()
    status = status_link(server, erika, 2)
    person.goto(status)
    person.get_by_text("Wartet auf die Entscheidung der Personalabteilung").wait_for()
    person.get_by_text("Ihre Führungskraft gewährt 3 Stunden pro Woche").wait_for()

    # HR accepts: the employee is enrolled and their invitations arrive.
    hr.goto(f"/cohorts/{ids['cohort']}/registrations")
    problems += violations_on(hr, axe, "the cohort's registrations")
    hr.get_by_role("button", name="Erika Mustermann annehmen").click()
    hr.get_by_text("Erika Mustermann ist angenommen").wait_for()
    person.goto(status_link(server, erika, 3))
    person.get_by_text(f"Angenommen: Sie sind in der Gruppe {ids['cohort_name']}").wait_for()
    messages = delivered(server, erika, 3)
    subjects = [str(m["Subject"]) for m in messages]
    assert f"Angenommen: {ids['cohort_name']}" in subjects
    invitations = [
        m for m in messages if any(p.get_content_type() == "text/calendar" for p in m.walk())
    ]
    assert invitations, subjects

    # The cohort is full now: the next employee accepted goes on its list.
    paul = register(
        browser,
        base,
        address_link,
        ids,
        (
            "Paul",
            "Wartmann",
            "paul.wartmann@metallwerke-neckartal.example",
            ("Max Vogt", "max.vogt@metallwerke-neckartal.example"),
        ),
        axe,
        problems,
    )
    [confirmation] = delivered(server, paul)
    waiting = browser.new_context(locale="de-DE", base_url=base, viewport=PHONE).new_page()
    waiting.goto(link_in(confirmation, "/registration/confirm/"))
    waiting.get_by_role("button", name="Meine E-Mail-Adresse bestätigen").click()
    waiting.get_by_text("Wartet auf Ihre Führungskraft").wait_for()
    to_manager = delivered(server, "max.vogt@metallwerke-neckartal.example", 2)[-1]
    manager.goto(link_in(to_manager, "/registration/manager/"))
    manager.get_by_label("Gewährte Zeit für die Rolle, Stunden pro Woche").fill("2,5")
    manager.get_by_role("button", name="Bewerbung bestätigen").click()
    manager.get_by_role("heading", name="Vielen Dank").wait_for()
    hr.goto(f"/cohorts/{ids['cohort']}/registrations")
    hr.get_by_role("button", name="Paul Wartmann annehmen").click()
    hr.get_by_text("Die Gruppe ist voll: Paul Wartmann steht auf ihrer Warteliste").wait_for()
    hr.get_by_text("Position 1: Paul Wartmann").wait_for()
    paul_status = status_link(server, paul, 3)
    waiting.goto(paul_status)
    waiting.get_by_text("Auf der Warteliste, Position 1").wait_for()

    # A withdrawal offers the place to the first on the list, who accepts it.
    hr.goto(f"/cohorts/{ids['cohort']}/enrolments/{ids['enrolment']}/withdraw")
    hr.locator("form button.danger").click()
    hr.wait_for_load_state("load")
    offers = [
        m for m in delivered(server, paul, 4) if "Ein Platz ist für Sie frei" in str(m["Subject"])
    ]
    assert len(offers) == 1
    waiting.goto(link_in(offers[0], "/offer/"))
    waiting.get_by_role("button", name="Platz annehmen").click()
    waiting.get_by_role(
        "heading", name=f"Sie sind in {ids['cohort_name']} eingeschrieben"
    ).wait_for()
    # The offer's message holds his status link now (each message renews it).
    paul_status = status_link(server, paul, 4)
    waiting.goto(paul_status)
    waiting.get_by_text(f"Angenommen: Sie sind in der Gruppe {ids['cohort_name']}").wait_for()

    # Paul cannot take part after all: he withdraws on his status page,
    # after the page that says what will happen.
    waiting.get_by_role("link", name="Aus der Gruppe austragen").click()
    waiting.get_by_role(
        "heading", name=f"Aus der Gruppe {ids['cohort_name']} austragen?"
    ).wait_for()
    problems += violations_on(waiting, axe, "withdrawing from the cohort")
    waiting.get_by_role("button", name="Aus der Gruppe austragen").click()
    waiting.get_by_text(f"Sie sind aus der Gruppe {ids['cohort_name']} ausgetragen.").wait_for()
    waiting.get_by_text("Zurückgezogen").wait_for()
    problems += violations_on(waiting, axe, "status page after withdrawing")
    confirmation = [
        m
        for m in delivered(server, paul)
        if str(m["Subject"]) == f"Aus der Gruppe ausgetragen: {ids['cohort_name']}"
    ]
    assert len(confirmation) == 1
    assert paul_status in body_of(confirmation[0])
    hr.goto(f"/cohorts/{ids['cohort']}/registrations")
    hr.get_by_text("Bewerbung zurückgezogen").wait_for()

    hr_context.close()
    assert not problems, "\n" + "\n".join(problems)
