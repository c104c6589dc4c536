"""The participant's own page, opened by their personal link: each cohort
in a section of its own, in German, and nothing that leads to the staff's
login."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.models import Purpose, Role
from app.services import tokens
from cohorts.eligibility import Mark


def sections(page: str) -> dict[str, str]:
    """Each cohort's section of the page by its heading."""
    found = re.findall(
        r'<section class="panel cohort".*?<h2[^>]*>(.*?)</h2>(.*?)</section>', page, re.S
    )
    return {title: body for title, body in found}


def test_two_cohorts_are_shown_apart(client, make, db):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], name="Tina Trainerin")
    north = make.cohort(org, name="Gruppe Nord", start=date(2027, 3, 1), trainers=[trainer])
    south = make.cohort(org, key="blended", name="Gruppe Süd", start=date(2027, 9, 6))
    anna = make.participant(org, cohort=north, first_name="Anna", last_name="Albers")
    make.participant(org, cohort=south, first_name="Zoe", last_name="Zander")
    ben = make.participant(org, cohort=north, first_name="Ben", last_name="Brandt")
    from app.models import Enrolment

    db.session.add(Enrolment(cohort=south, participant=anna))
    db.session.commit()
    make.tandem(north, [anna, ben])
    north_first = min(north.sessions, key=lambda s: s.first_day)
    south_titles = {s.element.title("de") for s in south.sessions}
    north_titles = {s.element.title("de") for s in north.sessions}
    from app.services import attendance

    attendance.set_mark(north_first, anna, Mark.EXCUSED, None)
    db.session.commit()
    north_days = (
        min(s.first_day for s in north.sessions),
        max(s.last_day for s in north.sessions),
    )
    token = tokens.issue(Purpose.PERSONAL_PAGE, anna.id, org.id, None)
    db.session.commit()

    page = client.get(f"/p/{token}").get_data(as_text=True)
    shown = sections(page)
    assert list(shown) == ["Gruppe Nord", "Gruppe Süd"]
    nord, sued = shown["Gruppe Nord"], shown["Gruppe Süd"]
    assert "Tina Trainerin" in nord
    assert "Tina Trainerin" not in sued
    assert "Ben Brandt" in nord
    assert "Ben Brandt" not in sued
    assert "noch nicht gebildet" in sued
    assert re.search(rf"{north_days[0]:%d\.%m\.%Y} – (\w+\. )?{north_days[1]:%d\.%m\.%Y}", nord)
    assert "E entschuldigt" in nord
    assert "entschuldigt" not in sued
    only_south = south_titles - north_titles
    assert only_south
    assert all(title not in nord for title in only_south)
    assert any(title in sued for title in only_south)
    assert "2027-" not in page  # German dates only

    # No way into the staff's side: no login link, no link to the start page.
    assert 'href="/login' not in page
    assert 'href="/"' not in page
    assert f'class="brand" href="/p/{token}"' in page
    assert "Anmelden" not in page


def test_the_page_asks_the_same_questions_for_one_cohort_or_four(app, client, make, db):
    from app.models import Enrolment
    from tests.web.test_query_counts import statements_of

    def statements(cohorts: int) -> int:
        org = make.organisation(f"Org {cohorts}")
        person = make.participant(org, first_name="Anna")
        for number in range(cohorts):
            cohort = make.cohort(
                org,
                key="blended" if number % 2 else "compact",
                name=f"Gruppe {number}",
                start=date(2027, 3, 1) + timedelta(weeks=40 * number),
                trainers=[make.user(Role.TRAINER, [org])],
            )
            db.session.add(Enrolment(cohort=cohort, participant=person))
        db.session.commit()
        token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
        db.session.commit()
        run = statements_of(app.test_client(), db.engine, {"page": f"/p/{token}"})
        return len(run["page"])

    assert statements(4) == statements(1)
