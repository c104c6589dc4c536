"""Dates and closure days as people type them, for the form and the CLI alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from app.forms.fields import parse_day as read_day
from app.services.errors import InvalidInput
from curricula.messages import msg

# The holiday data and calendar arithmetic are reliable in this range.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099
# A closure range longer than this is almost certainly a typo in a year.
LONGEST_CLOSURE_DAYS = 366
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(label: str, text: str, *, typed: bool = False) -> date:
    """A date written YYYY-MM-DD (scripts), or also 24.12.2027 when `typed`
    by a person in a form; else InvalidInput naming `label`."""
    try:
        if typed:
            found = read_day(text)
            if found is None:
                raise ValueError(text)
            day = found
        elif not _ISO_DATE.match(text):
            raise ValueError(text)
        else:
            day = date.fromisoformat(text)
    except ValueError:
        template = (
            "{option}: '{value}' is not a date such as 24.12.2027"
            if typed
            else "{option}: '{value}' is not a calendar date (YYYY-MM-DD)"
        )
        raise InvalidInput(msg(template, option=label, value=text)) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise InvalidInput(
            msg(
                "{option}: {value} lies outside the years {first} to {last}",
                option=label,
                value=text,
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    return day


def parse_closures(label: str, entries: Iterable[str], *, typed: bool = False) -> dict[date, str]:
    """Closure days from entries such as `2027-12-24..2027-12-31 Betriebsruhe`:
    one day or a range, optionally followed by a reason. What a person
    `typed` may also read `24.12.2027–31.12.2027 Betriebsruhe` (".." too)."""
    days: dict[date, str] = {}
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        span, _, reason = entry.partition(" ")
        first_text, separator, last_text = span.partition("..")
        if typed and not separator:
            first_text, separator, last_text = span.partition("–")
        first = parse_day(label, first_text.strip(), typed=typed)
        last = parse_day(label, last_text.strip(), typed=typed) if separator else first
        if last < first:
            raise InvalidInput(
                msg(
                    "{option}: the range '{value}' ends before it starts", option=label, value=span
                )
            )
        if (last - first).days >= LONGEST_CLOSURE_DAYS:
            raise InvalidInput(
                msg(
                    "{option}: the range '{value}' is longer than a year", option=label, value=span
                )
            )
        for offset in range((last - first).days + 1):
            days[first + timedelta(days=offset)] = reason.strip()
    return days
