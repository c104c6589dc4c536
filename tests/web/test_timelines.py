"""The timeline pictures: one bar per session at its dates, the region's
holidays and the closure days shaded, every cohort in the year overview."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import holidays

from app.models import ClosureDay, Role, SessionStatus
from tests.web.helpers import log_in

SVG = "{http://www.w3.org/2000/svg}"


def picture(page: str) -> ET.Element:
    [svg] = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    return ET.fromstring(svg)  # noqa: S314 -- our own page, not untrusted input


def rects(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if kind in r.get("class", "").split()]


def day_of(svg: ET.Element, x: float) -> date:
    """The day a horizontal position stands for, from the picture's own axis."""
    first = date.fromisoformat(svg.get("data-first"))
    offset = (x - 200) / float(svg.get("data-day-width"))
    return date.fromordinal(first.toordinal() + round(offset))


def test_the_cohort_page_draws_one_bar_per_session_at_its_dates(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort = make.cohort(org, key="blended", start=date(2027, 4, 26), region="DE-BY")
    cohort.sessions[1].status = SessionStatus.CANCELLED
    db.session.commit()
    expected = sorted(
        (s.element.key, s.first_day, s.last_day, s.status is SessionStatus.CANCELLED)
        for s in cohort.sessions
    )
    cohort_id = cohort.id  # each request has a database session of its own
    log_in(client, "trainerin@example.org")
    svg = picture(client.get(f"/cohorts/{cohort_id}").get_data(as_text=True))

    bars = rects(svg, "bar")
    drawn = sorted(
        (
            bar.get("data-key"),
            date.fromisoformat(bar.get("data-first")),
            date.fromisoformat(bar.get("data-last")),
            "cancelled" in bar.get("class"),
        )
        for bar in bars
    )
    assert drawn == expected
    for bar in bars:
        # Drawn where the dates say: left edge at the first day, right edge after the last.
        left = float(bar.get("x"))
        assert day_of(svg, left) == date.fromisoformat(bar.get("data-first"))
        if "span" in bar.get("class"):
            right = left + float(bar.get("width"))
            last = date.fromisoformat(bar.get("data-last"))
            assert day_of(svg, right).toordinal() == last.toordinal() + 1
    # Spans (self-study phases) are told apart by shape, not only colour.
    assert any(b.get("fill") == "url(#span-hatch)" for b in bars if "span" in b.get("class"))
    [cancelled] = [b for b in bars if "cancelled" in b.get("class")]
    assert cancelled.get("stroke-dasharray")
    assert cancelled.find(f"{SVG}title").text.endswith("(abgesagt)")

    # Every Bavarian public holiday in the drawn range, and nothing else.
    first, last = (date.fromisoformat(svg.get(k)) for k in ("data-first", "data-last"))
    bavaria = holidays.country_holidays("DE", subdiv="BY", years=range(first.year, last.year + 1))
    shaded = sorted(date.fromisoformat(b.get("data-first")) for b in rects(svg, "holiday"))
    assert shaded == sorted(d for d in bavaria if first <= d <= last)
    assert shaded, "the blended format runs over public holidays"
    assert svg.find(f"{SVG}title").text.startswith("Terminplan von")


def test_holidays_are_named_in_the_reader_s_language(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort_id = make.cohort(org, key="compact", start=date(2027, 5, 26), region="DE-BW").id
    log_in(client, "trainerin@example.org")

    def names(language):
        page = client.get(f"/cohorts/{cohort_id}?lang={language}").get_data(as_text=True)
        return {
            b.get("data-first"): b.find(f"{SVG}title").text
            for b in rects(picture(page), "holiday")
        }

    assert names("de")["2027-05-27"] == "Fronleichnam"
    assert names("en")["2027-05-27"] == "Corpus Christi"


def test_the_year_overview_shows_every_cohort_of_the_organisation(client, make, db):
    org = make.organisation("Metallwerke")
    other = make.organisation("Fremde AG")
    make.user(Role.HR, [org], email="hr@example.org")
    names = ["Frühjahr", "Sommer", "Herbst"]
    for name, start in zip(
        names, (date(2027, 3, 1), date(2027, 6, 7), date(2027, 10, 4)), strict=True
    ):
        make.cohort(org, name=name, start=start, region="DE-BW")
    make.cohort(org, name="Nächstes Jahr", start=date(2028, 3, 6))
    make.cohort(other, name="Nicht unsere", start=date(2027, 3, 1))
    db.session.add_all(
        ClosureDay(organisation_id=org.id, day=date(2027, 12, d), reason="Betriebsruhe")
        for d in (27, 28, 29, 30)
    )
    db.session.commit()
    org_id = org.id
    log_in(client, "hr@example.org")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"/organisations/{org_id}/year/" in dashboard

    page = client.get(f"/organisations/{org_id}/year/2027").get_data(as_text=True)
    svg = picture(page)
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "lane-label"]
    assert labels == names
    assert "Nicht unsere" not in page
    assert "Nächstes Jahr" not in page
    [closure] = rects(svg, "closure")
    assert (closure.get("data-first"), closure.get("data-last")) == ("2027-12-27", "2027-12-30")
    assert closure.find(f"{SVG}title").text == "Betriebsruhe"
    # Three compact cohorts of three sessions each, all inside the year.
    assert len(rects(svg, "bar")) == 9
    assert {b.get("data-first")[:4] for b in rects(svg, "bar")} == {"2027"}
    assert client.get(f"/organisations/{org_id}/year/2028").status_code == 200
    assert client.get(f"/organisations/{org_id}/year/1999").status_code == 404


def test_the_picture_is_named_and_lists_its_sessions_in_words(client, make, db):
    """A screen reader reads the picture's title as its name and every session
    with its German dates, in order, as its description; the year picture holds
    no links (a picture holds no controls), the page's list of cohorts links them."""
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org")
    cohort = make.cohort(org, key="blended", name="Frühjahr", start=date(2027, 4, 26))
    db.session.commit()
    sessions = sorted(cohort.sessions, key=lambda s: s.first_day)
    expected = [(s.element.title("de"), s.first_day.strftime("%d.%m.%Y")) for s in sessions]
    cohort_id, org_id = cohort.id, org.id
    log_in(client, "trainerin@example.org")

    svg = picture(client.get(f"/cohorts/{cohort_id}").get_data(as_text=True))
    assert svg.get("role") == "img"
    [name] = [t for t in svg.iter(f"{SVG}title") if t.get("id") == svg.get("aria-labelledby")]
    assert name.text == "Terminplan von Frühjahr als Zeitleiste"
    [words] = [d for d in svg.iter(f"{SVG}desc") if d.get("id") == svg.get("aria-describedby")]
    positions = [words.text.index(f"{title}: ") for title, _ in expected]
    assert positions == sorted(positions), words.text
    for title, day in expected:
        assert f"{title}: " in words.text
        assert day in words.text

    page = client.get(f"/organisations/{org_id}/year/2027").get_data(as_text=True)
    year = picture(page)
    assert list(year.iter(f"{SVG}a")) == []
    assert f'<a href="/cohorts/{cohort_id}">Frühjahr</a>' in page
    [words] = [d for d in year.iter(f"{SVG}desc") if d.get("id") == year.get("aria-describedby")]
    assert words.text.startswith(f"Frühjahr · {expected[0][0]}: ")
