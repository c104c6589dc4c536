"""Working days of a region: weekends, public holidays and closure days.

Public holidays come from the `holidays` package for any country and
subdivision it knows. Each holiday is named in German and in English
(`Text`), so the shell shows the reader's language; where the package has no
name in one of them the other language stands in. Each region and year is
computed once per process and then shared read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from types import MappingProxyType

import holidays

from cohorts.errors import UnknownRegion
from curricula.messages import Message, msg
from curricula.model import Text

# How far ahead a search for a working day goes before giving up; a region
# closed for longer than this is a data error, not a schedule.
SEARCH_LIMIT_DAYS = 366


class ClosedBecause(StrEnum):
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    CLOSURE = "closure"


@dataclass(frozen=True)
class ClosedDay:
    day: date
    because: ClosedBecause
    name: str | Text  # a holiday's in both languages, a closure day's as typed

    def describe(self) -> Message:
        if self.because is ClosedBecause.WEEKEND:
            return msg("{day} is a weekend day", day=self.day)
        if self.because is ClosedBecause.HOLIDAY:
            return msg("{day} is a public holiday ({name})", day=self.day, name=self.name)
        if self.name:
            return msg("{day} is a closure day ({name})", day=self.day, name=self.name)
        return msg("{day} is a closure day", day=self.day)

    def __str__(self) -> str:
        return str(self.describe())


@dataclass(frozen=True)
class Region:
    """An ISO 3166-2 region such as DE-BW, or a whole country such as DE."""

    country: str
    subdivision: str | None = None

    @classmethod
    def parse(cls, code: str) -> Region:
        text = code.strip()
        country, _, subdivision = text.partition("-")
        supported = _supported_regions()
        country = country.upper()
        if country not in supported:
            raise UnknownRegion(
                msg(
                    "unknown region '{code}': there is no holiday data for a country '{country}'; "
                    "use an ISO 3166-2 code such as DE-BW",
                    code=code,
                    country=country,
                )
            )
        if not subdivision:
            return cls(country)
        by_upper = {s.upper(): s for s in supported[country]}
        if subdivision.upper() not in by_upper:
            raise UnknownRegion(
                msg(
                    "unknown region '{code}': {country} has no subdivision '{subdivision}' "
                    "(known: {known})",
                    code=code,
                    country=country,
                    subdivision=subdivision,
                    known=[f"{country}-{s}" for s in supported[country]],
                )
            )
        return cls(country, by_upper[subdivision.upper()])

    def __str__(self) -> str:
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country


@cache
def _supported_regions() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(
        {country: tuple(subs) for country, subs in holidays.list_supported_countries().items()}
    )


# British English first, as the rest of the English texts are written.
_ENGLISH = ("en_GB", "en_US")


@cache
def _languages(country: str) -> tuple[str | None, str | None]:
    """The package's languages for the German and the English names.

    German where the package has it, else the country's own language; English
    where it has it, else the same as the German. A language is always named:
    without one the names would follow the process locale."""
    probe = holidays.country_holidays(country)
    supported = probe.supported_languages
    german = "de" if "de" in supported else probe.default_language
    english = next((code for code in _ENGLISH if code in supported), german)
    return german, english


@dataclass(frozen=True)
class _Year:
    holidays: Mapping[date, Text]
    weekend: frozenset[int]
    weekend_workdays: frozenset[date]


@lru_cache(maxsize=4096)
def _region_year(region: Region, year: int) -> _Year:
    german, english = _languages(region.country)
    calendar = holidays.country_holidays(
        region.country, subdiv=region.subdivision, years=year, language=german
    )
    in_english = (
        calendar
        if english == german
        else holidays.country_holidays(
            region.country, subdiv=region.subdivision, years=year, language=english
        )
    )
    names = {
        day: Text(str(name), str(in_english.get(day, name)))
        for day, name in calendar.items()
        if day.year == year
    }
    return _Year(
        holidays=MappingProxyType(names),
        weekend=frozenset(calendar.weekend),
        weekend_workdays=frozenset(calendar.weekend_workdays),
    )


class WorkingCalendar:
    """Which days a cohort can meet on in one region.

    `closed` adds the organisation's closure days (a date with a reason, or a
    set of dates).
    """

    def __init__(
        self,
        region: Region | str,
        closed: Mapping[date, str] | Iterable[date] = (),
    ) -> None:
        self.region = region if isinstance(region, Region) else Region.parse(region)
        if isinstance(closed, Mapping):
            self.closed: Mapping[date, str] = MappingProxyType(dict(closed))
        else:
            self.closed = MappingProxyType(dict.fromkeys(closed, ""))

    def closed_because(self, day: date) -> ClosedDay | None:
        """Why `day` is not a working day, or None when it is one."""
        year = _region_year(self.region, day.year)
        if day in self.closed:
            return ClosedDay(day, ClosedBecause.CLOSURE, self.closed[day])
        if day in year.holidays:
            return ClosedDay(day, ClosedBecause.HOLIDAY, year.holidays[day])
        if day.weekday() in year.weekend and day not in year.weekend_workdays:
            return ClosedDay(day, ClosedBecause.WEEKEND, "")
        return None

    def is_working_day(self, day: date) -> bool:
        return self.closed_because(day) is None

    def working_day_on_or_after(self, day: date) -> date | None:
        for candidate in _days(day, SEARCH_LIMIT_DAYS):
            if self.is_working_day(candidate):
                return candidate
        return None

    def holidays_between(self, first: date, last: date) -> list[tuple[date, Text]]:
        """Public holidays from `first` to `last` inclusive, in date order."""
        found: list[tuple[date, Text]] = []
        for year in range(first.year, last.year + 1):
            found.extend(
                (day, name)
                for day, name in _region_year(self.region, year).holidays.items()
                if first <= day <= last
            )
        return sorted(found)


def _days(first: date, count: int) -> Iterator[date]:
    for offset in range(count):
        yield first + timedelta(days=offset)
