"""Calendars as calendar programs and people see them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import icalendar
from ical.calendar_stream import IcsCalendarStream
from sqlalchemy import select

from app.models import (
    AccessToken,
    Cohort,
    Enrolment,
    Organisation,
    Participant,
    Purpose,
    Role,
    Session,
)
from app.services import tokens
from app.services.enrolments import enrol, withdraw
from app.services.sessions import cancel_session, move_session
from tests.web.helpers import csrf_token, log_in

TODAY = datetime.now(UTC).date()


def start_soon() -> date:
    monday = TODAY + timedelta(days=(7 - TODAY.weekday()) % 7 or 7)
    return monday + timedelta(weeks=2)


def participant_with_link(make, db, key="blended", region="DE-BY", timezone="Europe/Berlin"):
    org = make.organisation()
    cohort = make.cohort(
        org,
        key=key,
        start=start_soon(),
        region=region,
        timezone=timezone,
        venue="Schulungszentrum Augsburg, Raum 2",
        online_link="https://meet.example.org/gruppe",
    )
    person = make.participant(org, cohort=cohort, first_name="Änne", last_name="Öztürk")
    page_token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
    db.session.commit()
    return org, cohort, person, page_token


def subscribe(client, page_token) -> str:
    page = f"/p/{page_token}"
    done = client.post(f"{page}/feed", data={"csrf_token": csrf_token(client, page)})
    assert done.status_code == 303  # Post/Redirect/Get: a reload sends nothing again
    assert done.headers["Location"] == f"{page}#calendar-title"
    response = client.get(done.headers["Location"])
    match = re.search(
        r'id="feed-url" type="text" readonly value="http://localhost(/feeds/[^"]+)"',
        response.get_data(as_text=True),
    )
    assert match, "the new address is shown once"
    return match.group(1)


def parse(response):
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Encoding" not in response.headers
    content = response.get_data()
    IcsCalendarStream.calendar_from_ics(content.decode("utf-8"))  # a second parser agrees
    return icalendar.Calendar.from_ical(content)


def test_the_personal_page_shows_the_schedule_and_offers_the_download(client, make, db):
    _, cohort, _, page_token = participant_with_link(make, db)
    page = client.get(f"/p/{page_token}").get_data(as_text=True)
    assert "Ihr Terminplan, Änne" in page
    assert "Auftakt: Kennenlernen und Rollenverständnis" in page
    assert "Schulungszentrum Augsburg, Raum 2" in page
    download = client.get(f"/p/{page_token}/calendar.ics")
    calendar = parse(download)
    assert download.headers["Content-Disposition"].startswith("attachment")
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 7
    uids = {str(e["UID"]) for e in events}
    assert uids == {s.uid for s in db.session.get(Cohort, cohort.id).sessions}
    assert "REFRESH-INTERVAL" not in download.get_data(as_text=True)
    kickoff = next(e for e in events if str(e["SUMMARY"]).startswith("Auftakt"))
    assert str(kickoff["LOCATION"]) == "Schulungszentrum Augsburg, Raum 2"
    webinar = next(e for e in events if str(e["SUMMARY"]).startswith("Zwischen-Webinar"))
    assert str(webinar["URL"]) == "https://meet.example.org/gruppe"
    assert "https://meet.example.org/gruppe" in str(webinar["DESCRIPTION"])
    assert "LOCATION" not in webinar
    video = next(e for e in events if str(e["SUMMARY"]).startswith("Theoriephase 1"))
    assert (video["DTEND"].dt - video["DTSTART"].dt).days == 14  # exclusive end
    # Seven months cross a daylight-saving change: local times stay, offsets change.
    timed = [e["DTSTART"].dt for e in events if hasattr(e["DTSTART"].dt, "hour")]
    assert {(t.hour, t.minute) for t in timed} <= {(9, 0), (10, 0), (14, 0)}
    assert len({t.utcoffset() for t in timed}) == 2


def test_subscribe_with_names_refresh_and_caching(client, make, db):
    _, _, _, page_token = participant_with_link(make, db)
    feed_url = subscribe(client, page_token)
    response = client.get(feed_url)
    calendar = parse(response)
    text = response.get_data(as_text=True)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n" in text
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"])
    assert calendar["METHOD"] == "PUBLISH"
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert client.get(feed_url, headers={"If-None-Match": etag}).status_code == 304
    weak = client.get(feed_url, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304  # a proxy may have weakened the tag
    # A date alone cannot prove the copy current (see the next test): the file.
    only_date = client.get(feed_url, headers={"If-Modified-Since": modified})
    assert only_date.status_code == 200
    assert only_date.data == response.data
    assert client.get(feed_url, headers={"If-None-Match": '"other"'}).status_code == 200
    # Outlook-style clients ask again later; the page offers a new address at any time.
    page = client.get(f"/p/{page_token}").get_data(as_text=True)
    assert "Neue Adresse erzeugen" in page
    assert feed_url not in page  # shown only once


def test_a_move_and_a_cancel_reach_the_feed(client, make, db):
    _, cohort, _, page_token = participant_with_link(make, db)
    feed_url = subscribe(client, page_token)
    first = client.get(feed_url)
    etag = first.headers["ETag"]
    webinar = next(
        s for s in db.session.get(Cohort, cohort.id).sessions if s.element.key == "webinar"
    )
    uid, old_day = webinar.uid, webinar.first_day
    # Later on its day: the webinar stays the working day after the first phase.
    move_session(
        webinar,
        old_day,
        time(16, 30),
        pin=True,
        actor=None,
        today=TODAY,
        expected_version=webinar.lock_version,
    )
    db.session.commit()
    moved = client.get(feed_url, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    event = next(e for e in parse(moved).walk("VEVENT") if str(e["UID"]) == uid)
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt.date() == old_day
    assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (16, 30)
    webinar = db.session.scalar(select(Session).where(Session.uid == uid))
    cancel_session(webinar, actor=None, expected_version=webinar.lock_version)
    db.session.commit()
    event = next(e for e in parse(client.get(feed_url)).walk("VEVENT") if str(e["UID"]) == uid)
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    # After the configured period a cancelled session leaves the feed.
    webinar = db.session.scalar(select(Session).where(Session.uid == uid))
    webinar.updated_at = datetime.now(UTC) - timedelta(days=61)
    db.session.commit()
    uids = {str(e["UID"]) for e in parse(client.get(feed_url)).walk("VEVENT")}
    assert uid not in uids


def test_a_withdrawn_participant_gets_an_empty_feed_with_a_note(client, make, db):
    _, cohort, person, page_token = participant_with_link(make, db)
    feed_url = subscribe(client, page_token)
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.participant_id == person.id))
    withdraw(enrolment, None)
    db.session.commit()
    calendar = parse(client.get(feed_url))
    assert list(calendar.walk("VEVENT")) == []
    assert "nicht (mehr) in einer Gruppe eingeschrieben" in str(calendar["X-WR-CALDESC"])


def test_enrolling_again_reaches_the_feed_even_when_no_date_moves(client, make, db):
    """Withdrawn from two cohorts, enrolled again in the one whose sessions
    are long gone: no session and no latest date changes, but the calendar's
    name and note do, so its ETag must."""
    org, cohort, person, page_token = participant_with_link(make, db)
    org_id, cohort_id, person_id = org.id, cohort.id, person.id
    feed_url = subscribe(client, page_token)
    old = make.cohort(
        db.session.get(Organisation, org_id), key="compact", start=start_soon(), name="Gruppe Alt"
    )
    for session in old.sessions:
        cancel_session(session, actor=None, expected_version=session.lock_version)
    db.session.flush()
    for session in old.sessions:
        session.updated_at = datetime.now(UTC) - timedelta(days=61)  # out of the feed
    old_id = old.id
    enrol(old, db.session.get(Participant, person_id), None)
    db.session.commit()
    for withdrawn in (old_id, cohort_id):  # the later withdrawal is the newest date
        enrolment = db.session.scalar(
            select(Enrolment).where(
                Enrolment.participant_id == person_id, Enrolment.cohort_id == withdrawn
            )
        )
        withdraw(enrolment, None)
        db.session.commit()
    empty = client.get(feed_url)
    assert "X-WR-CALDESC" in empty.get_data(as_text=True)
    enrol(db.session.get(Cohort, old_id), db.session.get(Participant, person_id), None)
    db.session.commit()
    again = client.get(feed_url, headers={"If-None-Match": empty.headers["ETag"]})
    calendar = parse(again)
    assert str(calendar["X-WR-CALNAME"]) == "Qualiplan – Gruppe Alt"
    assert "X-WR-CALDESC" not in calendar


def test_renewing_and_revoking_end_the_old_address_at_once(client, make, db):
    _, _, _, page_token = participant_with_link(make, db)
    first = subscribe(client, page_token)
    second = subscribe(client, page_token)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    page = f"/p/{page_token}"
    client.post(f"{page}/feed/revoke", data={"csrf_token": csrf_token(client, page)})
    assert client.get(second).status_code == 404


def test_tokens_only_open_what_they_were_made_for(client, make, db):
    org, cohort, person, page_token = participant_with_link(make, db)
    feed_url = subscribe(client, page_token)
    feed_token = feed_url.removeprefix("/feeds/").removesuffix(".ics").split("?")[0]
    assert client.get("/feeds/guessed-but-never-issued-token.ics").status_code == 404
    assert client.get(f"/feeds/{page_token}.ics").status_code == 404  # a page token as feed
    assert client.get(f"/p/{feed_token}").status_code == 404  # a feed token as page
    # Neither token logs anybody in, nor opens a staff page.
    for token in (page_token, feed_token):
        response = client.get(f"/cohorts/{cohort.id}", query_string={"token": token})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    tokens.revoke(Purpose.PERSONAL_PAGE, person.id)
    db.session.commit()
    assert client.get(f"/p/{page_token}").status_code == 404
    assert client.get(f"/p/{page_token}/calendar.ics").status_code == 404
    stored = db.session.scalars(select(AccessToken)).all()
    assert all(page_token not in t.token_hash and feed_token not in t.token_hash for t in stored)


def test_trainer_and_cohort_calendars(client, make, db):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], email="t@example.org", name="Theresa Trainer")
    cohort = make.cohort(
        org, start=start_soon(), region="DE-BY", trainers=[trainer], name="Gruppe Nord"
    )
    make.cohort(org, start=start_soon(), region="DE-BY", name="Ohne Theresa")
    cohort_id = cohort.id
    log_in(client, "t@example.org")
    mine = parse(client.get("/me/calendar.ics"))
    summaries = sorted(str(e["SUMMARY"]) for e in mine.walk("VEVENT"))
    assert summaries == [
        "Reflexionstag: Erfahrungen teilen, Wissen auffrischen, Netzwerk stärken (Gruppe Nord)",
        "Seminartag 1: Rolle, Lernformate und Lerntheorie (Gruppe Nord)",
        "Seminartag 2: Der Prozess der Lernbegleitung (Gruppe Nord)",
    ]
    assert "Trainer:innen: Theresa Trainer" in str(mine.walk("VEVENT")[0]["DESCRIPTION"])
    response = client.post("/me/feed", data={"csrf_token": csrf_token(client, "/me")})
    feed = re.search(
        r'readonly value="http://localhost(/feeds/[^"]+)"', response.get_data(as_text=True)
    ).group(1)
    assert len(list(parse(client.get(feed)).walk("VEVENT"))) == 3
    cohort_calendar = parse(client.get(f"/cohorts/{cohort_id}/calendar.ics"))
    assert str(cohort_calendar["X-WR-CALNAME"]) == "Qualiplan – Gruppe Nord"


def test_cohorts_in_different_time_zones_each_get_their_vtimezone(client, make, db):
    org, cohort, person, page_token = participant_with_link(make, db, key="compact")
    second = make.cohort(
        org,
        key="compact",
        start=start_soon(),
        region="AT-9",
        timezone="Europe/Vienna",
        name="Wien",
    )
    db.session.add(Enrolment(cohort=second, participant=db.session.get(Participant, person.id)))
    db.session.commit()
    text = client.get(f"/p/{page_token}/calendar.ics").get_data(as_text=True)
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Vienna\r\n" in text
    tzids = set(re.findall(r"TZID=([^:;]+)", text))
    assert tzids == {"Europe/Berlin", "Europe/Vienna"}
    for line in text.encode("utf-8").split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")


def test_a_make_up_booked_elsewhere_reaches_the_feed_and_leaves_it(client, make, db):
    from app.models import AttendanceRecord
    from cohorts.eligibility import Mark

    org, cohort, person, page_token = participant_with_link(make, db)
    org_id, cohort_id, person_id = org.id, cohort.id, person.id
    feed_url = subscribe(client, page_token)
    host = make.cohort(
        db.session.get(Organisation, org_id),
        key="blended",
        start=start_soon() + timedelta(weeks=4),
        name="Gruppe Nachholen",
    )
    webinar = next(s for s in host.sessions if s.element.key == "webinar")
    uid = webinar.uid
    first = client.get(feed_url)
    assert uid not in {str(e["UID"]) for e in parse(first).walk("VEVENT")}
    record = AttendanceRecord(
        session_id=webinar.id,
        participant_id=person_id,
        for_cohort_id=cohort_id,
        mark=Mark.NOT_RECORDED,
    )
    db.session.add(record)
    db.session.commit()
    record_id = record.id
    booked = client.get(feed_url, headers={"If-None-Match": first.headers["ETag"]})
    assert uid in {str(e["UID"]) for e in parse(booked).walk("VEVENT")}
    # The personal page shows it under the cohort it counts for.
    page = client.get(f"/p/{page_token}").get_data(as_text=True)
    section = page.split("Nachholtermine in anderen Gruppen", 1)[1].split("</table>", 1)[0]
    assert "Zwischen-Webinar" in section
    assert "Gruppe Nachholen" in section
    assert "gebucht" in section
    # The host moves it: the copy the client holds is out of date.
    webinar = db.session.scalar(select(Session).where(Session.uid == uid))
    move_session(
        webinar,
        webinar.first_day,
        time(16, 30),
        pin=True,
        actor=None,
        today=TODAY,
        expected_version=webinar.lock_version,
    )
    db.session.commit()
    moved = client.get(feed_url, headers={"If-None-Match": booked.headers["ETag"]})
    event = next(e for e in parse(moved).walk("VEVENT") if str(e["UID"]) == uid)
    assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (16, 30)
    # The booking cancelled: gone again.
    db.session.delete(db.session.get(AttendanceRecord, record_id))
    db.session.commit()
    cancelled = client.get(feed_url, headers={"If-None-Match": moved.headers["ETag"]})
    assert uid not in {str(e["UID"]) for e in parse(cancelled).walk("VEVENT")}
