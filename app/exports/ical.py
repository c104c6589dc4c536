"""iCalendar (RFC 5545) files for schedules.

Follows what real clients need: one stable UID per session, SEQUENCE as the
session's revision, DTSTAMP in UTC, METHOD:PUBLISH for feeds and downloads
(REQUEST or CANCEL for the invitations by e-mail), a VTIMEZONE in RRULE
form for every TZID (or UTC times where the zone cannot be written so),
whole-day spans as VALUE=DATE with an exclusive DTEND, folded CRLF lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from app.exports import Rendered
from app.exports.vtimezone import vtimezone

PRODUCT_ID = "-//Qualiplan//Qualiplan//DE"
MIMETYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarEvent:
    """One session. Timed events have aware datetimes; all-day events have
    dates, with `end` the last day included (the renderer makes it exclusive)."""

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date
    sequence: int = 0
    description: str = ""
    location: str | None = None
    url: str | None = None
    cancelled: bool = False
    categories: tuple[str, ...] = ()
    # When this event last changed (DTSTAMP); the calendar's stamp when None.
    stamp: datetime | None = None


def render_calendar(
    name: str,
    events: Sequence[CalendarEvent],
    *,
    filename: str,
    dtstamp: datetime,
    timezone: str,
    refresh: timedelta | None = None,
    description: str | None = None,
) -> Rendered:
    """A calendar named `name` with `events`; `dtstamp` is when it was made.

    Timed events keep the time zone of their datetimes (a participant's feed
    may hold cohorts in different zones); each zone gets its VTIMEZONE, or its
    events are written in UTC when the zone cannot be written as one RRULE.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", ZoneInfo(timezone).key)
    if description:
        calendar.add("description", description)
        calendar.add("x-wr-caldesc", description)
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})

    writable = _add_timezones(calendar, events)
    stamp = dtstamp.astimezone(UTC)
    for event in events:
        calendar.add_component(_event(event, stamp, writable))
    return Rendered(filename, MIMETYPE, calendar.to_ical())


@dataclass(frozen=True)
class Person:
    """An ORGANIZER or ATTENDEE: a name and an e-mail address; `role` is an
    attendee's (REQ-PARTICIPANT, or CHAIR for who leads the session)."""

    name: str
    address: str
    role: str = "REQ-PARTICIPANT"


def render_scheduling(
    method: str,
    event: CalendarEvent,
    *,
    organizer: Person,
    attendee: Person,
    uninvite: bool = False,
) -> bytes:
    """A scheduling message (iTIP, RFC 5546) about one event for one
    attendee: METHOD REQUEST or CANCEL, the event's VTIMEZONE, one VEVENT with
    ORGANIZER and ATTENDEE. Replies are not asked for (RSVP=FALSE): nothing
    reads them. The event's `stamp` is its DTSTAMP.

    A CANCEL that only `uninvite`s the attendee (the event itself goes on)
    carries no STATUS, as RFC 5546 (3.2.5) asks; one that cancels the whole
    event says STATUS:CANCELLED."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    if event.stamp is None:
        raise ValueError("a scheduling message needs the event's stamp")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    writable = _add_timezones(calendar, [event])
    component = _event(event, event.stamp.astimezone(UTC), writable)
    if uninvite:
        if method != "CANCEL":
            raise ValueError("only a CANCEL uninvites")
        component.pop("STATUS")
    component.add("organizer", _address(organizer))
    component.add(
        "attendee",
        _address(
            attendee,
            CUTYPE="INDIVIDUAL",
            ROLE=attendee.role,
            PARTSTAT="NEEDS-ACTION",
            RSVP="FALSE",
        ),
    )
    calendar.add_component(component)
    return calendar.to_ical()


def _address(person: Person, **parameters: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.address}")
    if person.name:
        # A double quote cannot stand in a parameter value; RFC 6868's ^'
        # escape is unknown to Outlook, so it becomes a single quote.
        address.params["CN"] = person.name.replace('"', "'")
    address.params.update(parameters)
    return address


def _add_timezones(calendar: Calendar, events: Sequence[CalendarEvent]) -> set[str]:
    """Adds a VTIMEZONE for each zone of the events' times; returns the zones
    written (the others' events are written in UTC)."""
    years: dict[str, set[int]] = {}
    for event in events:
        for moment in (event.start, event.end):
            if isinstance(moment, datetime) and isinstance(moment.tzinfo, ZoneInfo):
                years.setdefault(moment.tzinfo.key, set()).add(moment.year)
    writable: set[str] = set()
    for key in sorted(years):
        component = vtimezone(ZoneInfo(key), min(years[key]), max(years[key]))
        if component is not None:
            calendar.add_component(component)
            writable.add(key)
    return writable


def _event(event: CalendarEvent, stamp: datetime, writable: set[str]) -> Event:
    component = Event()
    component.add("uid", event.uid)
    component.add("dtstamp", event.stamp.astimezone(UTC) if event.stamp else stamp)
    component.add("sequence", event.sequence)
    component.add("summary", event.summary)
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        start, end = event.start, event.end
        zone = start.tzinfo.key if isinstance(start.tzinfo, ZoneInfo) else None
        if zone not in writable:
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        component.add("dtstart", start)
        component.add("dtend", end)
    else:
        first, last = _as_date(event.start), _as_date(event.end)
        component.add("dtstart", first)
        component.add("dtend", last + timedelta(days=1))
        component.add("transp", "TRANSPARENT")
    if event.description:
        component.add("description", event.description)
    if event.location:
        component.add("location", event.location)
    if event.url:
        component.add("url", event.url)
    if event.categories:
        component.add("categories", list(event.categories))
    component.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    return component


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
