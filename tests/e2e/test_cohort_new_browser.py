"""Planning a cohort in the browser: changing the organisation brings its
region and time zone unless the planner chose others, and offers that
organisation's own versions of curricula only."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Cohort, Organisation
from tests.e2e.conftest import demo_site, log_in

TRAINER = "trainer.b@qualiplan.example"
FORK = "Lernbegleitung kompakt online – für Metallwerke Neckartal GmbH, Version"


def visible_curricula(page) -> list[str]:
    return page.locator("#version option").evaluate_all(
        "options => options.filter(o => !o.hidden && !o.disabled).map(o => o.textContent.trim())"
    )


def test_region_time_zone_and_forks_follow_the_organisation(browser, tmp_path):
    with demo_site(tmp_path) as (app, url):
        with app.app_context():
            neckar = db.session.scalar(
                select(Organisation).where(Organisation.name == "Metallwerke Neckartal GmbH")
            )
            neckar.default_timezone = "Europe/Vienna"  # so that the change shows
            db.session.commit()
            db.session.remove()
        context = browser.new_context(locale="de-DE", base_url=url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, TRAINER)
        page.goto("/cohorts/new")
        organisation = page.get_by_label("Organisation")
        region = page.get_by_label("Region", exact=True)
        timezone = page.get_by_label("Zeitzone")
        # Elbe Logistik comes first: Sachsen, Berlin; the Metallwerke's fork is hidden.
        assert organisation.locator("option:checked").inner_text() == "Elbe Logistik AG"
        assert (region.input_value(), timezone.input_value()) == ("DE-SN", "Europe/Berlin")
        assert not any(label.startswith(FORK) for label in visible_curricula(page))

        organisation.select_option(label="Metallwerke Neckartal GmbH")
        assert (region.input_value(), timezone.input_value()) == ("DE-BW", "Europe/Vienna")
        forks = [label for label in visible_curricula(page) if label.startswith(FORK)]
        assert len(forks) == 1
        page.get_by_label("Curriculum", exact=True).select_option(label=forks[0])

        # Back to Elbe Logistik: its values again, and the fork no longer chosen.
        organisation.select_option(label="Elbe Logistik AG")
        assert (region.input_value(), timezone.input_value()) == ("DE-SN", "Europe/Berlin")
        chosen = page.locator("#version option:checked").inner_text()
        assert not chosen.startswith(FORK)

        # A region chosen by hand stays when the organisation changes.
        region.select_option(label="Bayern")
        organisation.select_option(label="Metallwerke Neckartal GmbH")
        assert (region.input_value(), timezone.input_value()) == ("DE-BY", "Europe/Vienna")

        page.get_by_label("Curriculum", exact=True).select_option(label=forks[0])
        page.get_by_label("Name der Gruppe").fill("Test Ulm 01/2027")
        start = date.today() + timedelta(days=200)
        start -= timedelta(days=start.weekday())
        page.get_by_label("Startdatum").fill(start.isoformat())
        page.get_by_role("button", name="Gruppe planen").click()
        page.wait_for_url(re.compile(r"/cohorts/\d+$"))
        assert page.get_by_text("Die Gruppe wurde geplant.").is_visible()
        context.close()
        with app.app_context():
            cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Test Ulm 01/2027"))
            assert (cohort.organisation.name, cohort.region, cohort.timezone) == (
                "Metallwerke Neckartal GmbH",
                "DE-BY",
                "Europe/Vienna",
            )
            db.session.remove()
