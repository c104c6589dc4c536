"""A planned schedule as a table for people, as JSON and as iCalendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from app.exports import Rendered
from app.exports.descriptions import session_description
from app.exports.ical import CalendarEvent, render_calendar
from app.i18n import Translator
from cohorts.scheduling import Schedule, Session
from curricula.model import MODE_TITLES, Curriculum, Mode

# UIDs derive from what identifies a cohort to its planner (curriculum,
# requested start, region) and the element, so exporting the same plan again
# updates the events in a calendar instead of duplicating them.
UID_NAMESPACE = uuid.UUID("6f1d0c6e-4c7b-5d2a-9a43-51a1c7e0d2b1")


def session_uid(curriculum: Curriculum, start: date, region: str, element: str) -> str:
    name = f"{curriculum.key}|{start.isoformat()}|{region}|{element}"
    return str(uuid.uuid5(UID_NAMESPACE, name))


def as_json(schedule: Schedule, start: date, tr: Translator) -> dict[str, Any]:
    curriculum = schedule.curriculum
    return {
        "curriculum": {
            "key": curriculum.key,
            "version": curriculum.version,
            "title": curriculum.title.get(tr.language),
        },
        "start": start.isoformat(),
        "region": schedule.region,
        "timezone": schedule.timezone,
        "sessions": [
            {
                "element": s.element,
                "kind": s.kind,
                "title": s.title.get(tr.language),
                "mode": s.mode.value,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "all_day": s.all_day,
            }
            for s in schedule.sessions
        ],
        "warnings": [
            {"element": n.element, "code": n.code, "message": tr.localize(n.message)}
            for n in schedule.notes
        ],
    }


def as_table(schedule: Schedule, tr: Translator) -> str:
    curriculum = schedule.curriculum
    header = (tr.gettext("Date"), tr.gettext("Time"), tr.gettext("Session"), tr.gettext("Mode"))
    rows = [
        (
            _dates(s, tr),
            _times(s, tr),
            s.title.get(tr.language),
            MODE_TITLES[s.mode].get(tr.language),
        )
        for s in schedule.sessions
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        tr.gettext(
            "%(title)s (%(key)s, version %(version)s)",
            title=curriculum.title.get(tr.language),
            key=curriculum.key,
            version=curriculum.version,
        ),
        tr.gettext(
            "Region %(region)s, time zone %(timezone)s",
            region=schedule.region,
            timezone=schedule.timezone,
        ),
        "",
    ]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    if schedule.notes:
        lines.append("")
        lines.extend(
            tr.gettext("Note: %(note)s", note=tr.localize(note.message)) for note in schedule.notes
        )
    return "\n".join(lines) + "\n"


def as_calendar(
    schedule: Schedule,
    start: date,
    tr: Translator,
    *,
    dtstamp: datetime,
    venue: str | None = None,
    link: str | None = None,
) -> Rendered:
    curriculum = schedule.curriculum
    events = [
        _event(schedule, session, start, tr, venue=venue, link=link)
        for session in schedule.sessions
    ]
    return render_calendar(
        f"{curriculum.title.get(tr.language)} ({tr.date(start)})",
        events,
        filename=f"{curriculum.key}-{start.isoformat()}.ics",
        dtstamp=dtstamp,
        timezone=schedule.timezone,
    )


def _event(
    schedule: Schedule,
    session: Session,
    start: date,
    tr: Translator,
    *,
    venue: str | None,
    link: str | None,
) -> CalendarEvent:
    element = schedule.curriculum.element(session.element)
    online_link = link if session.mode in (Mode.ONLINE, Mode.EITHER) else None
    in_person_venue = venue if session.mode in (Mode.IN_PERSON, Mode.EITHER) else None
    return CalendarEvent(
        uid=session_uid(schedule.curriculum, start, schedule.region, session.element),
        summary=session.title.get(tr.language),
        start=session.start,
        end=session.end,
        description=session_description(element, tr, link=online_link),
        location=in_person_venue,
        url=online_link,
        categories=(schedule.curriculum.kind_title(session.kind).get(tr.language),),
    )


def _dates(session: Session, tr: Translator) -> str:
    if session.first_day == session.last_day:
        return tr.date(session.first_day)
    return f"{tr.date(session.first_day)} – {tr.date(session.last_day)}"


def _times(session: Session, tr: Translator) -> str:
    if isinstance(session.start, datetime) and isinstance(session.end, datetime):
        return f"{session.start:%H:%M}–{session.end:%H:%M}"
    return tr.gettext("all day")
