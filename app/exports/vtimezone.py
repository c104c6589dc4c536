"""VTIMEZONE components in the RRULE form that every calendar client reads.

Outlook mis-reads time zones written as lists of RDATEs, so the yearly
daylight-saving rule is derived from the zone itself (e.g. "last Sunday of
March at 02:00") and written once as an RRULE. Zones whose rule changed
within the years in question cannot be written that way; callers then fall
back to UTC times.
"""

from __future__ import annotations

import calendar as monthcal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_RULE_YEAR = 1970


@dataclass(frozen=True)
class _Transition:
    """A yearly change: in `month`, on the `nth` `weekday` (-1 = last), at local `at`."""

    month: int
    nth: int
    weekday: int
    at: timedelta
    offset_from: timedelta
    offset_to: timedelta
    name: str


def vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone | None:
    """The zone as one VTIMEZONE valid for the years given, or None when its
    rules differ between those years. The component is shared between calls:
    add it to calendars, never change it."""
    return _vtimezone(zone.key, first_year, last_year)


@lru_cache(maxsize=256)
def _vtimezone(key: str, first_year: int, last_year: int) -> Timezone | None:
    # Deriving the rules scans each year day by day: worth doing once per process.
    zone = ZoneInfo(key)
    rules = {_year_rules(zone, year) for year in range(first_year, last_year + 1)}
    if len(rules) != 1:
        return None
    transitions, fixed_offset, fixed_name = rules.pop()
    component = Timezone()
    component.add("tzid", zone.key)
    if not transitions:
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(_RULE_YEAR, 1, 1))
        standard.add("tzoffsetfrom", fixed_offset)
        standard.add("tzoffsetto", fixed_offset)
        standard.add("tzname", fixed_name)
        component.add_component(standard)
        return component
    for transition in transitions:
        part = (
            TimezoneDaylight()
            if transition.offset_to > transition.offset_from
            else TimezoneStandard()
        )
        part.add("dtstart", _first_occurrence(transition))
        part.add(
            "rrule",
            {
                "freq": "yearly",
                "bymonth": transition.month,
                "byday": f"{transition.nth}{_WEEKDAYS[transition.weekday]}",
            },
        )
        part.add("tzoffsetfrom", transition.offset_from)
        part.add("tzoffsetto", transition.offset_to)
        part.add("tzname", transition.name)
        component.add_component(part)
    return component


def _year_rules(zone: ZoneInfo, year: int) -> tuple[tuple[_Transition, ...], timedelta, str]:
    transitions: list[_Transition] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(days=1)
    while moment < end:
        following = moment + step
        if _offset(zone, moment) != _offset(zone, following):
            transitions.append(_transition(zone, moment, following))
        moment = following
    start_offset = _offset(zone, datetime(year, 1, 1, tzinfo=UTC))
    name = datetime(year, 1, 1, tzinfo=UTC).astimezone(zone).tzname() or zone.key
    return tuple(transitions), start_offset, name


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    return offset if offset is not None else timedelta(0)


def _transition(zone: ZoneInfo, before: datetime, after: datetime) -> _Transition:
    # Narrow the change down to the minute inside one day.
    while after - before > timedelta(minutes=1):
        middle = before + (after - before) / 2
        if _offset(zone, middle) == _offset(zone, before):
            before = middle
        else:
            after = middle
    offset_from, offset_to = _offset(zone, before), _offset(zone, after)
    local = (after + offset_from).replace(tzinfo=None)  # wall time in the old offset
    local = local.replace(second=0, microsecond=0)
    days_in_month = monthcal.monthrange(local.year, local.month)[1]
    nth = -1 if local.day + 7 > days_in_month else (local.day - 1) // 7 + 1
    return _Transition(
        month=local.month,
        nth=nth,
        weekday=local.weekday(),
        at=timedelta(hours=local.hour, minutes=local.minute),
        offset_from=offset_from,
        offset_to=offset_to,
        name=after.astimezone(zone).tzname() or zone.key,
    )


def _first_occurrence(transition: _Transition) -> datetime:
    """The rule's day in 1970, so that DTSTART is the RRULE's first occurrence."""
    weeks = monthcal.Calendar().monthdatescalendar(_RULE_YEAR, transition.month)
    days = [
        day
        for week in weeks
        for day in week
        if day.month == transition.month and day.weekday() == transition.weekday
    ]
    day = days[transition.nth - 1] if transition.nth > 0 else days[-1]
    return datetime(day.year, day.month, day.day) + transition.at
