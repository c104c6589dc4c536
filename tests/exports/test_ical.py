"""The schedule as iCalendar, checked the way calendar programs read it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from app.exports.ical import CalendarEvent, render_calendar
from app.exports.schedule import as_calendar
from app.exports.vtimezone import vtimezone
from app.i18n import Translator
from cohorts.calendar import WorkingCalendar
from cohorts.scheduling import plan
from curricula.shipped import shipped

STAMP = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
START = date(2027, 1, 11)


def blended_ics(start: date = START, region: str = "DE-BY", **extra) -> bytes:
    schedule = plan(shipped()["blended"], start, WorkingCalendar(region))
    return as_calendar(schedule, start, Translator("de"), dtstamp=STAMP, **extra).content


def events(content: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(content).walk("VEVENT"))


def test_a_second_parser_reads_every_session():
    content = blended_ics(venue="Bildungszentrum, München", link="https://meet.example.org/x")
    calendar = IcsCalendarStream.calendar_from_ics(content.decode("utf-8"))
    assert len(calendar.events) == 7
    kickoff, video_1, webinar = calendar.events[:3]
    assert kickoff.dtstart == datetime(2027, 1, 11, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert kickoff.location == "Bildungszentrum, München"
    assert video_1.dtstart == date(2027, 1, 12)
    assert video_1.dtend == date(2027, 1, 26)  # exclusive: the phase ends on 25 January
    assert webinar.location is None
    assert "https://meet.example.org/x" in webinar.description
    assert [tz.tz_id for tz in calendar.timezones] == ["Europe/Berlin"]


def test_uids_are_stable_and_unique():
    first = [str(e["UID"]) for e in events(blended_ics())]
    again = [str(e["UID"]) for e in events(blended_ics())]
    other_start = [str(e["UID"]) for e in events(blended_ics(start=date(2027, 2, 1)))]
    assert first == again
    assert len(set(first)) == 7
    assert not set(first) & set(other_start)


def test_calendar_properties():
    calendar = icalendar.Calendar.from_ical(blended_ics())
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"])
    assert "Lernbegleitung blended" in str(calendar["NAME"])
    for event in calendar.walk("VEVENT"):
        assert event["DTSTAMP"].dt == STAMP
        assert event["SEQUENCE"] == 0
        assert event["STATUS"] == "CONFIRMED"


def test_every_tzid_has_a_vtimezone_in_rrule_form():
    content = blended_ics()
    text = content.decode("utf-8")
    tzids = {
        line.split("TZID=")[1].split(":")[0] for line in text.split("\r\n") if "TZID=" in line
    }
    assert tzids == {"Europe/Berlin"}
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" in text
    assert "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n" in text
    assert "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n" in text
    assert "RDATE" not in text


def test_the_written_vtimezone_gives_the_same_instants_as_the_zone():
    calendar = icalendar.Calendar.from_ical(blended_ics())
    [component] = calendar.walk("VTIMEZONE")
    from_file = component.to_tz()
    berlin = ZoneInfo("Europe/Berlin")
    for event in calendar.walk("VEVENT"):
        start = event["DTSTART"].dt
        if isinstance(start, datetime):
            naive = start.replace(tzinfo=None)
            assert (
                naive.replace(tzinfo=from_file).utcoffset()
                == naive.replace(tzinfo=berlin).utcoffset()
            )


def test_daylight_saving_keeps_local_times():
    by_uid = {str(e["SUMMARY"]): e["DTSTART"].dt for e in events(blended_ics())}
    practice = next(v for k, v in by_uid.items() if k.startswith("Übungstag"))
    checkpoint = next(v for k, v in by_uid.items() if k.startswith("Checkpoint 1"))
    assert practice.time() == time(9, 0)
    assert practice.utcoffset() == timedelta(hours=1)
    assert checkpoint.time() == time(14, 0)
    assert checkpoint.utcoffset() == timedelta(hours=2)


def test_lines_are_folded_by_octets_with_crlf():
    content = blended_ics(venue="Bildungszentrum für Weiterbildung, Hauptstraße 1, 80331 München")
    assert content.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in content.replace(b"\r\n", b"")
    for line in content.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never split inside a character


def test_texts_are_in_the_chosen_language():
    schedule = plan(shipped()["compact"], START, WorkingCalendar("DE-BY"))
    english = as_calendar(schedule, START, Translator("en"), dtstamp=STAMP).content
    [first, *_] = events(english)
    assert str(first["SUMMARY"]).startswith("Seminar day 1")
    assert "Topics:" in str(first["DESCRIPTION"])
    assert "Preparation:" in str(first["DESCRIPTION"])
    german = events(as_calendar(schedule, START, Translator("de"), dtstamp=STAMP).content)
    assert "Themen:" in str(german[0]["DESCRIPTION"])


def test_cancelled_sessions_and_refresh_interval():
    event = CalendarEvent(
        uid="fixed-uid",
        summary="Webinar",
        start=datetime(2027, 4, 1, 10, tzinfo=ZoneInfo("Europe/Berlin")),
        end=datetime(2027, 4, 1, 12, tzinfo=ZoneInfo("Europe/Berlin")),
        sequence=3,
        cancelled=True,
    )
    rendered = render_calendar(
        "Test",
        [event],
        filename="test.ics",
        dtstamp=STAMP,
        timezone="Europe/Berlin",
        refresh=timedelta(hours=4),
    )
    assert rendered.mimetype == "text/calendar; charset=utf-8"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n" in rendered.content
    [parsed] = events(rendered.content)
    assert parsed["STATUS"] == "CANCELLED"
    assert parsed["SEQUENCE"] == 3


@pytest.mark.parametrize(
    ("zone", "rules"),
    [
        ("America/New_York", ["BYDAY=2SU;BYMONTH=3", "BYDAY=1SU;BYMONTH=11"]),
        ("Australia/Sydney", ["BYDAY=1SU;BYMONTH=4", "BYDAY=1SU;BYMONTH=10"]),
        ("Asia/Tokyo", []),
    ],
)
def test_vtimezone_for_other_zones(zone, rules):
    component = vtimezone(ZoneInfo(zone), 2026, 2028)
    assert component is not None
    text = component.to_ical().decode()
    for rule in rules:
        assert rule in text
    if not rules:
        assert "RRULE" not in text


def test_a_zone_whose_rules_changed_falls_back_to_utc():
    # Brazil abolished daylight saving in 2019: no single RRULE fits 2018-2020.
    assert vtimezone(ZoneInfo("America/Sao_Paulo"), 2018, 2020) is None
    zone = ZoneInfo("America/Sao_Paulo")
    rendered = render_calendar(
        "Brasil",
        [
            CalendarEvent(
                "a",
                "Antes",
                datetime(2018, 12, 3, 9, tzinfo=zone),
                datetime(2018, 12, 3, 10, tzinfo=zone),
            ),
            CalendarEvent(
                "b",
                "Depois",
                datetime(2020, 12, 3, 9, tzinfo=zone),
                datetime(2020, 12, 3, 10, tzinfo=zone),
            ),
        ],
        filename="x.ics",
        dtstamp=STAMP,
        timezone="America/Sao_Paulo",
    )
    text = rendered.content.decode()
    assert "TZID" not in text
    assert "DTSTART:20181203T110000Z" in text  # 09:00 at UTC-2 (summer time then)
    assert "DTSTART:20201203T120000Z" in text  # 09:00 at UTC-3
