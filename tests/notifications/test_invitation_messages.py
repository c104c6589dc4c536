"""Calendar invitations by e-mail (iTIP/iMIP): every message read back with
icalendar and with the independent `ical` parser, the MIME method equal to
the calendar's METHOD, one VEVENT per session with its UID and revision,
ORGANIZER and ATTENDEE; the change in words in the recipient's language;
and one invitation sent through a real SMTP server."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from app import notices, queue
from app.models import Delivery, Notification
from app.notices.wording import change_words
from app.services import notifications
from tests.smtp import mail_server

WHATS = (
    None,
    "enrolled",
    "moved",
    "details",
    "restored",
    "cancelled",
    "withdrawn",
    "trainer_added",
    "trainer_removed",
    "cohort_cancelled",
    "invitations_chosen",
    "feed_chosen",
)
CANCELLING = {"cancelled", "withdrawn", "trainer_removed", "cohort_cancelled", "feed_chosen"}
# Cancellations of one person's copy while the session goes on.
UNINVITING = {"withdrawn", "trainer_removed", "feed_chosen"}


def payload(**changes: Any) -> dict[str, Any]:
    """A payload as /tmp/q/payload.md describes it: a timed session that
    moved from Tuesday to Thursday."""
    base: dict[str, Any] = {
        "uid": "session-17-7f3a@qualiplan",
        "sequence": 3,
        "stamp": "2026-12-02T07:30:00+00:00",
        "title": "Seminartag 2",
        "cohort": "Lernbegleitung Herbst 2026",
        "organisation": "Muster AG",
        "organizer": {"name": "Muster AG", "address": "lernen@muster.example"},
        "attendee": {
            "name": "Jörg Yılmaz",
            "address": "joerg@muster.example",
            "role": "REQ-PARTICIPANT",
        },
        "timezone": "Europe/Berlin",
        "all_day": False,
        "start": "2026-11-05T09:00:00+01:00",
        "end": "2026-11-05T17:00:00+01:00",
        "location": "Bildungszentrum Nord, Raum 2",
        "link": None,
        "personal_url": "https://qualiplan.example/me/abc",
        "change": {
            "what": "moved",
            "before": {
                "start": "2026-11-03T09:00:00+01:00",
                "end": "2026-11-03T17:00:00+01:00",
                "all_day": False,
                "location": "Bildungszentrum Nord, Raum 2",
                "link": None,
            },
        },
    }
    base.update(copy.deepcopy(changes))
    return base


def all_day(**changes: Any) -> dict[str, Any]:
    """A Monday-to-Friday span, `end` its last day."""
    return payload(
        all_day=True,
        start="2026-11-02",
        end="2026-11-06",
        change={"what": "enrolled", "before": None},
        **changes,
    )


def calendar_part(message: EmailMessage) -> EmailMessage:
    [part] = [p for p in message.iter_parts() if p.get_content_type() == "text/calendar"]
    return part  # type: ignore[return-value]


def read_back(message: EmailMessage, method: str, data: dict[str, Any]):
    """The message's calendar, checked with both parsers; returns icalendar's
    VEVENT and the raw text."""
    assert message.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in message.iter_parts()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    part = calendar_part(message)
    assert part.get_param("method") == method
    assert part.get_content_charset() == "utf-8"
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8")

    # Lines end in CRLF (the last one too) and fold at 75 octets.
    assert raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))

    # icalendar
    calendar = Calendar.from_ical(raw)
    assert str(calendar["method"]) == method
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == data["uid"]
    assert int(event["sequence"]) == data["sequence"]
    stamp = event["dtstamp"].dt
    assert stamp.utcoffset().total_seconds() == 0
    assert stamp == datetime.fromisoformat(data["stamp"])
    assert text.count("\r\nDTSTAMP:") == 1
    assert "DTSTAMP:20261202T073000Z" in text
    organizer = event["organizer"]
    assert str(organizer) == f"mailto:{data['organizer']['address']}"
    assert organizer.params["CN"] == data["organizer"]["name"]
    attendee = event["attendee"]
    assert str(attendee) == f"mailto:{data['attendee']['address']}"
    assert attendee.params["CN"] == data["attendee"]["name"].replace('"', "'")
    assert attendee.params["ROLE"] == data["attendee"]["role"]
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "FALSE"
    uninvite = (data.get("change") or {}).get("what") in UNINVITING
    if uninvite:
        # RFC 5546 3.2.5: a CANCEL that uninvites one attendee has no STATUS.
        assert method == "CANCEL"
        assert "status" not in event
    else:
        assert str(event["status"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")

    # ical, the second parser
    [second] = IcsCalendarStream.from_ics(text).calendars
    assert second.method == method
    [other] = second.events
    assert other.uid == data["uid"]
    assert other.sequence == data["sequence"]
    assert other.dtstamp == datetime.fromisoformat(data["stamp"]).astimezone(UTC)
    assert other.organizer.uri == f"mailto:{data['organizer']['address']}"
    [person] = other.attendees
    assert person.uri == f"mailto:{data['attendee']['address']}"
    assert person.rsvp is False
    assert person.role == data["attendee"]["role"]
    if uninvite:
        assert other.status is None
    else:
        assert other.status.value == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")

    if not data["all_day"]:
        # Every TZID has its VTIMEZONE, in RRULE form (no RDATE lists).
        [zone] = calendar.walk("VTIMEZONE")
        assert str(zone["tzid"]) == data["timezone"]
        assert {c.name for c in zone.subcomponents} == {"DAYLIGHT", "STANDARD"}
        assert all("RRULE" in c and "RDATE" not in c for c in zone.subcomponents)
        assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
        assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
        [second_zone] = second.timezones
        assert second_zone.tz_id == data["timezone"]
        assert all(rule.rrule is not None for rule in second_zone.daylight)
        assert all(rule.rrule is not None for rule in second_zone.standard)
        assert f"DTSTART;TZID={data['timezone']}:" in text
        start = datetime.fromisoformat(data["start"])
        assert event["dtstart"].dt == start
        assert other.dtstart == start
    return event, text


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_an_invitation_is_a_request_with_one_event_for_the_person():
    data = payload(change={"what": "enrolled", "before": None}, link="https://meet.example/abc")
    message = notices.render("invitation", data, "de")
    event, text = read_back(message, "REQUEST", data)
    assert text.count("BEGIN:VEVENT") == 1
    assert str(event["summary"]) == "Seminartag 2"
    assert str(event["location"]) == "Bildungszentrum Nord, Raum 2"
    assert str(event["url"]) == "https://meet.example/abc"
    assert "https://meet.example/abc" in str(event["description"])
    assert event["dtend"].dt == datetime.fromisoformat(data["end"])
    # Replies are not read, and the message says so.
    assert "wird nicht gelesen" in plain(message)
    assert "wird nicht gelesen" in str(event["description"])
    assert message["Subject"] == "Einladung: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert "eingeschrieben" in plain(message)
    # Sender, recipient and Message-ID are the delivery's.
    assert message["From"] is None
    assert message["To"] is None


def test_a_move_is_an_update_of_the_same_uid_with_a_higher_sequence_and_says_so():
    first = payload(
        change={"what": "enrolled", "before": None},
        start="2026-11-03T09:00:00+01:00",
        end="2026-11-03T17:00:00+01:00",
    )
    moved = payload(sequence=4, stamp="2026-12-02T07:30:00+00:00")
    invitation = notices.render("invitation", first, "de")
    update = notices.render("invitation", moved, "de")
    before, _ = read_back(invitation, "REQUEST", first)
    after, _ = read_back(update, "REQUEST", moved)
    assert str(before["uid"]) == str(after["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    assert after["dtstart"].dt.date() == date(2026, 11, 5)
    assert update["Subject"] == "Verschoben: Seminartag 2 – Lernbegleitung Herbst 2026"
    sentence = (
        "Seminartag 2 ist verschoben: von Di. 03.11.2026 auf Do. 05.11.2026, "
        "09:00–17:00, Bildungszentrum Nord, Raum 2."
    )
    assert sentence in plain(update)
    assert sentence in html(update)
    assert sentence in str(after["description"])


def test_a_move_in_english_and_a_change_of_the_hours_name_both_times():
    moved = payload(
        start="2026-11-03T10:00:00+01:00",
        end="2026-11-03T18:00:00+01:00",
    )
    message = notices.render("invitation", moved, "en")
    assert message["Subject"] == "Moved: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert (
        "Seminartag 2 is moved: from Tue 3 Nov 2026, 09:00–17:00 to Tue 3 Nov 2026, "
        "10:00–18:00, Bildungszentrum Nord, Raum 2." in plain(message)
    )
    read_back(message, "REQUEST", moved)


def test_a_cancellation_is_a_cancel_of_the_same_uid():
    data = payload(sequence=5, change={"what": "cancelled", "before": None})
    message = notices.render("cancellation", data, "en")
    event, text = read_back(message, "CANCEL", data)
    assert "METHOD:CANCEL" in text
    assert message["Subject"] == "Cancelled: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert "Seminartag 2 is cancelled: Thu 5 Nov 2026, 09:00–17:00" in plain(message)
    assert "cancelled or removes it" in plain(message)

    german = notices.render("cancellation", data, "de")
    read_back(german, "CANCEL", data)
    assert german["Subject"] == "Abgesagt: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert "Seminartag 2 ist abgesagt: Do. 05.11.2026, 09:00–17:00" in plain(german)


def test_a_withdrawal_cancels_for_the_person_only_with_the_sessions_sequence():
    data = payload(change={"what": "withdrawn", "before": None})
    message = notices.render("cancellation", data, "de")
    read_back(message, "CANCEL", data)
    assert message["Subject"] == "Ausgetragen: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert "Sie sind aus der Gruppe „Lernbegleitung Herbst 2026“ ausgetragen" in plain(message)


def test_an_all_day_span_is_written_as_dates_with_an_exclusive_end():
    for language in ("de", "en"):
        data = all_day()
        message = notices.render("invitation", data, language)
        event, text = read_back(message, "REQUEST", data)
        assert "DTSTART;VALUE=DATE:20261102" in text
        assert "DTEND;VALUE=DATE:20261107" in text  # Friday's span ends on Saturday
        assert event["dtstart"].dt == date(2026, 11, 2)
        assert event["dtend"].dt == date(2026, 11, 7)
        [other] = IcsCalendarStream.from_ics(text).calendars[0].events
        assert other.dtstart == date(2026, 11, 2)
        assert other.dtend == date(2026, 11, 7)
        assert "TZID" not in text  # dates have no zone
    assert "Mo. 02.11.2026 – Fr. 06.11.2026" in plain(notices.render("invitation", data, "de"))
    assert "Mon 2 Nov 2026 – Fri 6 Nov 2026" in plain(notices.render("invitation", data, "en"))


def test_names_with_umlauts_and_markup_are_escaped_in_html_and_kept_in_the_calendar():
    data = payload(
        title="Prüfung <Teil 1> & Übung",
        cohort='Lernbegleitung "Süd" <b>2026</b>',
        organisation="Müller & Söhne <GmbH>",
        organizer={"name": "Müller & Söhne <GmbH>", "address": "lernen@mueller.example"},
        attendee={
            "name": 'Jörg "Jo" Yılmaz <script>',
            "address": "joerg@mueller.example",
            "role": "REQ-PARTICIPANT",
        },
        location="Raum <3> & Foyer; Süd, 2. OG",
        link="javascript:alert(1)",
    )
    message = notices.render("invitation", data, "de")
    page = html(message)
    for raw in ("<script>", "<b>2026</b>", "<Teil 1>"):
        assert raw not in page
    assert "Jörg &#34;Jo&#34; Yılmaz &lt;script&gt;" in page
    assert "Prüfung &lt;Teil 1&gt; &amp; Übung" in page
    assert 'href="javascript' not in page  # only web addresses become links
    assert '<html lang="de">' in page
    assert "Prüfung <Teil 1> & Übung" in plain(message)
    event, _ = read_back(message, "REQUEST", data)
    assert str(event["summary"]) == "Prüfung <Teil 1> & Übung"
    assert str(event["location"]) == "Raum <3> & Foyer; Süd, 2. OG"
    assert event["organizer"].params["CN"] == "Müller & Söhne <GmbH>"
    assert message["Subject"] == (
        'Verschoben: Prüfung <Teil 1> & Übung – Lernbegleitung "Süd" <b>2026</b>'
    )


def test_a_title_with_a_colon_is_quoted_in_the_sentence():
    data = payload(title="Seminartag 1: Rolle und Lernformate")
    text = plain(notices.render("invitation", data, "de"))
    assert "„Seminartag 1: Rolle und Lernformate“ ist verschoben: von Di. 03.11.2026" in text
    english = plain(notices.render("invitation", data, "en"))
    assert "“Seminartag 1: Rolle und Lernformate” is moved: from Tue 3 Nov 2026" in english


def test_a_name_with_a_line_break_keeps_the_subject_on_one_line():
    message = notices.render("invitation", payload(cohort="Herbst\r\nBcc: x@example.org"), "en")
    assert message["Subject"] == "Moved: Seminartag 2 – Herbst Bcc: x@example.org"
    assert message["Bcc"] is None


def test_a_trainer_is_the_chair_and_sees_the_cohort_in_the_summary():
    data = payload(
        attendee={"name": "Anna Trainerin", "address": "anna@muster.example", "role": "CHAIR"},
        change={"what": "trainer_added", "before": None},
    )
    message = notices.render("invitation", data, "de")
    event, _ = read_back(message, "REQUEST", data)
    assert event["attendee"].params["ROLE"] == "CHAIR"
    assert str(event["summary"]) == "Seminartag 2 (Lernbegleitung Herbst 2026)"
    assert "Sie sind als Trainer:in für Seminartag 2" in plain(message)
    removed = payload(
        attendee={"name": "Anna Trainerin", "address": "anna@muster.example", "role": "CHAIR"},
        change={"what": "trainer_removed", "before": None},
    )
    message = notices.render("cancellation", removed, "en")
    read_back(message, "CANCEL", removed)
    assert message["Subject"] == "No longer assigned: Seminartag 2 – Lernbegleitung Herbst 2026"


@pytest.mark.parametrize("what", WHATS)
def test_every_change_is_said_in_german_and_in_english(what):
    kind = "cancellation" if what in CANCELLING else "invitation"
    method = "CANCEL" if what in CANCELLING else "REQUEST"
    before = payload()["change"]["before"] if what in ("moved", "details") else None
    data = payload(change=None if what is None else {"what": what, "before": before})
    said = {}
    for language in ("de", "en"):
        message = notices.render(kind, data, language)
        read_back(message, method, data)
        text = plain(message)
        assert "Seminartag 2" in message["Subject"]
        assert "Lernbegleitung Herbst 2026" in message["Subject"]
        said[language] = (message["Subject"], text.splitlines()[2])
    assert said["de"][0] != said["en"][0]
    assert said["de"][1] != said["en"][1]
    assert said["de"][1].startswith(("Sie ", "Seminartag 2 ", "Die ", "Ihre Termine "))
    assert "Do. 05.11.2026, 09:00–17:00, Bildungszentrum Nord, Raum 2" in said["de"][1]
    assert "Thu 5 Nov 2026, 09:00–17:00, Bildungszentrum Nord, Raum 2" in said["en"][1]


def test_a_new_venue_a_switch_to_online_and_a_new_link_each_have_their_sentence():
    before = payload()["change"]["before"]
    venue = payload(location="Haus B", change={"what": "details", "before": before})
    assert "Seminartag 2 hat einen neuen Ort: Do. 05.11.2026, 09:00–17:00, Haus B." in plain(
        notices.render("invitation", venue, "de")
    )
    online = payload(
        location=None, link="https://meet.example/x", change={"what": "details", "before": before}
    )
    text = plain(notices.render("invitation", online, "de"))
    assert "Seminartag 2 findet jetzt online statt: Do. 05.11.2026, 09:00–17:00, online." in text
    assert "Link zum Online-Termin: https://meet.example/x" in text
    link = payload(link="https://meet.example/new", change={"what": "details", "before": before})
    text = plain(notices.render("invitation", link, "en"))
    assert "Seminartag 2 has a new online meeting link:" in text
    assert "https://meet.example/new" in text


def test_people_who_follow_a_feed_get_the_same_words_without_a_calendar():
    subject, body = change_words(payload(), "de")
    assert subject == "Verschoben: Seminartag 2 – Lernbegleitung Herbst 2026"
    assert body.startswith("Seminartag 2 ist verschoben: von Di. 03.11.2026 auf Do. 05.11.2026")
    assert "Ihre persönliche Seite: https://qualiplan.example/me/abc" in body
    subject, _ = change_words(payload(change={"what": "cohort_cancelled", "before": None}), "en")
    assert subject == "Cancelled: Seminartag 2 – Lernbegleitung Herbst 2026"


def test_an_unknown_change_or_one_of_the_wrong_kind_is_refused_in_words():
    with pytest.raises(ValueError, match="unknown change 'exploded'"):
        notices.render("invitation", payload(change={"what": "exploded", "before": None}), "de")
    with pytest.raises(ValueError, match="'cancelled' is not sent as 'invitation'"):
        notices.render("invitation", payload(change={"what": "cancelled", "before": None}), "de")
    with pytest.raises(ValueError, match="'moved' is not sent as 'cancellation'"):
        notices.render("cancellation", payload(), "de")


@pytest.fixture
def server(app, db):
    queue.huey.flush()
    with mail_server(app) as running:
        yield running
    queue.huey.flush()


def test_an_invitation_arrives_through_a_real_mail_server_with_encoded_headers(db, make, server):
    org = make.organisation()
    data = payload(
        cohort="Übergänge gestalten 2026",
        organizer={"name": "Muster AG", "address": "lernen@muster.example"},
        **{"from": "Muster AG <lernen@muster.example>"},
    )
    notifications.record(
        kind="invitation",
        key=f"invitation:17:{data['sequence']}:p1",
        address="joerg@muster.example",
        name="Jörg Yılmaz",
        organisation_id=org.id,
        payload=data,
        language="de",
    )
    db.session.commit()
    assert queue.run_pending() == 1
    [message] = server.inbox.messages
    # Non-ASCII names travel as encoded words; read back they are whole again.
    raw = dict(message.raw_items())
    assert all(value.isascii() for value in raw.values())
    assert "=?utf-8?" in raw["To"].lower()
    assert "=?utf-8?" in raw["Subject"].lower()
    assert str(message["To"]) == "Jörg Yılmaz <joerg@muster.example>"
    assert parseaddr(str(message["From"]))[1] == "lernen@muster.example"
    assert str(message["Subject"]) == "Verschoben: Seminartag 2 – Übergänge gestalten 2026"
    assert "Hallo Jörg Yılmaz," in plain(message)
    event, _ = read_back(message, "REQUEST", data)
    # The ORGANIZER is the sender the message comes from.
    assert str(event["organizer"]) == "mailto:" + parseaddr(str(message["From"]))[1]
    [row] = db.session.query(Notification).all()
    assert row.state == Delivery.SENT
    assert row.subject == "Verschoben: Seminartag 2 – Übergänge gestalten 2026"


def test_a_change_of_choice_to_the_feed_removes_the_invited_copy_without_saying_cancelled():
    data = payload(change={"what": "feed_chosen", "before": None})
    message = notices.render("cancellation", data, "de")
    _, text = read_back(message, "CANCEL", data)
    assert "STATUS" not in text
    words = plain(message)
    assert message["Subject"] == (
        "Jetzt in Ihrem abonnierten Kalender: Seminartag 2 – Lernbegleitung Herbst 2026"
    )
    assert "das Abonnement enthält Seminartag 2 weiterhin" in words
    assert "abgesagt" not in words
    back = payload(change={"what": "invitations_chosen", "before": None})
    message = notices.render("invitation", back, "en")
    read_back(message, "REQUEST", back)
    assert "Your dates now come as calendar invitations, as you chose." in plain(message)


def calendars_in(messages: list[EmailMessage]) -> list[tuple[str, Any]]:
    """(MIME method, icalendar VEVENT) of each message, each read by both parsers."""
    found = []
    for message in messages:
        part = calendar_part(message)
        raw = part.get_payload(decode=True)
        calendar = Calendar.from_ical(raw)
        assert str(calendar["method"]) == part.get_param("method")
        [event] = calendar.walk("VEVENT")
        [second] = IcsCalendarStream.from_ics(raw.decode("utf-8")).calendars
        assert second.method == part.get_param("method")
        assert second.events[0].uid == str(event["uid"])
        assert second.events[0].sequence == int(event["sequence"])
        found.append((part.get_param("method"), event))
    return found


def test_enrolling_cancelling_and_restoring_a_session_reach_the_persons_calendar_in_place(
    db, make, server
):
    from app.services.enrolments import enrol
    from app.services.sessions import cancel_session, restore_session

    org = make.organisation()
    org.mail_from = "Muster AG Lernen <lernen@muster.example>"
    cohort = make.cohort(org, name="Übergänge <2027> & mehr", start=date(2027, 3, 1))
    person = make.participant(
        org, first_name="Jörg", last_name="Yılmaz", email="joerg@muster.example", language="de"
    )
    enrol(cohort, person, None)
    db.session.commit()
    queue.run_pending()
    sessions = {s.uid: s for s in cohort.sessions}
    invited = calendars_in(server.inbox.to("joerg@muster.example"))
    # One invitation per session, each with the session's UID and revision.
    assert sorted(str(e["uid"]) for _, e in invited) == sorted(sessions)
    for method, event in invited:
        assert method == "REQUEST"
        session = sessions[str(event["uid"])]
        assert int(event["sequence"]) == session.revision
        assert str(event["organizer"]) == "mailto:lernen@muster.example"
        assert str(event["attendee"]) == "mailto:joerg@muster.example"
    first = server.inbox.messages[0]
    assert str(first["To"]) == "Jörg Yılmaz <joerg@muster.example>"
    assert parseaddr(str(first["From"]))[1] == "lernen@muster.example"
    assert str(first["Subject"]).startswith("Einladung: ")

    session = sorted(cohort.sessions, key=lambda s: s.first_day)[1]
    revision = session.revision
    server.inbox.messages.clear()
    cancel_session(session, actor=None, expected_version=session.lock_version)
    db.session.commit()
    queue.run_pending()
    [(method, event)] = calendars_in(server.inbox.to("joerg@muster.example"))
    assert method == "CANCEL"
    assert str(event["uid"]) == session.uid
    assert int(event["sequence"]) == revision + 1
    assert str(event["status"]) == "CANCELLED"
    assert str(server.inbox.messages[0]["Subject"]).startswith("Abgesagt: ")

    server.inbox.messages.clear()
    restore_session(session, actor=None, expected_version=session.lock_version)
    db.session.commit()
    queue.run_pending()
    [(method, event)] = calendars_in(server.inbox.to("joerg@muster.example"))
    assert method == "REQUEST"
    assert str(event["uid"]) == session.uid
    assert int(event["sequence"]) == revision + 2
    assert str(event["status"]) == "CONFIRMED"
    assert "findet doch statt" in plain(server.inbox.messages[0])
