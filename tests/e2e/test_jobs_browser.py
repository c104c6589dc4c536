"""A job in a browser: a trainer forms the tandems of a pool of 61 people;
the job's page shows the bar where the worker is (polled by static/jobs.js,
no reload by hand), and the proposal's link once it is done. The worker is
a thread beside the server that runs what the queue holds."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app import queue
from app.extensions import db
from app.models import Role
from app.services import jobs
from app.services import tandems as tandem_service
from tests.conftest import PASSWORD
from tests.e2e.test_accessibility import violations_on
from tests.real_server import compact_cohort, enrolled, organisation_with, served

START = date.today() + timedelta(weeks=10)


class Worker:
    """Runs queued tasks until stopped, as `qualiplan worker` would."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.is_set():
            if not queue.run_pending():
                self.stopped.wait(0.05)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def world(app) -> int:
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainerin@example.org", "Tina Trainerin")
        cohort = compact_cohort(org, "Großgruppe", START)
        for n in range(jobs.TANDEMS_FROM):
            enrolled(cohort, f"Person{n:02}", "Muster", f"p{n}@muster.example")
        db.session.commit()
        return cohort.id


def test_the_bar_follows_the_worker_to_the_proposal(browser, tmp_path, monkeypatch):
    # The pairing waits for the test, so the page can be seen in the middle.
    go_on = threading.Event()
    compute = tandem_service.compute

    def held(given):
        assert go_on.wait(20)
        return compute(given)

    monkeypatch.setattr(tandem_service, "compute", held)
    queue.huey.flush()
    with served(tmp_path, "jobs_browser") as (app, base), Worker():
        cohort_id = world(app)
        context = browser.new_context(locale="de-DE", base_url=base)
        page = context.new_page()
        page.set_default_timeout(10_000)
        polls = []
        page.on("request", lambda r: polls.append(r.url) if r.url.endswith(".json") else None)
        page.goto("/login")
        page.locator("input[name=email]").fill("trainerin@example.org")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url("**/dashboard")

        page.goto(f"/cohorts/{cohort_id}/tandems")
        page.get_by_role("button", name="Tandems bilden").click()
        page.wait_for_url("**/jobs/*")
        job_url = page.url
        expect(page.locator("h1")).to_have_text("Tandems bilden: Großgruppe")
        bar = page.get_by_label("Fortschritt")
        # The worker has read the pool and is forming it: one step of three.
        expect(bar).to_have_attribute("value", "1")
        expect(bar).to_have_attribute("max", "3")
        expect(page.get_by_role("status")).to_have_text(
            "Tandems aus 61 Personen werden gebildet …"
        )
        expect(page.locator("#job-count")).to_have_text("1 von 3")
        assert page.url == job_url
        axe = Axe()
        assert violations_on(page, axe, "job under way") == []

        go_on.set()
        expect(page.get_by_role("heading", name="Fertig")).to_be_visible()
        expect(page.get_by_text("Ein Vorschlag mit 30 Tandems ist fertig")).to_be_visible()
        assert violations_on(page, axe, "job done") == []
        assert polls, "the page asked for the job's state"
        page.get_by_role("link", name="Zum Vorschlag").click()
        page.wait_for_url(f"**/cohorts/{cohort_id}/tandems")
        expect(page.get_by_role("button", name="Diese Tandems bestätigen")).to_be_visible()
        context.close()
