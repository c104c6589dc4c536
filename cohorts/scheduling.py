"""Turn a curriculum into the dated sessions of one cohort.

Rules, in the words a trainer would use:
- the first element sits on the cohort start; a start on a closed day moves
  to the next working day (with a note);
- "next working day" is the first working day after the previous element ends;
- a gap uses its preferred length; when that day is closed, the nearest
  working day inside [min, max] is taken (on a tie the later one, so the
  gap is never shorter than needed), with a note;
- a span starts on a working day and ends on the last working day inside its
  length;
- timed sessions keep their local start time in the cohort's time zone, on
  either side of a daylight-saving change;
- a day fixed by hand keeps every rule in both directions: "the next working
  day" is neither earlier nor later, a gap neither shorter nor longer than
  allowed. `tied_earlier` finds where earlier elements must go for a move to
  keep them.
When no working day fits, a PlanningError names the element and the rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cohorts.calendar import SEARCH_LIMIT_DAYS, ClosedBecause, ClosedDay, WorkingCalendar
from cohorts.errors import InvalidDelivery, PlanningError, UnknownTimezone
from curricula.messages import Message, msg
from curricula.model import Curriculum, Element, Gap, Mode, Span, Text, TimedBlock

DEFAULT_TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Session:
    """One dated session. Timed sessions have aware datetimes; all-day spans
    have dates, and `end` is then the last day included."""

    element: str
    kind: str
    title: Text
    mode: Mode
    all_day: bool
    start: datetime | date
    end: datetime | date

    @property
    def first_day(self) -> date:
        return self.start.date() if isinstance(self.start, datetime) else self.start

    @property
    def last_day(self) -> date:
        return self.end.date() if isinstance(self.end, datetime) else self.end


@dataclass(frozen=True)
class Note:
    """Something the planner did that a trainer should know about."""

    element: str
    code: str
    message: Message

    def __str__(self) -> str:
        return f"{self.element}: {self.message}"


@dataclass(frozen=True)
class Schedule:
    curriculum: Curriculum
    region: str
    timezone: str
    sessions: tuple[Session, ...]
    notes: tuple[Note, ...]

    @property
    def first_day(self) -> date:
        return min(s.first_day for s in self.sessions)

    @property
    def last_day(self) -> date:
        return max(s.last_day for s in self.sessions)


def resolve_timezone(name: str) -> ZoneInfo:
    """The time zone of a name such as Europe/Berlin; UnknownTimezone with a
    sentence naming what was given and what is expected. Every door (forms,
    API, command line) checks a time zone here."""
    if not name.strip():
        raise UnknownTimezone(
            msg("the time zone is missing; a name such as Europe/Berlin is expected")
        )
    try:
        return ZoneInfo(name)
    # A name too long for a file name is an OSError, not "not found".
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(
            msg(
                "'{name}' is not a known time zone; a name such as Europe/Berlin is expected",
                name=name,
            )
        ) from None


def plan(
    curriculum: Curriculum,
    start: date,
    calendar: WorkingCalendar,
    *,
    tz: str = DEFAULT_TIMEZONE,
    delivery: Mode | None = None,
    fixed: Mapping[str, date] | None = None,
) -> Schedule:
    """Date every element of `curriculum` for a cohort starting on `start`.

    `delivery` decides elements whose mode is `either` (in person or online);
    without it they keep the mode `either`. `fixed` gives the first day of
    elements that stay where they are (pinned, past, or moved by hand); the
    rest is planned around them, and a fixed day that breaks its element's
    rule is refused with a PlanningError that says which rule.
    """
    zone = resolve_timezone(tz)
    if delivery not in (None, Mode.IN_PERSON, Mode.ONLINE):
        raise InvalidDelivery(
            msg("the delivery must be in_person or online, not '{delivery}'", delivery=delivery)
        )

    notes: list[Note] = []
    spans: dict[str, tuple[date, date]] = {}
    try:
        ordered = curriculum.in_dependency_order()
    except ValueError:
        raise PlanningError(
            msg("the placements of the elements depend on each other in a cycle"), rule="after"
        ) from None
    for element in ordered:
        if fixed is not None and element.key in fixed:
            first = _fixed_day(element, fixed[element.key], calendar, spans)
        else:
            first = _first_day(element, start, calendar, spans, notes)
        last = _last_day(element, first, calendar)
        spans[element.key] = (first, last)

    order = {e.key: i for i, e in enumerate(curriculum.elements)}
    sessions = [
        _session(element, spans[element.key], zone, delivery) for element in curriculum.elements
    ]
    sessions.sort(key=lambda s: (s.first_day, _sort_time(s), order[s.element]))
    return Schedule(
        curriculum=curriculum,
        region=str(calendar.region),
        timezone=zone.key,
        sessions=tuple(sessions),
        notes=tuple(notes),
    )


def _fixed_day(
    element: Element, day: date, calendar: WorkingCalendar, spans: dict[str, tuple[date, date]]
) -> date:
    closed = calendar.closed_because(day)
    if closed is not None:
        raise PlanningError(
            msg(
                "{session} cannot be on {day}: {closed}",
                session=element.title,
                day=day,
                closed=closed.describe(),
            ),
            element=element.key,
            rule="working day",
            window=(day, day),
        )
    after = element.placement.after
    if after is None:
        return day
    problem = placement_problem(element, day, spans[after][1], calendar)
    if problem is not None:
        raise problem
    return day


def placement_problem(
    element: Element, day: date, previous_last: date, calendar: WorkingCalendar
) -> PlanningError | None:
    """Why `element` cannot start on `day` when the element it is placed after
    ends on `previous_last`, or None when its rule holds. Each rule holds in
    both directions: "the next working day" is neither earlier nor later, a
    gap neither shorter than its minimum nor longer than its maximum."""
    after = element.placement.after
    gap = element.placement.gap
    if gap is None:
        if day <= previous_last:
            return PlanningError(
                msg(
                    "{session} cannot be on {day}: it follows {after}, which ends on {end}",
                    session=element.title,
                    day=day,
                    after=after,
                    end=previous_last,
                ),
                element=element.key,
                rule=f"after {after}",
            )
        expected = calendar.working_day_on_or_after(previous_last + timedelta(days=1))
        if expected is not None and day != expected:
            return PlanningError(
                msg(
                    "{session} cannot be on {day}: it comes on the next working day after "
                    "{after}, which ends on {end}, so on {expected}",
                    session=element.title,
                    day=day,
                    after=after,
                    end=previous_last,
                    expected=expected,
                ),
                element=element.key,
                rule=f"after {after}",
                window=(expected, expected),
            )
        return None
    low, high = gap.min.after(previous_last), gap.max.after(previous_last)
    if not low <= day <= high:
        return PlanningError(
            msg(
                "{session} cannot be on {day}: it comes {min} to {max} after {after}, "
                "which ends on {end}, so between {low} and {high}",
                session=element.title,
                day=day,
                min=gap.min,
                max=gap.max,
                after=after,
                end=previous_last,
                low=low,
                high=high,
            ),
            element=element.key,
            rule=f"gap {gap.min}..{gap.max} after {after}",
            window=(low, high),
        )
    return None


# How far an earlier element may be searched for around the day that keeps
# its distance to the element that moves: more than the longest gap's slack.
TIED_SEARCH = timedelta(days=186)


def tied_earlier(
    curriculum: Curriculum,
    calendar: WorkingCalendar,
    spans: Mapping[str, tuple[date, date]],
    key: str,
    day: date,
    movable: Collection[str],
) -> dict[str, date]:
    """The new first days of the earlier elements that must move along when
    element `key` moves to `day`: walking back along the placements, each
    element whose rule the move would break moves (as little as possible from
    keeping its distance) until a rule holds again. `spans` are the current
    first and last days; an element not in `movable` (pinned, or over) that
    would have to move raises a PlanningError naming it."""
    by_key = {e.key: e for e in curriculum.elements}
    moved: dict[str, date] = {}
    child, child_day = by_key[key], day
    while child.placement.after is not None:
        parent = by_key[child.placement.after]
        if parent.key not in spans:
            break  # not dated (yet): planned around the move like any other
        first, last = spans[parent.key]
        if placement_problem(child, child_day, last, calendar) is None:
            break
        if parent.key not in movable:
            raise PlanningError(
                msg(
                    "{session} cannot be on {day}: {other} is tied to it by its rule and "
                    "cannot move along (it is pinned or over)",
                    session=child.title,
                    day=child_day,
                    other=parent.title,
                ),
                element=child.key,
                rule=f"after {parent.key}",
            )
        target = first + (child_day - spans[child.key][0])
        new_first = _tied_day(parent, child, child_day, target, calendar)
        moved[parent.key] = new_first
        child, child_day = parent, new_first
    return moved


def _tied_day(
    parent: Element, child: Element, child_day: date, target: date, calendar: WorkingCalendar
) -> date:
    """The working day nearest `target` on which `parent` can start so that
    `child` may start on `child_day`."""
    high = min(target + TIED_SEARCH, child_day - timedelta(days=1))
    for candidate in _nearest_first(target, target - TIED_SEARCH, high):
        if not calendar.is_working_day(candidate):
            continue
        last = _last_day(parent, candidate, calendar)
        if placement_problem(child, child_day, last, calendar) is None:
            return candidate
    raise PlanningError(
        msg(
            "{session} cannot be on {day}: no working day for {other} keeps its rule",
            session=child.title,
            day=child_day,
            other=parent.title,
        ),
        element=child.key,
        rule=f"after {parent.key}",
    )


def followers(curriculum: Curriculum, key: str) -> set[str]:
    """Keys of the elements placed, directly or not, after element `key`."""
    found: set[str] = set()
    frontier = {key}
    while frontier:
        frontier = {
            e.key
            for e in curriculum.elements
            if e.placement.after in frontier and e.key not in found
        }
        found |= frontier
    return found


def _first_day(
    element: Element,
    start: date,
    calendar: WorkingCalendar,
    spans: dict[str, tuple[date, date]],
    notes: list[Note],
) -> date:
    placement = element.placement
    if placement.after is None:
        day = _working_day_from(calendar, start, element, "cohort start")
        if day != start:
            notes.append(
                Note(
                    element.key,
                    "start_moved",
                    msg(
                        "the cohort start is not a working day: {closed}; "
                        "moved to the next working day, {day}",
                        closed=_closed_text(calendar, start),
                        day=day,
                    ),
                )
            )
        return day
    previous_last = spans[placement.after][1]
    if placement.gap is None:
        day = _working_day_from(
            calendar, previous_last + timedelta(days=1), element, f"after {placement.after}"
        )
        skipped = _closures_between(calendar, previous_last + timedelta(days=1), day)
        if skipped:
            notes.append(
                Note(
                    element.key,
                    "closed_days_skipped",
                    msg(
                        "the next working day after {after} is {day}: {closed}",
                        after=placement.after,
                        day=day,
                        closed=[c.describe() for c in skipped],
                    ),
                )
            )
        return day
    return _within_gap(element, placement.after, placement.gap, previous_last, calendar, notes)


def _working_day_from(calendar: WorkingCalendar, day: date, element: Element, rule: str) -> date:
    found = calendar.working_day_on_or_after(day)
    if found is None:
        raise PlanningError(
            msg(
                "{element}: no working day in {region} within a year from {day}",
                element=element.key,
                region=str(calendar.region),
                day=day,
            ),
            element=element.key,
            rule=rule,
            window=(day, day + timedelta(days=SEARCH_LIMIT_DAYS - 1)),
        )
    return found


def _within_gap(
    element: Element,
    after: str,
    gap: Gap,
    previous_last: date,
    calendar: WorkingCalendar,
    notes: list[Note],
) -> date:
    low, preferred, high = (
        gap.min.after(previous_last),
        gap.preferred.after(previous_last),
        gap.max.after(previous_last),
    )
    for candidate in _nearest_first(preferred, low, high):
        if calendar.is_working_day(candidate):
            if candidate != preferred:
                notes.append(
                    Note(
                        element.key,
                        "gap_adjusted",
                        msg(
                            "the preferred gap of {gap} after {after} ends on a closed day: "
                            "{closed}; moved to {day}",
                            gap=gap.preferred,
                            after=after,
                            closed=_closed_text(calendar, preferred),
                            day=candidate,
                        ),
                    )
                )
            return candidate
    raise PlanningError(
        msg(
            "{element}: no working day in {region} between {low} and {high} "
            "(a gap of {min} to {max} after {after}, which ends on {end})",
            element=element.key,
            region=str(calendar.region),
            low=low,
            high=high,
            min=gap.min,
            max=gap.max,
            after=after,
            end=previous_last,
        ),
        element=element.key,
        rule=f"gap {gap.min}..{gap.max} after {after}",
        window=(low, high),
    )


def _nearest_first(preferred: date, low: date, high: date) -> Iterator[date]:
    """Days of [low, high] by distance from `preferred`, the later first on a tie."""
    if low <= preferred <= high:
        yield preferred
    distance = 1
    while (
        preferred + timedelta(days=distance) <= high or preferred - timedelta(days=distance) >= low
    ):
        for candidate in (
            preferred + timedelta(days=distance),
            preferred - timedelta(days=distance),
        ):
            if low <= candidate <= high:
                yield candidate
        distance += 1


def _last_day(element: Element, first: date, calendar: WorkingCalendar) -> date:
    if not isinstance(element.length, Span):
        return first
    nominal_last = element.length.length.after(first) - timedelta(days=1)
    day = nominal_last
    # `first` is a working day, so this always stops.
    while day > first and not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _closures_between(calendar: WorkingCalendar, first: date, stop: date) -> list[ClosedDay]:
    """Holidays and closure days from `first` up to `stop`; weekends are expected."""
    found = []
    day = first
    while day < stop:
        closed = calendar.closed_because(day)
        if closed is not None and closed.because is not ClosedBecause.WEEKEND:
            found.append(closed)
        day += timedelta(days=1)
    return found


def _closed_text(calendar: WorkingCalendar, day: date) -> Message:
    closed = calendar.closed_because(day)
    return closed.describe() if closed else msg("{day} is a working day", day=day)


def _session(
    element: Element, span: tuple[date, date], zone: ZoneInfo, delivery: Mode | None
) -> Session:
    first, last = span
    mode = delivery if element.mode is Mode.EITHER and delivery is not None else element.mode
    if isinstance(element.length, TimedBlock):
        start = _local(first, element.length, zone)
        naive_end = datetime.combine(first, element.length.start) + element.length.duration
        end = _normalise(naive_end.replace(tzinfo=zone), zone)
        return Session(element.key, element.kind, element.title, mode, False, start, end)
    return Session(element.key, element.kind, element.title, mode, True, first, last)


def _local(day: date, block: TimedBlock, zone: ZoneInfo) -> datetime:
    return _normalise(datetime.combine(day, block.start, tzinfo=zone), zone)


def _normalise(moment: datetime, zone: ZoneInfo) -> datetime:
    # A wall-clock time skipped by a daylight-saving change (02:30 on the
    # last Sunday of March) becomes the real instant it denotes.
    return moment.astimezone(UTC).astimezone(zone)


def _sort_time(session: Session) -> tuple[int, int]:
    if isinstance(session.start, datetime):
        return (1, session.start.hour * 60 + session.start.minute)
    return (0, 0)
