"""The cohort list in the browser: reached from the navigation and the
overview, filtered, searched and sorted by a form and links whose address
can be shared, and usable on a phone without sideways scrolling."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in

HR = "hr@metallwerke-neckartal.example"
ADMIN = "admin@qualiplan.example"


def rows(page):
    return page.locator("table.cohorts tbody tr")


def test_find_a_completed_cohort_by_state_search_and_order(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, HR)
    page.get_by_role("navigation", name="Hauptmenü").get_by_role("link", name="Gruppen").click()
    page.wait_for_url("**/cohorts")
    expect(page.get_by_role("heading", name="Gruppen", exact=True)).to_be_visible()
    table = page.get_by_role("table", name=re.compile("^Gruppen in der Reihenfolge"))
    expect(table).to_be_visible()
    # The HR clerk's organisation has four demo cohorts, one of them over.
    expect(rows(page)).to_have_count(4)
    expect(page.locator("#cohort-summary")).to_have_text("4 Gruppen")

    page.get_by_label(re.compile(r"^abgeschlossen \(1\)")).check()
    page.get_by_role("button", name="Gruppen anzeigen").click()
    page.wait_for_url(re.compile(r"state=completed"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("abgeschlossen")
    expect(rows(page).first).to_contain_text("20 von 24")

    # Typing a name and pressing Enter searches; the state filter stays.
    page.get_by_label(re.compile(r"^abgeschlossen")).uncheck()
    search = page.get_by_label("Name der Gruppe")
    search.fill("ESSLINGEN")
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=ESSLINGEN"))
    expect(rows(page)).to_have_count(2)

    header = page.get_by_role("columnheader", name="Teilnehmende")
    header.get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=participants"))
    header = page.get_by_role("columnheader", name=re.compile("Teilnehmende"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=-participants"))
    expect(page.get_by_role("columnheader", name=re.compile("Teilnehmende"))).to_have_attribute(
        "aria-sort", "descending"
    )
    # The address holds the whole list: opened anew it shows the same.
    shown = rows(page).all_inner_texts()
    page.goto(page.url)
    assert rows(page).all_inner_texts() == shown
    expect(page.get_by_label("Name der Gruppe")).to_have_value("ESSLINGEN")


def test_the_overview_links_to_every_cohort(page):
    log_in(page, ADMIN)
    page.get_by_role("link", name="Alle Gruppen, auch abgeschlossene und abgesagte").click()
    page.wait_for_url("**/cohorts")
    expect(rows(page)).to_have_count(6)
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()


def test_a_bad_address_shows_a_notice_not_an_error(page):
    log_in(page, HR)
    response = page.goto("/cohorts?year=abc&page=-1")
    assert response is not None
    assert response.status == 200
    notices = page.get_by_role("status").filter(has_text="keine Jahreszahl")
    expect(notices).to_have_count(1)
    expect(rows(page)).to_have_count(4)


def test_on_a_phone_the_list_needs_no_sideways_scrolling(page):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, ADMIN)
    page.goto("/cohorts")
    expect(rows(page)).to_have_count(6)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the phone"
    # Each row is a card that names its fields; the filters stay usable.
    first = rows(page).first
    assert "Teilnehmende" in first.locator("td").last.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    box = page.get_by_label("Curriculum").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    page.get_by_label("Organisation").select_option(label="Elbe Logistik AG")
    page.get_by_role("button", name="Gruppen anzeigen").click()
    page.wait_for_url(re.compile(r"organisation=\d+"))
    expect(rows(page)).to_have_count(2)
