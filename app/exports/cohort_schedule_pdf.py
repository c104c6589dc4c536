"""A cohort's schedule to print or hand out: every session that takes
place, with its dates and times where the cohort meets, its mode, where it
is (or the link to join), and its trainers. A4 portrait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from app.exports import Rendered
from app.exports.pdf_pages import Column, Document, Table, clock, days, render_document
from app.i18n import Translator

# An address or a link to join: more lines before it is ever cut.
PLACE_CELL = ((2, 8.5, 7.5), (4, 7.5, 6.5), (6, 6.5, 6.0))


@dataclass(frozen=True)
class ScheduledSession:
    title: str
    first_day: date
    last_day: date
    # Where the cohort meets; None for a phase of whole days.
    starts: time | None
    ends: time | None
    mode: str  # as people read it
    venue: str
    online_link: str
    trainers: tuple[str, ...]


@dataclass(frozen=True)
class CohortSchedule:
    organisation: str
    programme: str
    cohort: str
    trainers: tuple[str, ...]
    as_of: date  # the day it was printed: schedules change
    sessions: tuple[ScheduledSession, ...]


def schedule_document(schedule: CohortSchedule, tr: Translator) -> Document:
    facts = [
        (tr.gettext("Programme"), schedule.programme),
        (tr.gettext("Cohort"), schedule.cohort),
    ]
    if schedule.sessions:
        first = min(s.first_day for s in schedule.sessions)
        last = max(s.last_day for s in schedule.sessions)
        facts.append((tr.gettext("Period"), days(first, last, tr)))
    facts.append((tr.gettext("Trainers"), ", ".join(schedule.trainers) or "–"))
    facts.append((tr.gettext("As of"), tr.date(schedule.as_of)))
    rows = tuple(
        (
            str(number),
            days(s.first_day, s.last_day, tr),
            clock(s.starts, s.ends, tr) if s.starts and s.ends else tr.gettext("all day"),
            s.title,
            s.mode,
            " · ".join(part for part in (s.venue, s.online_link) if part) or "–",
            ", ".join(s.trainers) or "–",
        )
        for number, s in enumerate(schedule.sessions, start=1)
    )
    table = Table(
        columns=(
            Column(tr.gettext("No."), 8, align="right"),
            Column(tr.gettext("Date"), 26),
            Column(tr.gettext("Time"), 20),
            Column(tr.gettext("Session"), 41),
            Column(tr.gettext("Mode"), 20),
            Column(tr.gettext("Venue or link"), 38, stages=PLACE_CELL),
            Column(tr.gettext("Trainers"), 27),
        ),
        rows=rows,
        row_height=0,
        empty_text=tr.gettext("No sessions take place."),
        striped=True,
    )
    return Document(
        title=tr.gettext("Schedule"),
        facts=tuple(facts),
        table=table,
        footer=" · ".join((schedule.organisation, schedule.cohort)),
        notes=(
            tr.gettext(
                "Times are local times where the cohort meets. Changes after %(day)s are "
                "not on this page; the calendar subscription always shows the current plan.",
                day=tr.date(schedule.as_of),
            ),
        ),
        pdf_title=f"{tr.gettext('Schedule')} {schedule.cohort}",
        pdf_author=schedule.organisation,
        pdf_subject=schedule.programme,
    )


def render_schedule(schedule: CohortSchedule, tr: Translator, *, filename: str) -> Rendered:
    return render_document(schedule_document(schedule, tr), tr, filename=filename)
