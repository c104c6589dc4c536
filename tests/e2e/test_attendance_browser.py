"""Taking attendance on a tablet (1024 × 768) in a seminar room: any mark in
one tap, counters that follow at once, and taps made while the Wi-Fi is gone
kept in a visible queue, sent again when it is back, and saved."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

from playwright.sync_api import expect
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CurriculumRecord,
    Enrolment,
    Participant,
    Role,
    Session,
)
from app.services import attendance
from app.services.cohorts import NewCohort, create_cohort
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


def tablet(browser, base):
    context = browser.new_context(
        locale="de-DE", base_url=base, viewport={"width": 1024, "height": 768}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def mark_posts(page) -> list[str]:
    """The marks the page sends, one per POST of a cell, as they go out."""
    sent: list[str] = []

    def seen(request):
        if request.method == "POST" and "/attendance/" in request.url:
            body = request.post_data or ""
            found = re.search(r'name="mark"\r\n\r\n([a-z_]+)', body)
            sent.append(found.group(1) if found else body)

    page.on("request", seen)
    return sent


def blended_world(app, people: int = 20) -> int:
    """A blended cohort begun a year ago (seven columns), with 20 people."""
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainer@example.org", "Tina Trainerin")
        version = db.session.scalar(
            select(CurriculumRecord).where(
                CurriculumRecord.key == "blended", CurriculumRecord.organisation_id.is_(None)
            )
        ).versions[-1]
        start = TODAY - timedelta(days=TODAY.weekday(), weeks=52)
        cohort, _ = create_cohort(
            NewCohort(
                organisation=org, version=version, name="Blended 1", start=start, region="DE-BW"
            ),
            actor=None,
        )
        for number in range(people):
            last = ("Brandenburger", "Hoffmann", "Yılmaz-Schneider", "Kühn")[number % 4]
            enrolled(
                cohort,
                ("Vera", "Jana", "Karl-Heinz")[number % 3],
                f"{last} {number}",
                f"p{number}@example.org",
            )
        db.session.execute(
            update(Enrolment).values(
                enrolled_at=datetime.combine(start - timedelta(weeks=2), time(8), tzinfo=UTC)
            )
        )
        db.session.commit()
        return cohort.id


# What is drawn at a point of the screen: the name's cell, a header cell, a
# segment (a radio button) or something else.
HIT = """([x, y]) => {
  const hit = document.elementFromPoint(x, y);
  if (!hit) return null;
  if (hit.closest('.seg')) return 'segment';
  const cell = hit.closest('th, td');
  if (!cell) return hit.tagName.toLowerCase();
  if (cell.closest('thead')) return 'header';
  return cell.matches('th[scope=row]') ? 'name' : 'cell';
}"""


def test_names_and_sessions_stay_in_view_while_the_grid_scrolls(browser, tmp_path):
    with served(tmp_path, "attendance_sticky") as (app, base):
        cohort_id = blended_world(app)
        context, page = tablet(browser, base)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        posts = mark_posts(page)
        scroller = page.locator(".attendance-scroll")
        sizes = scroller.evaluate(
            "el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]"
        )
        assert sizes[0] > sizes[1], sizes  # seven columns: it scrolls sideways
        assert sizes[2] > sizes[3], sizes  # 20 people: and down
        scroller.evaluate("el => el.scrollIntoView({block: 'start'})")

        # Sideways and down: the names stay on the left, readable and on
        # top of the segments passing under them; the row of sessions on top.
        scroller.evaluate("el => { el.scrollLeft = 260; el.scrollTop = 500; }")
        page.wait_for_timeout(100)
        frame = scroller.bounding_box()
        below_header = page.locator("table.attendance thead th").nth(1).bounding_box()
        below_header = below_header["y"] + below_header["height"]
        rows = page.locator("table.attendance tbody th[scope=row]")
        shown = 0
        for index in range(rows.count()):
            box = rows.nth(index).bounding_box()
            top = max(box["y"], below_header + 1)
            bottom = min(box["y"] + box["height"], frame["y"] + frame["height"], 768)
            if bottom - top < 10:
                continue  # above or below what the box shows now
            shown += 1
            assert abs(box["x"] - frame["x"]) < 2, box  # still at the left edge
            middle = (top + bottom) / 2
            for x in (box["x"] + 4, box["x"] + box["width"] / 2, box["x"] + box["width"] - 4):
                assert page.evaluate(HIT, [x, middle]) == "name", (index, x)
            name = rows.nth(index)
            assert name.evaluate("el => el.scrollWidth <= el.clientWidth + 1")  # not cut off
        assert shown >= 3
        header = page.locator("table.attendance thead th").nth(3)
        head = header.bounding_box()
        assert abs(head["y"] - frame["y"]) < 2, (head, frame)  # stuck to the top
        assert page.evaluate(HIT, [head["x"] + head["width"] / 2, head["y"] + 10]) == "header"
        corner = page.locator("table.attendance thead th").first.bounding_box()
        assert page.evaluate(HIT, [corner["x"] + 10, corner["y"] + 10]) == "header"

        # A tap on a name sets nothing.
        visible = next(
            rows.nth(i)
            for i in range(rows.count())
            if page.evaluate(
                HIT, [rows.nth(i).bounding_box()["x"] + 20, rows.nth(i).bounding_box()["y"] + 20]
            )
            == "name"
        )
        box = visible.bounding_box()
        page.mouse.click(box["x"] + 20, box["y"] + 20)
        page.mouse.click(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)
        assert posts == []

        # The rows are compact, the segments still a finger's size.
        heights = sorted(
            page.locator("table.attendance tbody tr").evaluate_all(
                "rows => rows.map(r => r.getBoundingClientRect().height)"
            )
        )
        assert heights[len(heights) // 2] <= 80, heights  # one line of segments, not 2 × 2
        seg = page.locator("table.attendance .seg span").first.bounding_box()
        assert seg["width"] >= 44
        assert seg["height"] >= 44
        context.close()


def test_all_present_is_queued_like_taps_and_can_be_undone(browser, tmp_path):
    with served(tmp_path, "attendance_all_present") as (app, base):
        cohort_id, session_id, anna_id = world(app)
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            ben_id = next(p.id for p in attendance.grid(cohort).people if p.first_name == "Ben")
            carla = enrolled(cohort, "Carla", "Clausen", "carla@example.org")
            db.session.execute(
                update(Enrolment).values(
                    enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
                )
            )
            db.session.commit()
            carla_id = carla.id
        context, page = tablet(browser, base)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        page.evaluate("window.stillThisPage = true")
        posts = mark_posts(page)
        rate = page.locator(f"#rate-{session_id} .count")
        expect(rate).to_have_text("0/3")

        # The Wi-Fi is gone: "alle anwesend" marks the open cells of the
        # column on the page and keeps them in the queue.
        context.set_offline(True)
        page.get_by_role("button", name="alle anwesend").first.click()
        bulk = page.locator("#attendance-bulk")
        expect(bulk).to_contain_text("2 Einträge gesetzt.")
        expect(bulk).to_contain_text(SEMINAR)
        queue = page.locator("#attendance-queue")
        expect(queue).to_contain_text("2 Änderungen noch nicht gespeichert")
        expect(segment(page, "Ben Bauer", "anwesend")).to_be_checked()
        expect(segment(page, "Carla Clausen", "anwesend")).to_be_checked()
        expect(segment(page, "Anna Albers", "abwesend")).to_be_checked()  # taken already
        assert stored_mark(app, session_id, ben_id) is None
        assert page.evaluate("window.stillThisPage") is True

        # Back online: both are sent and saved.
        context.set_offline(False)
        expect(queue).to_contain_text("Alle Änderungen sind gespeichert.")
        expect(rate).to_have_text("2/3")
        assert stored_mark(app, session_id, ben_id) is Mark.PRESENT
        assert stored_mark(app, session_id, carla_id) is Mark.PRESENT
        assert stored_mark(app, session_id, anna_id) is Mark.ABSENT
        assert set(posts) == {"present"}  # sent again after each failure, never more marks
        with app.app_context():
            changes = db.session.scalars(
                select(AttendanceChange.after_mark).where(
                    AttendanceChange.attendance_id.in_(
                        select(AttendanceRecord.id).where(
                            AttendanceRecord.session_id == session_id
                        )
                    )
                )
            ).all()
        assert sorted(c.value for c in changes) == ["absent", "present", "present"]

        # Someone else marks Carla excused meanwhile; the undo takes back
        # Ben's mark and leaves hers.
        with app.app_context():
            first = db.session.get(Session, session_id)
            other = db.session.get(Participant, carla_id)
            attendance.set_mark(first, other, Mark.EXCUSED, None)
            db.session.commit()
        bulk.get_by_role("button", name="Rückgängig").click()
        expect(bulk).to_contain_text("1 Eintrag zurückgenommen.")
        expect(bulk).to_contain_text("1 wurde inzwischen geändert und bleibt.")
        expect(bulk.get_by_role("button", name="Rückgängig")).to_be_hidden()
        carla_cell = page.locator("td", has=segment(page, "Carla Clausen", "entschuldigt"))
        expect(carla_cell.locator(".cell-note")).to_contain_text("Ihrer wurde nicht gespeichert")
        expect(segment(page, "Carla Clausen", "entschuldigt")).to_be_checked()
        expect(rate).to_have_text("0/3")
        assert stored_mark(app, session_id, ben_id) is Mark.NOT_RECORDED
        assert stored_mark(app, session_id, carla_id) is Mark.EXCUSED
        assert stored_mark(app, session_id, anna_id) is Mark.ABSENT
        context.close()


def test_counters_are_right_when_answers_arrive_out_of_order(browser, tmp_path):
    """Two cells sent at once each count without the other's mark; the answer
    counted first arriving last must not leave the smaller count standing."""
    with served(tmp_path, "attendance_out_of_order") as (app, base):
        cohort_id, session_id, _anna_id = world(app)
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            enrolled(cohort, "Carla", "Clausen", "carla@example.org")
            db.session.execute(
                update(Enrolment).values(
                    enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC)
                )
            )
            db.session.commit()
        context, page = tablet(browser, base)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        rate = page.locator(f"#rate-{session_id} .count")
        expect(rate).to_have_text("0/3")

        # The first request is counted by the server before the second is let
        # through (so the second counts both), and its answer is held back
        # until the second's has been shown.
        held = []
        waiting = []

        def hold_first(route):
            if route.request.method != "POST":
                route.continue_()
            elif not held:
                held.append(route)
                held.append(route.fetch())
                for later in waiting:
                    later.continue_()
            elif len(held) == 1:  # the first is still being counted
                waiting.append(route)
            else:
                route.continue_()

        page.route(re.compile(rf"/attendance/{session_id}/\d+$"), hold_first)
        page.get_by_role("button", name="alle anwesend").first.click()
        expect(segment(page, "Ben Bauer", "anwesend")).to_be_checked()
        expect(segment(page, "Carla Clausen", "anwesend")).to_be_checked()
        expect(rate).to_have_text("2/3")  # the second answer counted both
        route, stale = held
        assert '"present":1' in stale.text().replace(" ", "")
        route.fulfill(response=stale)
        expect(page.locator("td.saving")).to_have_count(0)  # the stale answer is in
        expect(rate).to_have_text("2/3")
        page.reload()
        expect(rate).to_have_text("2/3")
        context.close()


def test_a_queued_tap_refused_later_is_named_in_the_queue(browser, tmp_path):
    with served(tmp_path, "attendance_refused") as (app, base):
        cohort_id, session_id, anna_id = world(app)
        context, page = tablet(browser, base)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        context.set_offline(True)
        segment(page, "Ben Bauer", "entschuldigt").locator("xpath=..").click()
        segment(page, "Anna Albers", "anwesend").locator("xpath=..").click()
        queue = page.locator("#attendance-queue")
        expect(queue).to_contain_text("2 Änderungen noch nicht gespeichert")
        with app.app_context():  # an admin sets Ben present meanwhile
            cohort = db.session.get(Cohort, cohort_id)
            ben = next(p for p in attendance.grid(cohort).people if p.first_name == "Ben")
            attendance.set_mark(db.session.get(Session, session_id), ben, Mark.PRESENT, None)
            db.session.commit()
        context.set_offline(False)
        expect(queue).to_contain_text(
            f"1 Änderung wurde nicht übernommen: Ben Bauer, {SEMINAR}. Das Feld sagt, warum."
        )
        expect(queue).not_to_contain_text("Alle Änderungen sind gespeichert")
        expect(queue).not_to_contain_text("noch nicht gespeichert")
        expect(page.locator("#mark-refusal")).to_be_hidden()
        ben_cell = page.locator("td", has=segment(page, "Ben Bauer", "anwesend"))
        expect(ben_cell.locator(".cell-note")).to_contain_text("Ihrer wurde nicht gespeichert")
        expect(segment(page, "Ben Bauer", "anwesend")).to_be_checked()
        assert stored_mark(app, session_id, anna_id) is Mark.PRESENT
        page.wait_for_timeout(4500)  # not hidden as "all saved" after a moment
        expect(queue).to_be_visible()

        # Tapping the cell again is a new change; the note goes.
        segment(page, "Ben Bauer", "entschuldigt").locator("xpath=..").click()
        expect(ben_cell.locator(".status")).to_have_text("E entschuldigt")
        expect(queue).not_to_contain_text("nicht übernommen")
        context.close()


def test_partly_with_no_minutes_is_refused_at_the_cell(browser, tmp_path):
    with served(tmp_path, "attendance_minutes") as (app, base):
        cohort_id, session_id, anna_id = world(app)
        context, page = tablet(browser, base)
        log_in(page)
        page.goto(f"/cohorts/{cohort_id}/attendance")
        posts = mark_posts(page)
        segment(page, "Anna Albers", "teilweise").locator("xpath=..").click()
        cell = page.locator("td", has=segment(page, "Anna Albers", "teilweise"))
        expect(cell.locator(".status")).to_have_text("◐ teilweise (30 Min. verpasst)")
        minutes = cell.get_by_label("Minuten verpasst")
        minutes.fill("0")
        minutes.press("Tab")
        expect(cell.locator(".cell-note")).to_have_text(
            "Die verpassten Minuten liegen zwischen 1 und 600."
        )
        expect(minutes).to_have_attribute("aria-invalid", "true")
        expect(cell.locator(".status")).to_have_text("◐ teilweise (30 Min. verpasst)")
        assert posts == ["partly"]
        minutes.fill("45")
        minutes.press("Tab")
        expect(cell.locator(".status")).to_have_text("◐ teilweise (45 Min. verpasst)")
        expect(cell.locator(".cell-note")).to_have_count(0)
        with app.app_context():
            record = db.session.scalar(
                select(AttendanceRecord).where(
                    AttendanceRecord.session_id == session_id,
                    AttendanceRecord.participant_id == anna_id,
                )
            )
            assert (record.mark, record.minutes_missed) == (Mark.PARTLY, 45)
        context.close()
