"""The personal page's subscribe form and an ended link as a phone's browser
gets them from a real HTTP server: the form answers 303 with the page's
address as Location (so a reload sends nothing again), the new address
rides in the person's session cookie to that page once, and an ended link
answers 404 with the participants' own page, kept in no cache."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import Purpose, Role
from app.services import tokens
from tests.real_server import compact_cohort, enrolled, fetch, organisation_with, served

ADDRESS = re.compile(r'id="feed-url" type="text" readonly value="(http://[^"]+/feeds/[^"]+)"')


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "personal_page_served") as (app, base):
        with app.app_context():
            org = organisation_with(Role.HR, "hr@example.org", "Hanna Roth")
            today = date.today()
            start = today + timedelta(days=7 - today.weekday(), weeks=2)
            person = enrolled(compact_cohort(org, "Kompakt Ulm", start), "Jana", "Hoffmann", "")
            old = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
            new = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
            db.session.commit()
            person_id = person.id
        yield app, base, old, new, person_id


def cookie_of(answer) -> dict[str, str]:
    for name, value in answer.getheaders():
        if name.lower() == "set-cookie" and value.startswith("session="):
            return {"Cookie": value.split(";", 1)[0]}
    raise AssertionError("no session cookie")


def test_subscribing_answers_see_other_and_the_page_shows_the_address_once(server):
    app, base, _, token, _ = server
    page = f"/p/{token}"
    done = fetch(f"{base}{page}/feed", method="POST", body=b"", headers={"Content-Length": "0"})
    assert done.status == 303, done.body[:300]
    assert done.getheader("Location") == f"{page}#calendar-title"
    browser = cookie_of(done)
    shown = fetch(f"{base}{page}", headers=browser)
    assert shown.status == 200
    feed = ADDRESS.search(shown.body.decode()).group(1)
    assert fetch(feed).status == 200
    # The reload, with the cookie the page answer left: no address, no new one.
    again = fetch(f"{base}{page}", headers=cookie_of(shown))
    assert ADDRESS.search(again.body.decode()) is None
    assert fetch(feed).status == 200
    back = fetch(f"{base}{page}/feed")  # the form's address opened as a page
    assert back.status == 303
    assert back.getheader("Location") == page


def test_a_replaced_link_works_and_an_ended_one_has_its_own_page(server):
    app, base, old, new, person_id = server
    kept = fetch(f"{base}/p/{old}")
    assert kept.status == 200
    assert "Dieser Link funktioniert noch bis" in kept.body.decode()
    with app.app_context():
        tokens.revoke_all("participant", person_id)
        db.session.commit()
    for ended in (old, new):
        gone = fetch(f"{base}/p/{ended}")
        assert gone.status == 404
        assert gone.getheader("Cache-Control") == "no-store"
        text = gone.body.decode()
        assert "Dieser Link gilt nicht mehr" in text
        assert "/login" not in text
