"""Who can no longer reach the certificate in their own cohort, and why.

For one person in one cohort: the certificate rule's parts (a required
element, an "at least n of" group, the share of teaching hours) that their
own cohort cannot bring them any more. An element is secured when it counts
as attended (cohorts.eligibility.attended) or when the cohort still has a
session of it on `today` or later (or one whose mark is not recorded yet:
nobody knows yet that it was missed). It is lost when it was missed (absent,
excused, not done, partly with too much missed, before the enrolment) and no
later session of it is left in the cohort, or when the cohort has no session
of it at all. A lost part is saved by make-ups booked in other cohorts'
sessions of the same element (`Attendance.booked`) still to come. A make-up
whose session has begun while the host's trainer has not recorded the
guest's mark yet (`Booking.awaiting_mark`, or dated before `today`) saves
nothing yet and is not to be replaced by another: the part stays lost, its
reason names the make-up ("make-up on …: attendance not recorded yet"), and
`Lost.awaiting` holds its element. Once the mark is recorded, present or
done makes the element attended (`Attendance.made_up`); any other mark
leaves it lost, to be made up again.

Reasons only, no ranking and no score (the works council's condition,
PRODUCT.md): the result names what was missed and what would save it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from functools import cached_property, partial

from cohorts.eligibility import (
    Attendance,
    Booking,
    Mark,
    attended,
    booked_text,
    credited_hours,
    why,
)
from curricula.messages import Message, amount, msg
from curricula.model import Curriculum, Element


class Part(StrEnum):
    ELEMENT = "element"  # a required element
    GROUP = "group"  # an "at least n of" group
    HOURS = "hours"  # the share of teaching hours


@dataclass(frozen=True)
class Lost:
    """One part of the certificate rule the own cohort cannot bring any more."""

    part: Part
    # The elements a make-up could save, in the curriculum's order, and how
    # many of them must be made up.
    elements: tuple[str, ...]
    needed: int
    # Those of `elements` with a make-up booked, still to come.
    booked: tuple[str, ...]
    # Said only when asked: a list of many people shows the reasons of few.
    say: Callable[[], Message] = field(compare=False, repr=False)
    # Those of `elements` whose make-up has begun and waits for the host's
    # trainer to record the mark: not saved, and not to be booked again.
    awaiting: tuple[str, ...] = ()

    @cached_property
    def reason(self) -> Message:
        return self.say()

    @property
    def saved(self) -> bool:
        """Whether the make-ups booked bring the part back, once attended."""
        return len(self.booked) >= self.needed


@dataclass(frozen=True)
class Risk:
    lost: tuple[Lost, ...]

    @property
    def at_risk(self) -> bool:
        return bool(self.lost)

    @property
    def saved(self) -> bool:
        """At risk, but every lost part has its make-ups booked."""
        return self.at_risk and all(lost.saved for lost in self.lost)

    @property
    def elements(self) -> tuple[str, ...]:
        """Every element a make-up could save, each once, in order."""
        seen: dict[str, None] = {}
        for lost in self.lost:
            seen.update(dict.fromkeys(lost.elements))
        return tuple(seen)

    @property
    def awaiting(self) -> tuple[str, ...]:
        """The elements whose make-up waits for its mark, each once, in order."""
        seen: dict[str, None] = {}
        for lost in self.lost:
            seen.update(dict.fromkeys(lost.awaiting))
        return tuple(seen)


def secured(
    key: str, record: Attendance, days: Sequence[date], today: date, curriculum: Curriculum
) -> bool:
    """Whether the own cohort still brings (or brought) the element."""
    return _secured(curriculum.element(key), record, days, today)


def _secured(element: Element, record: Attendance, days: Sequence[date], today: date) -> bool:
    if attended(element, record):
        return True
    if any(day >= today for day in days):
        return True  # a session of it is still to come
    # A session that is over but not recorded yet: not known to be missed.
    return bool(days) and record.mark is Mark.NOT_RECORDED


def assess(
    curriculum: Curriculum,
    records: Mapping[str, Attendance],
    sessions: Mapping[str, Sequence[date]],
    today: date,
) -> Risk:
    """The person's risk: `records` as cohorts.eligibility.decide reads them
    (per element key, with make-ups booked), `sessions` the days of the own
    cohort's scheduled sessions per element key."""
    rule = curriculum.certificate
    counting = [e for e in curriculum.elements if e.counts_for_certificate]
    nothing = Attendance()
    record_of = {e.key: records.get(e.key, nothing) for e in curriculum.elements}
    safe = {
        e.key: _secured(e, record_of[e.key], sessions.get(e.key, ()), today)
        for e in curriculum.elements
    }
    # A make-up booked still to come, and one that waits for its mark.
    coming = {k for k, r in record_of.items() if r.booked and not _awaits(r.booked, today)}
    waiting = {
        k: replace(r.booked, awaiting_mark=True)
        for k, r in record_of.items()
        if r.booked and _awaits(r.booked, today)
    }
    lost: list[Lost] = []
    for key in rule.required:
        if safe[key]:
            continue
        lost.append(
            _naming(
                Lost(
                    Part.ELEMENT,
                    (key,),
                    1,
                    (key,) if key in coming else (),
                    partial(_element_reason, curriculum, key, record_of[key], sessions),
                ),
                waiting,
            )
        )
    for group in rule.at_least:
        have = sum(1 for key in group.of if safe[key])
        if have >= group.count:
            continue
        open_keys = tuple(k for k in _ordered(curriculum, group.of) if not safe[k])
        lost.append(
            _naming(
                Lost(
                    Part.GROUP,
                    open_keys,
                    group.count - have,
                    tuple(k for k in open_keys if k in coming),
                    partial(
                        msg,
                        "needs {count} of {elements}; at most {have} possible in the cohort",
                        count=group.count,
                        elements=[curriculum.element(k).title for k in group.of],
                        have=have,
                    ),
                ),
                waiting,
            )
        )
    if rule.min_hours_share is not None and counting:
        total = sum(e.teaching_hours for e in counting)
        reachable = sum(
            e.teaching_hours
            if not attended(e, record_of[e.key])
            else credited_hours(e, record_of[e.key])
            for e in counting
            if safe[e.key]
        )
        needed_hours = rule.min_hours_share * total
        if total and reachable < needed_hours - 1e-9:
            open_keys = tuple(e.key for e in counting if not safe[e.key])
            lost.append(
                _naming(
                    _hours(curriculum, open_keys, coming, reachable, needed_hours, total),
                    waiting,
                )
            )
    return Risk(tuple(lost))


def _awaits(booking: Booking, today: date) -> bool:
    """Whether the make-up's session has begun with the mark not recorded:
    said by the booking, and true of any dated before today."""
    return booking.awaiting_mark or booking.day < today


def _naming(lost: Lost, waiting: Mapping[str, Booking]) -> Lost:
    """The part with those of its elements whose make-up waits for the
    mark, named after its reason."""
    awaiting = tuple(k for k in lost.elements if k in waiting)
    if not awaiting:
        return lost
    return replace(
        lost,
        awaiting=awaiting,
        say=partial(_awaiting_reason, lost.say, [waiting[k] for k in awaiting]),
    )


def _awaiting_reason(say: Callable[[], Message], bookings: Sequence[Booking]) -> Message:
    return msg("{reason} ({booked})", reason=say(), booked=[booked_text(b) for b in bookings])


def _hours(
    curriculum: Curriculum,
    open_keys: tuple[str, ...],
    coming: set[str],
    reachable: float,
    needed_hours: float,
    total: float,
) -> Lost:
    # The fewest make-ups that bring the hours back: the longest elements first.
    by_length = sorted(open_keys, key=lambda k: -curriculum.element(k).teaching_hours)
    needed, hours = 0, reachable
    for key in by_length:
        if hours >= needed_hours - 1e-9:
            break
        hours += curriculum.element(key).teaching_hours
        needed += 1
    booked = tuple(k for k in open_keys if k in coming)
    booked_hours = reachable + sum(curriculum.element(k).teaching_hours for k in booked)
    rule = curriculum.certificate
    assert rule.min_hours_share is not None  # noqa: S101 -- checked by the caller
    return Lost(
        Part.HOURS,
        open_keys,
        # Saved once the booked make-ups bring the share back.
        len(booked)
        if booked and booked_hours >= needed_hours - 1e-9
        else max(needed, len(booked) + 1),
        booked,
        partial(
            msg,
            "teaching units: at most {units} of {total} possible in the cohort; needs {percent} %",
            units=amount(curriculum.units(reachable)),
            total=amount(curriculum.units(total)),
            percent=round(rule.min_hours_share * 100),
        ),
    )


def _element_reason(
    curriculum: Curriculum, key: str, record: Attendance, sessions: Mapping[str, Sequence[date]]
) -> Message:
    title = curriculum.element(key).title
    if not sessions.get(key):
        return msg("{element}: no session of it in the cohort", element=title)
    return msg(
        "{element}: {why}; no later session of it in the cohort",
        element=title,
        why=why(replace(record, booked=None)),
    )


def _ordered(curriculum: Curriculum, keys: Sequence[str]) -> list[str]:
    wanted = set(keys)
    return [e.key for e in curriculum.elements if e.key in wanted]
