"""The curriculum as data: frozen values without any I/O.

A curriculum is an ordered list of elements (seminar days, webinars,
self-study phases, ...). Each element says how long it is and where it sits
relative to an earlier element; the planning core in `cohorts` turns that
into dates for one cohort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta


class Mode(StrEnum):
    """How an element is delivered. `either` is decided per cohort."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    SELF_PACED = "self_paced"
    EITHER = "either"


@dataclass(frozen=True)
class Text:
    """A text in German and English; German is the primary language."""

    de: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.de


STANDARD_KINDS: dict[str, Text] = {
    "seminar_day": Text("Seminartag", "Seminar day"),
    "reflection_day": Text("Reflexionstag", "Reflection day"),
    "kickoff": Text("Auftakt", "Kickoff"),
    "self_study": Text("Selbstlernphase", "Self-study phase"),
    "webinar": Text("Webinar", "Webinar"),
    "practice_day": Text("Übungstag", "Practice day"),
    "checkpoint": Text("Checkpoint", "Checkpoint"),
}

MODE_TITLES: dict[Mode, Text] = {
    Mode.IN_PERSON: Text("Präsenz", "In person"),
    Mode.ONLINE: Text("Online", "Online"),
    Mode.SELF_PACED: Text("Selbstgesteuert", "Self-paced"),
    Mode.EITHER: Text("Präsenz oder online", "In person or online"),
}


class Unit(StrEnum):
    DAYS = "d"
    WEEKS = "w"
    MONTHS = "m"


_UNIT_WORDS = {
    "d": Unit.DAYS,
    "day": Unit.DAYS,
    "days": Unit.DAYS,
    "w": Unit.WEEKS,
    "week": Unit.WEEKS,
    "weeks": Unit.WEEKS,
    "m": Unit.MONTHS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
}
_OFFSET_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z]+)\s*$")
# Months vary in length; for comparing bounds a month counts as 30 days.
_NOMINAL_DAYS = {Unit.DAYS: 1, Unit.WEEKS: 7, Unit.MONTHS: 30}


@dataclass(frozen=True)
class Offset:
    """A calendar distance such as `3w` or `6m`: the relative-date value object.

    Months are calendar months (31 January + 1m = 28/29 February), so an
    offset is applied to a date rather than converted to days.
    """

    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Offset:
        match = _OFFSET_PATTERN.match(text.lower())
        if not match or match.group(2) not in _UNIT_WORDS:
            raise ValueError(
                f"{text!r} is not a distance; write a whole number and d, w or m "
                "(days, weeks, months), e.g. '3w'"
            )
        return cls(int(match.group(1)), _UNIT_WORDS[match.group(2)])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"

    def after(self, day: date) -> date:
        if self.unit is Unit.MONTHS:
            result: date = day + relativedelta(months=self.amount)
            return result
        return day + timedelta(days=self.amount * _NOMINAL_DAYS[self.unit])

    @property
    def nominal_days(self) -> int:
        return self.amount * _NOMINAL_DAYS[self.unit]


@dataclass(frozen=True)
class TimedBlock:
    """A session on one day with a default start time, e.g. 09:00 for 8 hours."""

    start: time
    duration: timedelta

    @property
    def hours(self) -> float:
        return self.duration.total_seconds() / 3600


@dataclass(frozen=True)
class Span:
    """An all-day span such as a two-week self-study phase."""

    length: Offset


Length = TimedBlock | Span


@dataclass(frozen=True)
class Gap:
    """Distance from the end of the previous element to the start of this one."""

    min: Offset
    preferred: Offset
    max: Offset


@dataclass(frozen=True)
class Placement:
    """Where an element sits: on the cohort start (no `after`), on the next
    working day after `after` ends (no `gap`), or a gap after it."""

    after: str | None = None
    gap: Gap | None = None


# A teaching unit (Unterrichtseinheit, UE) of German training lasts 45
# minutes unless a curriculum says otherwise.
DEFAULT_UNIT_MINUTES = 45


def units_of(hours: float, unit_minutes: int = DEFAULT_UNIT_MINUTES) -> float:
    """Clock hours of teaching as teaching units of `unit_minutes`, to two
    decimals (6 hours are 8 units of 45 minutes)."""
    return round(hours * 60 / unit_minutes, 2)


def hours_of(units: float, unit_minutes: int = DEFAULT_UNIT_MINUTES) -> float:
    """Teaching units of `unit_minutes` as clock hours (8 units of 45 minutes are 6)."""
    return units * unit_minutes / 60


@dataclass(frozen=True)
class Element:
    key: str
    kind: str
    title: Text
    mode: Mode
    length: Length
    placement: Placement
    topics: tuple[Text, ...] = ()
    teaching_hours: float = 0.0
    counts_for_certificate: bool = True
    description: Text | None = None
    preparation: Text | None = None

    @property
    def all_day(self) -> bool:
        return isinstance(self.length, Span)

    def teaching_units(self, unit_minutes: int = DEFAULT_UNIT_MINUTES) -> float:
        """The teaching time in units of `unit_minutes` (pass the curriculum's
        `unit_minutes`, or use `Curriculum.element_units`)."""
        return units_of(self.teaching_hours, unit_minutes)


@dataclass(frozen=True)
class AtLeast:
    """At least `count` of the elements `of` must be attended."""

    count: int
    of: tuple[str, ...]


@dataclass(frozen=True)
class CertificateRule:
    required: tuple[str, ...] = ()
    at_least: tuple[AtLeast, ...] = ()
    # The share of the teaching hours that must be attended, e.g. 0.8; None: no such rule.
    min_hours_share: float | None = None


@dataclass(frozen=True)
class Curriculum:
    key: str
    version: int
    title: Text
    elements: tuple[Element, ...]
    certificate: CertificateRule
    description: Text | None = None
    custom_kinds: tuple[tuple[str, Text], ...] = ()
    # How long one teaching unit lasts; elements keep their teaching time in
    # clock hours, and the units are derived from them.
    unit_minutes: int = DEFAULT_UNIT_MINUTES

    def element(self, key: str) -> Element:
        for element in self.elements:
            if element.key == key:
                return element
        raise KeyError(key)

    def in_dependency_order(self) -> tuple[Element, ...]:
        """The elements so that each comes after the element it is placed after."""
        done: set[str] = set()
        ordered: list[Element] = []
        pending = list(self.elements)
        while pending:
            ready = [e for e in pending if e.placement.after is None or e.placement.after in done]
            if not ready:
                raise ValueError(
                    "placements depend on each other in a cycle: "
                    + ", ".join(e.key for e in pending)
                )
            for element in ready:
                done.add(element.key)
                ordered.append(element)
                pending.remove(element)
        return tuple(ordered)

    def kind_title(self, kind: str) -> Text:
        return dict(self.custom_kinds).get(kind) or STANDARD_KINDS.get(kind) or Text(kind, kind)

    @property
    def teaching_hours(self) -> float:
        """Clock hours of the elements that count for the certificate."""
        return sum(e.teaching_hours for e in self.elements if e.counts_for_certificate)

    @property
    def teaching_units(self) -> float:
        """Teaching units of the elements that count for the certificate."""
        return self.units(self.teaching_hours)

    def units(self, hours: float) -> float:
        """Clock hours of teaching (of an element, or credited to a person)
        in this curriculum's teaching units."""
        return units_of(hours, self.unit_minutes)

    def element_units(self, element: Element | str) -> float:
        """The teaching units of one element (or of the element with that key)."""
        found = self.element(element) if isinstance(element, str) else element
        return self.units(found.teaching_hours)
