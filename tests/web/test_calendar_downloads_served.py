"""Calendar files as a browser and a calendar program receive them from a real
HTTP server: names outside Latin-1 ("Jörg Yılmaz", "Kompakt İzmir") in the
file name reach the client as RFC 6266 names, and the body is iCalendar.
Flask's test client would not notice a header the server cannot encode, so
these go through tests/real_server.py."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from app.extensions import db
from app.models import Purpose, Role
from app.services import tokens
from tests.conftest import PASSWORD
from tests.real_server import (
    compact_cohort,
    enrolled,
    fetch,
    organisation_with,
    served,
    session_cookie,
)

TODAY = date.today()


def world(app) -> SimpleNamespace:
    """A trainer, the cohort "Kompakt İzmir" and Jörg Yılmaz enrolled in it with
    a personal link and a calendar subscription, committed as the app would."""
    with app.app_context():
        org = organisation_with(Role.TRAINER, "trainer@example.org", "Tülay Şahin")
        start = TODAY + timedelta(days=7 - TODAY.weekday(), weeks=2)
        cohort = compact_cohort(org, "Kompakt İzmir", start)
        person = enrolled(cohort, "Jörg", "Yılmaz", "joerg@example.org")
        page = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
        feed = tokens.issue(Purpose.PARTICIPANT_FEED, person.id, org.id, None)
        db.session.commit()
        return SimpleNamespace(cohort=cohort.id, page=page, feed=feed)


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "calendar_downloads") as (app, base):
        yield world(app), base


def assert_calendar(answer, disposition: str, fallback: str, encoded: str) -> icalendar.Calendar:
    assert answer.status == 200, answer.body[:500]
    assert answer.getheader("Content-Type") == "text/calendar; charset=utf-8"
    assert answer.getheader("Content-Disposition") == (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    )
    text = answer.body.decode("utf-8")
    IcsCalendarStream.calendar_from_ics(text)  # a second parser agrees
    return icalendar.Calendar.from_ical(answer.body)


def test_a_participant_downloads_their_calendar_from_the_personal_page(server):
    ids, base = server
    answer = fetch(f"{base}/p/{ids.page}/calendar.ics?lang=de")
    calendar = assert_calendar(
        answer,
        "attachment",
        "Qualiplan Joerg Yilmaz.ics",
        "Qualiplan%20J%C3%B6rg%20Y%C4%B1lmaz.ics",
    )
    assert len(list(calendar.walk("VEVENT"))) == 3
    assert str(calendar["X-WR-CALNAME"]) == "Qualiplan – Kompakt İzmir"


def test_a_feed_answers_with_its_name_and_then_not_modified(server):
    ids, base = server
    answer = fetch(f"{base}/feeds/{ids.feed}.ics")
    calendar = assert_calendar(
        answer,
        "inline",
        "Qualiplan Joerg Yilmaz.ics",
        "Qualiplan%20J%C3%B6rg%20Y%C4%B1lmaz.ics",
    )
    assert len(list(calendar.walk("VEVENT"))) == 3
    etag = answer.getheader("ETag")
    again = fetch(f"{base}/feeds/{ids.feed}.ics", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""


def test_staff_download_the_calendars_of_a_cohort_and_their_own(server):
    ids, base = server
    body = urlencode({"email": "trainer@example.org", "password": PASSWORD}).encode()
    login = fetch(
        f"{base}/login", "POST", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert login.status == 302, login.body
    headers = session_cookie(login)
    cohort = fetch(f"{base}/cohorts/{ids.cohort}/calendar.ics", headers=headers)
    assert_calendar(
        cohort,
        "attachment",
        "Qualiplan Kompakt Izmir.ics",
        "Qualiplan%20Kompakt%20%C4%B0zmir.ics",
    )
    own = fetch(f"{base}/me/calendar.ics", headers=headers)
    assert_calendar(
        own,
        "attachment",
        "Qualiplan Tuelay Sahin.ics",
        "Qualiplan%20T%C3%BClay%20%C5%9Eahin.ics",
    )
