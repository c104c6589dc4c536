"""Taking attendance on a tablet (1024 × 768) in a seminar room: any mark in
one tap, counters that follow at once, and taps made while the Wi-Fi is gone
kept in a visible queue, sent again when it is back, and saved."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

from playwright.sync_api import expect
from sqlalchemy import select, update

from app.extensions import db
from app.models import AttendanceRecord, Enrolment, Role
from app.services import attendance
from cohorts.eligibility import Mark
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, enrolled, organisation_with, served

TODAY = date.today()
# A Monday long enough ago that every session of the compact format has begun.
START = TODAY - timedelta(days=TODAY.weekday(), weeks=20)
SEMINAR = "Seminartag 1"


def world(app) -> tuple[int, int, int]:
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainer@example.org", "Tina Trainerin")
        cohort = compact_cohort(org, "Gruppe 1", START)
        anna = enrolled(cohort, "Anna", "Albers", "anna@example.org")
        enrolled(cohort, "Ben", "Bauer", "ben@example.org")
        db.session.execute(
            update(Enrolment).values(
                enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
            )
        )
        first = attendance.grid(cohort).sessions[0]
        attendance.set_mark(first, anna, Mark.ABSENT, None)
        db.session.commit()
        return cohort.id, first.id, anna.id


def stored_mark(app, session_id: int, person_id: int) -> Mark | None:
    with app.app_context():
        return db.session.scalar(
            select(AttendanceRecord.mark).where(
                AttendanceRecord.session_id == session_id,
                AttendanceRecord.participant_id == person_id,
            )
        )


def log_in(page) -> None:
    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill("trainer@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/dashboard")


def segment(page, person: str, mark: str):
    return page.get_by_role("radio", name=f"{person}, {SEMINAR}: {mark}", exact=True)


def test_one_tap_counters_and_taps_kept_while_offline(browser, tmp_path):
    with served(tmp_path, "attendance_tablet") as (app, base):
        cohort_id, session_id, anna_id = world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1024, "height": 768}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        page.evaluate("window.stillThisPage = true")

        # Absent → present in one tap; the session's counter follows at once.
        absent = segment(page, "Anna Albers", "abwesend")
        expect(absent).to_be_checked()
        rate = page.locator(f"#rate-{session_id} .count")
        expect(rate).to_have_text("0/2")
        decision = page.locator(f"#decision-{anna_id}")
        expect(decision).to_contain_text("Seminartag 1")  # missing, absent
        present = segment(page, "Anna Albers", "anwesend")
        box = present.locator("xpath=..").bounding_box()
        assert box["width"] >= 44  # a finger's target
        assert box["height"] >= 44
        present.locator("xpath=..").click()
        expect(present).to_be_checked()
        expect(rate).to_have_text("1/2")
        expect(decision).not_to_contain_text("Seminartag 1")
        cell = page.locator("td", has=present)
        expect(cell.locator(".status")).to_have_text("✓ anwesend")
        assert stored_mark(app, session_id, anna_id) is Mark.PRESENT
        assert page.evaluate("window.stillThisPage") is True  # no reload

        # By keyboard: the arrow keys move within the cell's segments and save.
        present.focus()
        page.keyboard.press("ArrowRight")
        partly = segment(page, "Anna Albers", "teilweise")
        expect(partly).to_be_checked()
        expect(cell.locator(".status")).to_have_text("◐ teilweise (30 Min. verpasst)")
        expect(rate).to_have_text("1/2")  # partly counts as present in the rate

        # The Wi-Fi goes: Ben's tap waits in a visible queue, and is not lost.
        context.set_offline(True)
        ben_excused = segment(page, "Ben Bauer", "entschuldigt")
        ben_excused.locator("xpath=..").click()
        queue = page.locator("#attendance-queue")
        expect(queue).to_be_visible()
        expect(queue).to_contain_text("1 Änderung noch nicht gespeichert")
        ben_cell = page.locator("td", has=ben_excused)
        expect(ben_cell).to_have_class("mark mark-not_recorded queued")
        expect(ben_cell.locator(".cell-note")).to_have_text("Noch nicht gespeichert.")
        segment(page, "Ben Bauer", "abwesend").locator("xpath=..").click()  # changed her mind

        # Back online: the queue is sent at once, and says so.
        context.set_offline(False)
        expect(queue).to_contain_text("Alle Änderungen sind gespeichert.")
        expect(ben_cell).not_to_have_class("queued")
        expect(ben_cell.locator(".status")).to_have_text("✗ abwesend")
        page.reload()
        expect(segment(page, "Ben Bauer", "abwesend")).to_be_checked()
        expect(segment(page, "Anna Albers", "teilweise")).to_be_checked()
        context.close()


def wait_until_sent(page, key, seconds=10.0):
    """Polls from here, not with wait_for_function: the page's CSP forbids
    the eval that Playwright's in-page polling needs."""
    deadline = monotonic() + seconds
    while page.evaluate("key => localStorage.getItem(key)", key) is not None:
        assert monotonic() < deadline, "the queued tap was never sent"
        page.wait_for_timeout(100)


def test_a_tap_made_offline_survives_a_reload(browser, tmp_path):
    with served(tmp_path, "attendance_reload") as (app, base):
        cohort_id, session_id, anna_id = world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1024, "height": 768}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page)
        grid = f"/cohorts/{cohort_id}/attendance"
        page.goto(grid)
        # The server cannot be reached for the grid's taps (a captive Wi-Fi).
        page.route(f"**{grid}/*/*", lambda route: route.abort("internetdisconnected"))
        segment(page, "Anna Albers", "entschuldigt").locator("xpath=..").click()
        expect(page.locator("#attendance-queue")).to_contain_text("noch nicht gespeichert")
        assert stored_mark(app, session_id, anna_id) is Mark.ABSENT
        page.close()
        # The same tablet opens the grid again later: the tap is still there
        # and is sent now.
        page = context.new_page()
        page.goto(grid)
        expect(segment(page, "Anna Albers", "entschuldigt")).to_be_checked()
        wait_until_sent(page, f"qualiplan.attendance.{cohort_id}")
        assert stored_mark(app, session_id, anna_id) is Mark.EXCUSED
        expect(
            page.locator("td", has=segment(page, "Anna Albers", "entschuldigt")).locator(".status")
        ).to_have_text("E entschuldigt")
        context.close()
