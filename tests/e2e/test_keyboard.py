"""By keyboard alone: take attendance on a tablet (1024 × 768) and issue a
certificate on a desktop, with the focus visible at every stop of the Tab key
and in reading order; and a participant in two cohorts reads them apart on a
phone (390 × 844). Dates are counted from a Monday, whatever today is."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from playwright.sync_api import expect
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    CohortState,
    Enrolment,
    Role,
)
from app.services import attendance
from app.services.personal_links import create_link
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, enrolled, organisation_with, served

TODAY = date.today()
# A Monday long enough ago that every session of the compact format is over.
START = TODAY - timedelta(days=TODAY.weekday(), weeks=20)
SEMINAR = "Seminartag 1"

# Where the focus is, whether it shows (an outline of 2 px or more on the
# control, or on the segment a radio button stands for), whether it is on the
# screen and not hidden under something else, and what it is called.
FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shown = el.matches('.seg input') ? el.nextElementSibling : el;
  const style = getComputedStyle(shown);
  const box = shown.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const holder = el.closest('label') || el;
  return {
    tag: el.tagName.toLowerCase(),
    name: el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].innerText)
      || el.innerText || el.value || '',
    outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    on_screen: box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
    uncovered: !!hit && (holder.contains(hit) || hit.contains(el)),
    top: box.top + scrollY,
    left: box.left + scrollX,
  };
}"""

# Every control a person can reach has a name: its label, aria-label or the
# text of a button.
UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden], template'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def tab_until(page, wanted, limit: int = 60) -> list[dict]:
    """Press Tab until the focus is on a control whose name `wanted` accepts;
    every stop on the way must show its focus. The stops are returned."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS)
        assert stop is not None, f"the focus left the page after {stops}"
        stops.append(stop)
        assert stop["outlined"], f"no visible focus on {stop}"
        assert stop["on_screen"], f"the focus is off the screen: {stop}"
        assert stop["uncovered"], f"the focus is hidden under something: {stop}"
        if wanted(stop["name"]):
            return stops
    raise AssertionError(f"not reached in {limit} presses of Tab: {[s['name'] for s in stops]}")


def skip_to_content(page) -> None:
    """The first Tab stop is the skip link; Enter on it goes past the header."""
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS)
    assert first["name"] == "Zum Inhalt springen", first
    assert first["outlined"], first
    assert first["on_screen"], first
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def log_in_by_keyboard(page, email: str) -> None:
    page.goto("/login")
    skip_to_content(page)
    tab_until(page, lambda name: name.startswith("E-Mail"))
    page.keyboard.type(email)
    tab_until(page, lambda name: name.startswith("Passwort"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard*")  # the skip link's #main may stay on


def in_reading_order(stops: list[dict]) -> bool:
    """No stop lies more than a line (40 px) above the one before, and on the
    same line none lies to its left: the focus follows the page downwards."""
    return all(
        b["top"] > a["top"] + 40 or (b["top"] >= a["top"] - 40 and b["left"] >= a["left"] - 5)
        for a, b in zip(stops, stops[1:], strict=False)
    )


def attendance_world(app) -> tuple[int, int, int, int]:
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainer@example.org", "Tina Trainerin")
        cohort = compact_cohort(org, "Gruppe 1", START)
        anna = enrolled(cohort, "Anna", "Albers", "anna@example.org")
        ben = enrolled(cohort, "Ben", "Bauer", "ben@example.org")
        db.session.execute(
            update(Enrolment).values(
                enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
            )
        )
        first = attendance.grid(cohort).sessions[0]
        db.session.commit()
        return cohort.id, first.id, anna.id, ben.id


def stored_mark(app, session_id: int, person_id: int) -> Mark | None:
    with app.app_context():
        return db.session.scalar(
            select(AttendanceRecord.mark).where(
                AttendanceRecord.session_id == session_id,
                AttendanceRecord.participant_id == person_id,
            )
        )


def test_take_attendance_by_keyboard_on_a_tablet(browser, tmp_path):
    with served(tmp_path, "keyboard_attendance") as (app, base):
        cohort_id, session_id, anna_id, ben_id = attendance_world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1024, "height": 768}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in_by_keyboard(page, "trainer@example.org")
        page.goto(f"/cohorts/{cohort_id}/attendance")
        assert page.evaluate(UNNAMED) == []
        assert page.locator("[tabindex]:not([tabindex='-1']):not([tabindex='0'])").count() == 0
        rate = page.locator(f"#rate-{session_id} .count")
        expect(rate).to_have_text("0/2")

        # Tab reaches Anna's cell of the first seminar day; Space marks her present.
        skip_to_content(page)
        stops = tab_until(page, lambda name: name.startswith(f"Anna Albers, {SEMINAR}: "))
        assert in_reading_order(stops), [(s["name"], s["top"], s["left"]) for s in stops]
        assert stops[-1]["name"] == f"Anna Albers, {SEMINAR}: anwesend"  # the first segment
        page.keyboard.press("Space")
        present = page.get_by_role("radio", name=f"Anna Albers, {SEMINAR}: anwesend", exact=True)
        expect(present).to_be_checked()
        expect(rate).to_have_text("1/2")
        cell = page.locator("td", has=present)
        expect(cell.locator(".status")).to_have_text("✓ anwesend")

        # The arrow keys move within the cell; the choice is saved after a
        # short pause: present → excused.
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        excused = page.get_by_role("radio", name=f"Anna Albers, {SEMINAR}: entschuldigt")
        expect(excused).to_be_checked()
        expect(excused).to_be_focused()
        expect(cell.locator(".status")).to_have_text("E entschuldigt")
        expect(rate).to_have_text("0/2")

        # On to Ben's cell of the same day, further down: Space marks him, and
        # the counter and his certificate standing follow.
        stops = tab_until(page, lambda name: name.startswith(f"Ben Bauer, {SEMINAR}: "))
        assert all(s["outlined"] for s in stops)
        page.keyboard.press("Space")
        expect(page.get_by_role("radio", name=f"Ben Bauer, {SEMINAR}: anwesend")).to_be_checked()
        expect(rate).to_have_text("1/2")
        expect(page.locator(f"#decision-{ben_id}")).not_to_contain_text(SEMINAR)

        page.reload()
        expect(excused).to_be_checked()
        assert stored_mark(app, session_id, anna_id) is Mark.EXCUSED
        assert stored_mark(app, session_id, ben_id) is Mark.PRESENT
        context.close()


def test_arrow_keys_choose_and_only_the_final_mark_is_saved(browser, tmp_path):
    with served(tmp_path, "keyboard_final_mark") as (app, base):
        cohort_id, session_id, anna_id, ben_id = attendance_world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1024, "height": 768}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in_by_keyboard(page, "trainer@example.org")
        page.goto(f"/cohorts/{cohort_id}/attendance")
        posts: list[str] = []

        def seen(request):
            if request.method == "POST" and "/attendance/" in request.url:
                found = re.search(r'name="mark"\r\n\r\n([a-z_]+)', request.post_data or "")
                posts.append(found.group(1) if found else "?")

        page.on("request", seen)
        page.evaluate("window.stillThisPage = true")

        def radio(person: str, mark: str):
            return page.get_by_role("radio", name=f"{person}, {SEMINAR}: {mark}", exact=True)

        # Space marks Anna present: one request.
        skip_to_content(page)
        tab_until(page, lambda name: name.startswith(f"Anna Albers, {SEMINAR}: "))
        page.keyboard.press("Space")
        anna = page.locator("td", has=radio("Anna Albers", "anwesend"))
        expect(anna.locator(".status")).to_have_text("✓ anwesend")
        assert posts == ["present"]

        # Three arrow presses pass partly and excused to absent; nothing is
        # sent on the way, only absent after the pause.
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        expect(radio("Anna Albers", "abwesend")).to_be_checked()
        expect(radio("Anna Albers", "abwesend")).to_be_focused()
        assert posts == ["present"]
        expect(anna.locator(".status")).to_have_text("✗ abwesend")
        page.wait_for_timeout(500)
        assert posts == ["present", "absent"]

        # Arrows there and back again: the mark held is kept, nothing is sent.
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(2500)
        assert posts == ["present", "absent"]

        # Enter saves the choice at once, without waiting for the pause.
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Enter")
        expect(anna.locator(".status")).to_have_text("E entschuldigt", timeout=1000)
        assert posts == ["present", "absent", "excused"]

        # Leaving the cell saves the choice at once too.
        page.keyboard.press("ArrowLeft")
        tab_until(page, lambda name: name.startswith(f"Ben Bauer, {SEMINAR}: "))
        expect(anna.locator(".status")).to_have_text(
            "◐ teilweise (30 Min. verpasst)", timeout=1000
        )
        assert posts == ["present", "absent", "excused", "partly"]
        assert page.evaluate("window.stillThisPage") is True  # Enter did not send the form

        with app.app_context():
            history = db.session.scalars(
                select(AttendanceChange.after_mark)
                .join(AttendanceRecord, AttendanceChange.attendance_id == AttendanceRecord.id)
                .where(
                    AttendanceRecord.session_id == session_id,
                    AttendanceRecord.participant_id == anna_id,
                )
                .order_by(AttendanceChange.id)
            ).all()
        assert history == [Mark.PRESENT, Mark.ABSENT, Mark.EXCUSED, Mark.PARTLY]
        assert stored_mark(app, session_id, ben_id) is None
        context.close()


def certificate_world(app) -> tuple[int, int]:
    """A completed cohort of two: Anna attended everything, Ben missed a day."""
    with app.app_context():
        org = organisation_with(Role.HR, "hr@example.org", "Hanna Personal")
        cohort = compact_cohort(org, "Gruppe 1", START)
        anna = enrolled(cohort, "Anna", "Albers", "anna@example.org")
        ben = enrolled(cohort, "Ben", "Bauer", "ben@example.org")
        db.session.execute(
            update(Enrolment).values(
                enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
            )
        )
        board = attendance.grid(cohort)
        for session in board.sessions:
            if session.all_day:  # a self-study phase
                attendance.set_mark(session, anna, Mark.DONE, None)
                attendance.set_mark(session, ben, Mark.DONE, None)
            else:
                attendance.set_mark(session, anna, Mark.PRESENT, None)
                attendance.set_mark(session, ben, Mark.ABSENT, None)
        cohort.change_state(CohortState.RUNNING)
        cohort.change_state(CohortState.COMPLETED)
        db.session.commit()
        return cohort.id, anna.id


def test_issue_a_certificate_by_keyboard_on_a_desktop(browser, tmp_path):
    with served(tmp_path, "keyboard_certificate") as (app, base):
        cohort_id, anna_id = certificate_world(app)
        context = browser.new_context(
            locale="de-DE", base_url=base, viewport={"width": 1280, "height": 800}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in_by_keyboard(page, "hr@example.org")

        # From the cohort's page to its certificates, by Tab and Enter only.
        page.goto(f"/cohorts/{cohort_id}")
        skip_to_content(page)
        tab_until(page, lambda name: name.strip() == "Zertifikate", limit=150)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/cohorts/{cohort_id}/certificates")
        assert page.evaluate(UNNAMED) == []

        skip_to_content(page)
        stops = tab_until(page, lambda name: name == "Zertifikat für Anna Albers ausstellen")
        assert in_reading_order(stops), [(s["name"], s["top"], s["left"]) for s in stops]
        page.keyboard.press("Enter")
        page.wait_for_load_state("load")
        expect(page.locator(".flash.success")).to_have_text("1 Zertifikat ausgestellt.")
        with app.app_context():
            issued = db.session.scalars(
                select(Certificate.participant_id).where(Certificate.cohort_id == cohort_id)
            ).all()
        assert issued == [anna_id]
        row = page.locator(f"#person-{anna_id}")
        expect(row.get_by_role("link", name="PDF für Anna Albers", exact=True)).to_be_visible()
        context.close()


def test_a_participant_in_two_cohorts_reads_them_apart_on_a_phone(browser, tmp_path):
    with served(tmp_path, "phone_personal_page") as (app, base):
        with app.app_context():
            org = organisation_with(Role.TRAINER, "trainer@example.org", "Tina Trainerin")
            earlier = compact_cohort(org, "Frühjahr Esslingen", START)
            later = compact_cohort(org, "Herbst Ulm", START + timedelta(weeks=40))
            anna = enrolled(earlier, "Anna", "Albers", "anna@example.org")
            db.session.add(Enrolment(cohort=later, participant=anna))
            db.session.flush()
            _, token = create_link(Actor.system(), anna.id)
            db.session.commit()

        phone = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
        page = phone.new_page()
        page.goto(f"{base}/p/{token}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for name, other in (
            ("Frühjahr Esslingen", "Herbst Ulm"),
            ("Herbst Ulm", "Frühjahr Esslingen"),
        ):
            part = page.get_by_role("region", name=name)
            expect(part.get_by_role("heading", name=name)).to_be_visible()
            expect(part.get_by_role("row")).not_to_have_count(0)
            expect(part).not_to_contain_text(other)
            box = part.bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 390
        first = page.get_by_role("region", name="Frühjahr Esslingen").bounding_box()
        second = page.get_by_role("region", name="Herbst Ulm").bounding_box()
        assert first["y"] + first["height"] <= second["y"]  # one after the other, in date order
        # A participant has no account: no staff login on the page.
        expect(page.get_by_role("link", name="Anmelden")).to_have_count(0)
        expect(page.get_by_role("button", name="Abmelden")).to_have_count(0)
        phone.close()
