"""A cohort with many people at risk: its page shows the first of them and
links to the cohort's at-risk page, which lists all of them a page at a
time and books a make-up in one step from any page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from app.models import Cohort, Enrolment, Participant, Role
from app.services import at_risk, attendance
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in

TODAY = datetime.now(UTC).date()
PEOPLE = at_risk.PAGE_SIZE + 5


def build(make, db, people: int = PEOPLE) -> dict[str, int]:
    """A cohort that began weeks ago with `people` people absent on seminar
    day 2 (named so that their order is known), and a later cohort with
    places to make it up in."""
    org = make.organisation("Viele Fehlen GmbH")
    user = make.user(Role.HR, [org], email="hr@vielefehlen.example")
    cohort = make.cohort(org, start=TODAY - timedelta(days=40), name="Gruppe Früh")
    later = make.cohort(org, start=TODAY + timedelta(days=30), name="Gruppe Spät")
    missed = next(
        s for s in db.session.get(Cohort, cohort.id).sessions if s.element.key == "seminar-2"
    )
    begun = datetime.now(UTC) - timedelta(days=60)
    for n in range(people):
        person = Participant(
            organisation=org,
            first_name="Person",
            last_name=f"Fehlt {n:02d}",
            email=f"p{n}@vielefehlen.example",
        )
        db.session.add(person)
        db.session.add(Enrolment(cohort_id=cohort.id, participant=person, enrolled_at=begun))
        db.session.flush()
        attendance.set_mark(missed, person, Mark.ABSENT, None)
    db.session.commit()
    return {"cohort": cohort.id, "later": later.id, "user": user.id}


def names_in(page: str) -> list[str]:
    return re.findall(r"Person Fehlt (\d\d)</a>", page)


def test_the_cohort_page_shows_the_first_people_and_links_to_all(client, make, db):
    ids = build(make, db)
    log_in(client, "hr@vielefehlen.example")
    page = html.unescape(client.get(f"/cohorts/{ids['cohort']}").get_data(as_text=True))
    panel = page[page.index('id="at-risk"') :]
    assert names_in(panel) == [f"{n:02d}" for n in range(at_risk.OVERVIEW_LIMIT)]
    assert f"Insgesamt {PEOPLE} Personen; unten stehen die ersten 10." in panel
    assert f'href="/cohorts/{ids["cohort"]}/at-risk"' in panel


def test_the_at_risk_page_lists_everyone_a_page_at_a_time(client, make, db):
    ids = build(make, db)
    log_in(client, "hr@vielefehlen.example")
    url = f"/cohorts/{ids['cohort']}/at-risk"
    first = html.unescape(client.get(url).get_data(as_text=True))
    assert f"{PEOPLE} Personen gefährdet, Seite 1 von 2" in first
    assert names_in(first) == [f"{n:02d}" for n in range(at_risk.PAGE_SIZE)]
    assert 'rel="next"' in first
    assert "Gruppe Spät" in first
    second = html.unescape(client.get(url + "?page=2").get_data(as_text=True))
    assert names_in(second) == [f"{n:02d}" for n in range(at_risk.PAGE_SIZE, PEOPLE)]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    # A page number that is no number is the first page; one past the end
    # says so and links to the last.
    assert names_in(client.get(url + "?page=zwei").get_data(as_text=True)) == names_in(first)
    past = client.get(url + "?page=3")
    assert past.status_code == 404
    text = html.unescape(past.get_data(as_text=True))
    assert "Eine Seite 3 gibt es nicht: Die Liste hat 2 Seiten." in text
    assert f'href="{url}?page=2"' in text


def test_booking_from_a_later_page_returns_to_it(client, make, db):
    ids = build(make, db)
    log_in(client, "hr@vielefehlen.example")
    url = f"/cohorts/{ids['cohort']}/at-risk"
    second = client.get(url + "?page=2").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="(/participants/(\d+)/make-ups)">(.*?)</form>', second, re.S
    )
    assert form is not None
    session_id = re.search(r'name="session" value="(\d+)"', form.group(3)).group(1)
    answer = client.post(
        form.group(1),
        data={
            "csrf_token": csrf_token(client, url + "?page=2"),
            "back": "at-risk",
            "page": "2",
            "cohort": str(ids["cohort"]),
            "session": session_id,
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{url}?page=2#at-risk")
    after = html.unescape(client.get(url + "?page=2").get_data(as_text=True))
    assert "Nachholtermin gebucht" in after


def test_another_organisations_cohort_has_no_at_risk_page(client, make, db):
    ids = build(make, db)
    other = make.organisation("Fremd AG")
    make.user(Role.HR, [other], email="hr@fremd.example")
    log_in(client, "hr@fremd.example")
    assert client.get(f"/cohorts/{ids['cohort']}/at-risk").status_code == 404


def test_a_cohort_without_people_at_risk_says_so(client, make, db):
    org = make.organisation("Alle Da AG")
    make.user(Role.HR, [org], email="hr@alleda.example")
    cohort = make.cohort(org, start=TODAY - timedelta(days=40), name="Gruppe Vollzählig")
    anna = make.participant(org, cohort, first_name="Anna", last_name="Anwesend")
    enrolment = db.session.scalar(db.select(Enrolment).where(Enrolment.participant_id == anna.id))
    enrolment.enrolled_at = datetime.now(UTC) - timedelta(days=50)  # before it began
    db.session.commit()
    url = f"/cohorts/{cohort.id}/at-risk"
    log_in(client, "hr@alleda.example")
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Alle können das Zertifikat in dieser Gruppe noch erreichen." in page
