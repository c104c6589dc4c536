"""Whether a participant may receive the certificate, and why (not).

The curriculum's certificate rule names required elements and "at least n
of" groups. An element counts as attended when the person was present, did
the self-study phase, missed no more than a quarter of a session (partly
present), or made it up in another cohort's session of the same element.
Excused is not attended: it explains an absence but the element still has
to be made up. A make-up booked in another cohort's session still to come
does not count yet, but the reasons name it ("make-up booked: …"); so does
one whose session has begun while the host's trainer has not recorded the
guest's mark yet ("make-up on …: attendance not recorded yet"). Once the
mark is recorded, present or done counts as made up, anything else leaves
the element missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from curricula.messages import Message, amount, msg
from curricula.model import Curriculum, Element, TimedBlock

# The share of a session someone may miss and still have attended it.
PARTLY_LIMIT = 0.25


class Mark(StrEnum):
    NOT_RECORDED = "not_recorded"
    PRESENT = "present"
    PARTLY = "partly"  # with the minutes missed
    EXCUSED = "excused"
    ABSENT = "absent"
    DONE = "done"  # a self-study phase
    NOT_DONE = "not_done"
    NOT_EXPECTED = "not_expected"  # enrolled after the session


@dataclass(frozen=True)
class Booking:
    """A make-up booked in another cohort's session of the same element."""

    day: date
    cohort: str  # the name of the cohort whose session it is
    # The session has begun (or is over) and the host's trainer has not
    # recorded the guest's mark yet: neither made up nor still to come.
    awaiting_mark: bool = False


@dataclass(frozen=True)
class Attendance:
    mark: Mark = Mark.NOT_RECORDED
    minutes_missed: int = 0
    day: date | None = None  # when the session was, for the reasons
    made_up: date | None = None  # attended the same element in another cohort
    booked: Booking | None = None  # a make-up booked, not attended (yet)


@dataclass(frozen=True)
class Decision:
    eligible: bool
    reasons: tuple[Message, ...]
    attended: tuple[str, ...]  # keys of the elements that count as attended
    teaching_hours: float  # hours credited, of the elements that count


def attended(element: Element, record: Attendance) -> bool:
    if record.made_up is not None:
        return True
    if record.mark in (Mark.PRESENT, Mark.DONE):
        return True
    if record.mark is Mark.PARTLY and isinstance(element.length, TimedBlock):
        length = element.length.duration.total_seconds() / 60
        return record.minutes_missed <= PARTLY_LIMIT * length
    return False


def credited_hours(element: Element, record: Attendance) -> float:
    """Teaching hours of an attended element; a partly attended session counts
    for the share that was attended."""
    if not attended(element, record):
        return 0.0
    if (
        record.made_up is None
        and record.mark is Mark.PARTLY
        and isinstance(element.length, TimedBlock)
    ):
        length = element.length.duration.total_seconds() / 60
        return element.teaching_hours * max(0.0, 1 - record.minutes_missed / length)
    return element.teaching_hours


def decide(curriculum: Curriculum, records: Mapping[str, Attendance]) -> Decision:
    """The decision for one person from their attendance per element key."""
    rule = curriculum.certificate
    counting = [e for e in curriculum.elements if e.counts_for_certificate]
    done = tuple(e.key for e in counting if attended(e, records.get(e.key, Attendance())))
    reasons: list[Message] = []
    for key in rule.required:
        element = curriculum.element(key)
        record = records.get(key, Attendance())
        if key not in done:
            reasons.append(
                msg("missing: {element} ({why})", element=element.title, why=why(record))
            )
    for group in rule.at_least:
        have = sum(1 for key in group.of if key in done)
        if have < group.count:
            reason = msg(
                "needs {count} of {elements}; has {have}",
                count=group.count,
                elements=[curriculum.element(k).title for k in group.of],
                have=have,
            )
            booked = [
                booked_text(b)
                for k in group.of
                if k not in done and (b := records.get(k, Attendance()).booked) is not None
            ]
            if booked:
                reason = msg("{reason} ({booked})", reason=reason, booked=booked)
            reasons.append(reason)
    hours = sum(credited_hours(e, records.get(e.key, Attendance())) for e in counting)
    total = sum(e.teaching_hours for e in counting)
    if rule.min_hours_share is not None and total and hours / total < rule.min_hours_share:
        reasons.append(
            msg(
                "teaching units: {units} of {total} attended; needs {percent} %",
                units=amount(curriculum.units(hours)),
                total=amount(curriculum.units(total)),
                percent=round(rule.min_hours_share * 100),
            )
        )
    return Decision(
        eligible=not reasons,
        reasons=tuple(reasons) if reasons else (msg("eligible"),),
        attended=done,
        teaching_hours=round(hours, 2),
    )


def booked_text(booking: Booking) -> Message:
    if booking.awaiting_mark:
        return msg(
            "make-up on {day} in {cohort}: attendance not recorded yet",
            day=booking.day,
            cohort=booking.cohort,
        )
    return msg("make-up booked: {day}, {cohort}", day=booking.day, cohort=booking.cohort)


def why(record: Attendance) -> Message:
    """Why an element does not count (yet): a booked make-up first, else the mark."""
    if record.booked is not None:
        return booked_text(record.booked)
    day = record.day
    if record.mark is Mark.ABSENT:
        return msg("absent on {day}", day=day) if day else msg("absent")
    if record.mark is Mark.EXCUSED:
        return msg("excused on {day}, not made up yet", day=day) if day else msg("excused")
    if record.mark is Mark.PARTLY:
        return msg("missed {minutes} minutes", minutes=record.minutes_missed)
    if record.mark is Mark.NOT_DONE:
        return msg("not done")
    if record.mark is Mark.NOT_EXPECTED:
        return msg("before the enrolment; to be made up in another cohort")
    return msg("not recorded yet")
