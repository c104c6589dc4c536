"""The attendance grid's script when the server refuses a tap: the reason is
shown above the grid and at the cell, the cell keeps its mark, the tap is not
sent again, and the page stays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from playwright.sync_api import expect
from sqlalchemy import update

from app.extensions import db
from app.models import (
    Cohort,
    CohortState,
    Enrolment,
    Role,
)
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, enrolled, organisation_with, served

TODAY = date.today()
START = TODAY - timedelta(days=TODAY.weekday(), weeks=20)


def world(app) -> int:
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainer@example.org", "Tina Trainerin")
        cohort = compact_cohort(org, "Gruppe 1", START)
        enrolled(cohort, "Anna", "Albers", "anna@example.org")
        db.session.execute(
            update(Enrolment).values(
                enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
            )
        )
        db.session.commit()
        return cohort.id


def test_a_refused_tap_shows_its_reason_and_keeps_the_mark(browser, tmp_path):
    with served(tmp_path, "grid_refusal") as (app, base):
        cohort_id = world(app)
        context = browser.new_context(locale="en-GB", base_url=base)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login?lang=en")
        page.locator("input[name=email]").fill("trainer@example.org")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url("**/dashboard")
        page.goto(f"/cohorts/{cohort_id}/attendance")
        page.evaluate("window.stillThisPage = true")
        cell = page.locator("td", has=page.locator(".segments")).first
        present = cell.locator("input[type=radio][value=present]")
        absent = cell.locator("input[type=radio][value=absent]")
        expect(cell.locator(".status")).to_have_text("· open")
        present.locator("xpath=..").click()
        expect(cell.locator(".status")).to_have_text("✓ present")
        # Meanwhile someone completes the cohort; the grid still shows segments.
        with app.app_context():
            db.session.get(Cohort, cohort_id).state = CohortState.COMPLETED
            db.session.commit()
        absent.locator("xpath=..").click()
        refusal = page.locator("#mark-refusal")
        expect(refusal).to_be_visible()
        expect(refusal).to_have_text(
            "The cohort is completed; its attendance can change only after an admin "
            "reopens it. Nothing was saved."
        )
        # Shown at the cell too, the cell keeps its mark, and it is not sent again.
        expect(cell.locator(".cell-note")).to_have_text(
            "The cohort is completed; its attendance can change only after an admin reopens it."
        )
        expect(present).to_be_checked()
        expect(cell.locator(".status")).to_have_text("✓ present")
        expect(page.locator("#attendance-queue")).to_be_hidden()
        assert page.evaluate("window.stillThisPage") is True  # no reload, no other page
        context.close()
