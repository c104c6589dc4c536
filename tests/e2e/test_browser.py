"""What a trainer does in the browser, end to end."""

from __future__ import annotations

import re
from datetime import date, timedelta

import holidays
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.conftest import log_in

TRAINER = "trainerin.a@qualiplan.example"
HR = "hr@metallwerke-neckartal.example"


def next_monday(after: date) -> date:
    return after + timedelta(days=7 - after.weekday())


def working_day_from(day: date, region: str) -> date:
    """The first working day on or after ``day``: the demo's dates follow
    today's, so a fixed offset would land on a weekend on some days."""
    closed = holidays.country_holidays("DE", subdiv=region.removeprefix("DE-"))
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day


def choose_curriculum(page, title: str) -> int:
    """The newest version of the curriculum named `title` (its label ends in
    ", Version N"); its number is returned."""
    choice = page.get_by_label("Curriculum", exact=True)
    labels = choice.locator("option").all_inner_texts()
    [label] = [text.strip() for text in labels if text.strip().startswith(title)]
    choice.select_option(label=label)
    return int(label.rsplit("Version ", 1)[1])


def test_log_in_and_see_the_cohorts(page):
    log_in(page, TRAINER)
    assert page.get_by_role("heading", name="Übersicht").is_visible()
    assert page.get_by_role("link", name="Blended Augsburg", exact=False).count() >= 1


def test_plan_a_cohort_from_a_curriculum(page):
    log_in(page, TRAINER)
    page.get_by_role("link", name="Gruppe planen").click()
    page.get_by_label("Organisation").select_option(label="Elbe Logistik AG")
    choose_curriculum(page, "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag, Version")
    page.get_by_label("Name der Gruppe").fill("Kompakt Riesa")
    start = working_day_from(next_monday(date.today() + timedelta(days=400)), "DE-SN")
    page.get_by_label("Startdatum").fill(start.isoformat())
    page.get_by_label("Region").select_option("DE-SN")
    page.get_by_label("Durchführung").select_option("online")
    page.get_by_role("button", name="Gruppe planen").click()
    page.wait_for_url("**/cohorts/*")
    assert page.get_by_role("heading", name="Kompakt Riesa").is_visible()
    assert page.get_by_text("Die Gruppe wurde geplant.").is_visible()
    rows = page.locator("table.schedule tbody tr")
    assert rows.count() == 3
    assert start.strftime("%d.%m.%Y") in rows.nth(0).inner_text()


def test_bad_input_is_shown_at_the_field(page):
    log_in(page, TRAINER)
    page.goto("/cohorts/new")
    page.get_by_label("Startdatum").fill("2027-03-01")
    page.get_by_role("button", name="Gruppe planen").click()
    assert page.get_by_text("Es wurde nichts gespeichert.").is_visible()
    # At the field, and said to a screen reader there too.
    name = page.get_by_label("Name der Gruppe")
    assert name.get_attribute("aria-invalid") == "true"
    assert name.get_attribute("aria-describedby") == "name-error"
    assert page.locator("#name-error").is_visible()
    # What was typed stays.
    assert page.get_by_label("Startdatum").input_value() == "2027-03-01"


def test_switch_language(page):
    log_in(page, HR)
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", name="Overview").is_visible()
    page.goto("/dashboard")
    assert page.get_by_role("heading", name="Overview").is_visible()
    page.get_by_role("link", name="Deutsch").click()
    assert page.get_by_role("heading", name="Übersicht").is_visible()


def test_phone_width_has_no_sideways_scrolling(browser, live_server):
    context = browser.new_context(
        locale="de-DE", base_url=live_server, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    log_in(page, TRAINER)
    page.get_by_role("link", name="Blended", exact=False).first.click()
    # Measured once the cohort page and its style sheet have loaded.
    page.wait_for_url("**/cohorts/*")
    page.wait_for_load_state("load")
    cohort = page.url
    for url in (cohort, f"{cohort}/tandems", "/dashboard", "/curricula", "/curricula/1"):
        page.goto(url)
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, url
    context.close()


def test_move_a_session_and_see_what_follows_move(page):
    log_in(page, TRAINER)
    page.get_by_role("link", name="Blended Augsburg", exact=False).first.click()
    rows = page.locator("table.schedule tbody tr")
    before = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    page.get_by_role("link", name="Ändern: Zwischen-Webinar", exact=False).click()
    day_field = page.get_by_label("Neues Datum")
    current = date.fromisoformat(day_field.input_value())
    day_field.fill(working_day_from(current + timedelta(days=2), "DE-BY").isoformat())
    # The webinar follows the first video phase on the next working day: the
    # phase moves along, or the move would break that rule.
    page.get_by_label("Auch die früheren Termine verschieben", exact=False).check()
    page.get_by_role("button", name="Termin verschieben").click()
    page.wait_for_url("**/cohorts/*")
    assert page.get_by_text("Termine verschoben", exact=False).is_visible()
    after = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert after[1] != before[1]  # the video phase it follows moved along
    assert after[2] != before[2]  # the webinar moved
    assert after[3] != before[3]  # and the video phase after it too


def test_import_a_participants_file_with_an_error(page, tmp_path):
    broken = tmp_path / "personal.csv"
    broken.write_text(
        "Vorname;Nachname;E-Mail;Abteilung;Standort\n"
        "Lena;Koch;lena.koch@elbe-logistik.example;IT;Dresden\n"
        "Max;;max@elbe-logistik;IT;Dresden\n",
        encoding="utf-8",
    )
    log_in(page, HR)
    page.get_by_role("link", name="Teilnehmende").first.click()
    page.get_by_role("link", name="Datei importieren").click()
    page.get_by_label("Datei (CSV oder XLSX)").set_input_files(str(broken))
    page.get_by_role("button", name="Weiter").click()
    assert page.get_by_role("heading", name="Welche Spalte ist was?").is_visible()
    page.get_by_role("button", name="Prüfen und importieren").click()
    alert = page.get_by_role("alert")
    assert "Die Datei wurde nicht importiert: 2 Probleme" in alert.inner_text()
    assert "ist leer" in alert.inner_text()
    assert "ist keine E-Mail-Adresse" in alert.inner_text()


def test_the_participant_page_on_a_phone(browser, live_server, tmp_path):
    """A trainer shows a participant's link; the participant opens it on a phone,
    downloads the schedule and creates a subscription address."""
    staff = browser.new_context(locale="de-DE", base_url=live_server)
    page = staff.new_page()
    log_in(page, TRAINER)
    page.goto("/participants?q=")
    page.locator("table tbody tr a").first.click()
    page.get_by_role("button", name="Neuen Link anzeigen").click()
    link = page.locator("#personal-link").input_value()
    staff.close()

    phone = browser.new_context(
        locale="de-DE", viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    mobile = phone.new_page()
    mobile.goto(link)
    assert mobile.get_by_role("heading", name="Ihr Terminplan", exact=False).is_visible()
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    with mobile.expect_download() as download_info:
        mobile.get_by_role("link", name="Termine herunterladen (.ics)").click()
    path = tmp_path / "termine.ics"
    download_info.value.save_as(path)
    content = path.read_bytes()
    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"METHOD:PUBLISH" in content
    mobile.get_by_role("button", name="Kalender abonnieren").click()
    assert mobile.get_by_text("Ihre Abo-Adresse ist bereit.").is_visible()
    subscribe = mobile.get_by_role("link", name="Abonnieren (iPhone, Mac, Outlook)")
    assert subscribe.get_attribute("href").startswith("webcal://127.0.0.1:")
    phone.close()


def test_fork_change_a_gap_publish_and_move_a_planned_cohort(page):
    log_in(page, "beratung@agenturq.example")
    # A planned cohort on the Metallwerke's own version of the compact format.
    page.goto("/cohorts/new")
    page.get_by_label("Organisation").select_option(label="Metallwerke Neckartal GmbH")
    current = choose_curriculum(
        page,
        "Lernbegleitung kompakt online – für Metallwerke Neckartal GmbH, Version",
    )
    page.get_by_label("Name der Gruppe").fill("Kompakt Heilbronn")
    start = working_day_from(next_monday(date.today() + timedelta(days=300)), "DE-BW")
    page.get_by_label("Startdatum").fill(start.isoformat())
    page.get_by_label("Region").select_option("DE-BW")
    page.get_by_role("button", name="Gruppe planen").click()
    page.wait_for_url("**/cohorts/*")
    cohort_url = page.url
    reflection_row = page.locator("table.schedule tbody tr").nth(2)
    before = reflection_row.locator("td").first.inner_text()

    page.get_by_role("link", name="Curricula").click()
    page.get_by_role(
        "link", name="Lernbegleitung kompakt online – für Metallwerke Neckartal GmbH"
    ).click()
    page.get_by_role("button", name="Neuen Entwurf beginnen").click()
    assert page.get_by_text(f"Entwurf von Version {current + 1} begonnen.").is_visible()
    page.locator("#element-reflection").get_by_role("link", name="Ändern").click()
    page.get_by_label("Abstand möglichst").fill("16")
    page.locator("select[name='gap_preferred-unit']").select_option("w")
    page.get_by_role("button", name="Speichern").click()
    assert page.get_by_text("Gespeichert.").is_visible()
    assert page.get_by_text("16 Wochen nach Seminartag 2").is_visible()
    page.get_by_role("button", name=f"Version {current + 1} veröffentlichen").click()
    # Publishing cannot be undone: the page says what will happen, nothing yet.
    assert page.get_by_role("heading", name=f"Version {current + 1} von", exact=False).is_visible()
    page.get_by_role("button", name=f"Version {current + 1} veröffentlichen").click()
    assert page.get_by_text(f"Version {current + 1} ist veröffentlicht").is_visible()

    page.get_by_role("link", name=f"Auf Version {current + 1} umstellen …").first.click()
    assert page.get_by_text("Noch ist nichts gespeichert.").is_visible()
    page.get_by_role("button", name="Gruppe umstellen").click()
    page.wait_for_url(cohort_url)
    assert page.get_by_text(f"folgt jetzt Version {current + 1}").is_visible()
    after = page.locator("table.schedule tbody tr").nth(2).locator("td").first.inner_text()
    assert after != before
    assert page.get_by_text(f"hat die Gruppe auf Version {current + 1} umgestellt").is_visible()


def test_the_year_overview_shows_every_cohort_of_the_organisation(page):
    log_in(page, HR)
    year = date.today().year
    page.get_by_role("link", name=f"Jahresübersicht {year}: Metallwerke Neckartal GmbH").click()
    svg = page.locator("figure.picture svg")
    assert svg.get_attribute("role") == "img"
    lanes = svg.locator("text.lane-label")
    listed = page.locator("main ul.plain li a")
    assert lanes.count() == listed.count() >= 1
    for index in range(listed.count()):
        name = listed.nth(index).inner_text()
        assert lanes.nth(index).locator("title").text_content() == name


def test_take_attendance_with_taps_that_do_not_reload_the_page(browser, live_server):
    context = browser.new_context(
        locale="de-DE", base_url=live_server, viewport={"width": 1024, "height": 768}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, TRAINER)
    page.get_by_role("link", name="Blended", exact=False).first.click()
    page.wait_for_url("**/cohorts/*")
    page.get_by_role("link", name="Anwesenheit erfassen", exact=True).click()
    page.wait_for_load_state("load")
    page.evaluate("window.stillThisPage = true")
    # The demo has attendance for sessions that took place; take an open cell.
    cell = page.locator("td", has=page.locator(".segments")).filter(has_text="· offen").first
    cell_id = cell.locator(".segments").get_attribute("data-cell")
    cell = page.locator("td", has=page.locator(f'.segments[data-cell="{cell_id}"]'))
    cell.locator("input[type=radio][value=present]").locator("xpath=..").click()
    expect(cell.locator(".status")).to_have_text("✓ anwesend")
    assert page.evaluate("window.stillThisPage") is True  # no reload
    cell.locator("input[type=radio][value=present]").press("ArrowRight")  # usable by keyboard too
    expect(cell.locator(".status")).to_have_text("◐ teilweise (30 Min. verpasst)")
    page.reload()
    expect(cell.locator("input[type=radio][value=partly]")).to_be_checked()
    context.close()


def test_the_address_printed_on_a_certificate_opens_its_verification_page(
    browser, live_server, tmp_path
):
    """HR prints a completed cohort's certificates; someone who holds one types
    the address printed under the QR code into a phone's browser."""
    staff = browser.new_context(locale="de-DE", base_url=live_server, accept_downloads=True)
    page = staff.new_page()
    page.set_default_timeout(10_000)
    log_in(page, HR)
    page.get_by_role("link", name="Jahresübersicht", exact=False).first.click()
    started = (date.today() - timedelta(days=260)).year  # the demo's completed cohort
    page.goto(page.url.rsplit("/", 1)[0] + f"/{started}")
    page.locator("main ul.plain li a", has_text="Kompakt Esslingen").first.click()
    page.get_by_role("navigation", name="Mit dieser Gruppe arbeiten").get_by_role(
        "link", name="Zertifikate"
    ).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Alle drucken (PDF, Deutsch)").click()
    path = tmp_path / "zertifikate.pdf"
    download_info.value.save_as(path)
    staff.close()

    first_page = PdfReader(path).pages[0].extract_text()
    printed = re.search(r"127\.0\.0\.1:\d+/verify/[0-9A-Z]{16}", first_page).group(0)
    name = re.search(r"Hiermit wird bestätigt, dass\n(.+)\n", first_page).group(1)

    phone = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    response = mobile.goto("http://" + printed)
    assert response.status == 200
    expect(mobile.get_by_role("heading", name="Gültiges Zertifikat")).to_be_visible()
    expect(mobile.locator("dl.facts")).to_contain_text(name)
    expect(mobile.locator("dl.facts")).to_contain_text("Metallwerke Neckartal GmbH")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()
