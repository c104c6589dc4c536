"""The participants list in a browser: an HR clerk finds people however
their names are typed, ticks a page of them and enrols them in a cohort
after the confirmation page; on a phone a pasted list of addresses names
the ones it does not know."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from app.extensions import db
from app.models import Participant, Role
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, organisation_with, served

# A cohort well in the future, whatever today is: open for enrolment.
START = date.today() + timedelta(weeks=10)


def world(app) -> None:
    with app.app_context():
        org = organisation_with(Role.HR, "hr@example.org", "Hanna Personal")
        compact_cohort(org, "Herbstgruppe", START)
        names = [("Anna", "Müller"), ("Bernd", "Mueller"), ("Ömer", "Çelik"), ("Jörg", "Kühn")]
        names += [(f"Person{n:02}", "Zimmermann") for n in range(56)]
        for n, (first, last) in enumerate(names):
            db.session.add(
                Participant(
                    organisation=org,
                    first_name=first,
                    last_name=last,
                    email=f"p{n}@muster.example",
                    department="Pflege" if n < 4 else "Verwaltung",
                )
            )
        db.session.commit()


def log_in(page) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill("hr@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/dashboard")


def test_find_tick_and_enrol_a_page_of_people(browser, tmp_path):
    with served(tmp_path, "participants_desktop") as (app, base):
        world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1280, "height": 800}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page)
        page.goto("/participants")
        expect(page.locator("#participant-summary")).to_contain_text("60 Personen")
        expect(page.locator("nav.pages")).to_contain_text("2")

        page.get_by_label("Name, E-Mail-Adresse, Abteilung, Standort oder Personalnummer").fill(
            "mueller"
        )
        page.get_by_role("button", name="Teilnehmende anzeigen").click()
        rows = page.locator("table.participants tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Mueller, Bernd")
        expect(rows.last).to_contain_text("Müller, Anna")

        page.goto("/participants?department=Pflege")
        # The box in the head ticks everyone on the page (it needs the script).
        page.get_by_label("Alle auf dieser Seite anhaken").check()
        expect(page.locator("input[name=person]:checked")).to_have_count(4)
        page.locator("#bulk-action").select_option("enrol")
        page.locator("#bulk-cohort").select_option(label=f"Herbstgruppe ({START:%d.%m.%Y})")
        page.get_by_role("button", name="Weiter").first.click()

        expect(page.locator("h1")).to_have_text("In „Herbstgruppe“ einschreiben")
        expect(page.get_by_text("4 Personen werden eingeschrieben")).to_be_visible()
        page.get_by_role("button", name="4 Personen einschreiben").click()
        expect(page.locator(".flash.success")).to_have_text("4 Personen wurden eingeschrieben.")
        page.goto("/participants?cohort=none")
        expect(page.locator("#participant-summary")).to_contain_text("56 Personen")
        context.close()


def test_a_pasted_list_on_a_phone(browser, tmp_path):
    with served(tmp_path, "participants_phone") as (app, base):
        world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 390, "height": 844}, is_mobile=True
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page)
        page.goto("/participants")
        # Rows are cards on a phone, the page no wider than the screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        # A card names what the person has: nobody here is in a cohort or
        # holds a certificate, so no card shows those labels beside nothing.
        card = page.locator("table.participants tbody tr").first
        expect(card.locator('td[data-label="Abteilung"]')).to_be_visible()
        expect(card.locator('td[data-label="Gruppe"]')).to_be_hidden()
        expect(card.locator('td[data-label="Zertifikat"]')).to_be_hidden()
        page.get_by_text("Personen aus einer Liste von E-Mail-Adressen").click()
        page.locator("#paste-list").fill(
            "p0@muster.example; niemand@muster.example\np2@muster.example"
        )
        page.locator("#paste-action").select_option("links")
        expect(page.locator("#paste-cohort")).to_be_hidden()
        page.locator("details.paste").get_by_role("button", name="Weiter").click()
        expect(page.get_by_text("Die Liste nennt 2 bekannte Personen.")).to_be_visible()
        expect(page.get_by_text("Zeile 1: niemand@muster.example")).to_be_visible()
        expect(
            page.get_by_text("2 Personen bekommen einen neuen persönlichen Link")
        ).to_be_visible()
        context.close()
