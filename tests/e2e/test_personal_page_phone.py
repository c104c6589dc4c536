"""The personal page on a phone (390×844), in Chromium: the digital
credential is one action that opens to the files in words; subscribing
ends on the page itself, so a reload shows the page (not an error) and no
second address; a replaced link says until when it works, and an ended one
has a page of its own without the staff's login. Each passes axe."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import AccessToken, Certificate, Purpose
from app.services import personal_links, tokens
from app.services.policy import Actor
from tests.e2e.conftest import demo_site

PHONE = {"width": 390, "height": 844}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def assert_fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def assert_axe_passes(page, axe: Axe) -> None:
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    assert [v["id"] for v in found] == [], found


def test_the_personal_page_on_a_phone(browser, tmp_path):
    with demo_site(tmp_path) as (app, base):
        with app.app_context():
            person_id = db.session.scalar(
                select(Certificate.participant_id).order_by(Certificate.id).limit(1)
            )
            _, old = personal_links.create_link(Actor.system(), person_id)
            _, token = personal_links.create_link(Actor.system(), person_id)
            db.session.commit()
        axe = Axe()
        phone = browser.new_context(locale="de-DE", viewport=PHONE)
        page = phone.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{base}/p/{token}")
        assert_fits(page)

        # The digital credential: one action; the files in words behind it.
        [first] = page.locator("details.credential-downloads").all()[:1]
        action = first.locator("summary")
        expect(action).to_have_text("Digitalen Nachweis speichern")
        badge = first.get_by_role("link", name="Badge-Bild (PNG)")
        expect(badge).to_be_hidden()
        action.click()
        for name in ("Badge-Bild (PNG)", "Nachweisdatei (JSON)", "Signierte Nachweisdatei (JWT)"):
            link = first.get_by_role("link", name=name)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"]
        expect(first).to_contain_text("für Prüfstellen und Arbeitgeber")
        assert_fits(page)
        assert_axe_passes(page, axe)

        # Subscribing ends on the page, with the address shown once.
        page.get_by_role("button", name="Kalender abonnieren").click()
        page.wait_for_url(re.compile(rf"/p/{re.escape(token)}#calendar-title$"))
        address = page.get_by_label("Adresse für Google Kalender oder Outlook im Web")
        expect(address).to_have_value(re.compile(r"/feeds/"))
        assert_fits(page)
        assert_axe_passes(page, axe)
        answer = page.reload()
        assert answer.status == 200
        expect(page.get_by_role("heading", name="Ihr Terminplan", exact=False)).to_be_visible()
        expect(page.locator("#feed-url")).to_have_count(0)
        with app.app_context():
            assert tokens.current(Purpose.PARTICIPANT_FEED, person_id) is not None
            issued = db.session.scalar(
                select(func.count())
                .select_from(AccessToken)
                .where(
                    AccessToken.purpose == Purpose.PARTICIPANT_FEED,
                    AccessToken.subject_id == person_id,
                )
            )
            assert issued == 1  # the reload made no second address

        # The link it replaced still works and says until when.
        page.goto(f"{base}/p/{old}")
        expect(page.locator("#link-replaced")).to_contain_text("Dieser Link funktioniert noch bis")
        assert_axe_passes(page, axe)

        # Ended by HR: a page of its own, for a participant.
        with app.app_context():
            personal_links.end_access(Actor.system(), person_id)
            db.session.commit()
        for ended in (old, token):
            answer = page.goto(f"{base}/p/{ended}")
            assert answer.status == 404
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Dieser Link gilt nicht mehr"
            )
            expect(
                page.get_by_text("Ihre Personalabteilung kann Ihnen einen neuen schicken.")
            ).to_be_visible()
            expect(page.get_by_role("link", name="Anmelden")).to_have_count(0)
            expect(page.get_by_role("navigation", name="Hauptmenü")).to_have_count(0)
            assert_fits(page)
        assert_axe_passes(page, axe)
        phone.close()
