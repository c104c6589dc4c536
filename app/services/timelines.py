"""What the timeline pictures show: a cohort's elements, or all cohorts of an
organisation in a year, with the holidays and closure days around them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from babel.dates import format_date
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.exports.timeline import Band, Bar, Lane, Legend, timeline_svg
from app.extensions import db
from app.i18n import Translator
from app.models import ClosureDay, Cohort, Organisation, Session, SessionStatus
from cohorts.calendar import WorkingCalendar
from cohorts.errors import UnknownRegion

MARGIN = timedelta(days=3)


def cohort_timeline(
    cohort: Cohort, sessions: Sequence[Session], tr: Translator, today: date
) -> Markup | None:
    """One lane per session, on the days from the first to the last session."""
    if not sessions:
        return None
    first = min(s.first_day for s in sessions) - MARGIN
    last = max(s.last_day for s in sessions) + MARGIN
    lanes = [
        Lane(
            label=s.element.title(tr.language),
            bars=(_bar(s, cohort, tr, with_cohort=False),),
        )
        for s in sessions
    ]
    closures = {c.day: c.reason for c in cohort.closures}
    closures.update(_organisation_closures(cohort.organisation_id, first, last))
    bands = [*_holidays(cohort.region, first, last, tr), *_closures(closures, tr)]
    title = tr.gettext("Schedule of %(name)s as a timeline", name=cohort.name)
    return _draw(lanes, first, last, bands, title, tr, today)


def year_timeline(
    organisation: Organisation, year: int, tr: Translator, today: date
) -> tuple[Markup, list[Cohort]]:
    """One lane per cohort with a session in the year; the organisation's
    region's holidays and its closure days shaded."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    cohorts = list(
        db.session.scalars(
            select(Cohort)
            .where(
                Cohort.organisation_id == organisation.id,
                Cohort.id.in_(
                    select(Session.cohort_id).where(
                        Session.first_day <= last, Session.last_day >= first
                    )
                ),
            )
            .options(
                selectinload(Cohort.sessions).selectinload(Session.element),
                selectinload(Cohort.version),
            )
            .order_by(Cohort.start_date, Cohort.name)
        )
    )
    lanes = [
        Lane(
            label=cohort.name,
            # No link in the lane: a picture (role="img") holds no controls;
            # the year page links every cohort in its list below the picture.
            bars=tuple(_bar(s, cohort, tr, with_cohort=True) for s in cohort.sessions),
        )
        for cohort in cohorts
    ]
    closures = _organisation_closures(organisation.id, first, last)
    bands = [
        *_holidays(organisation.default_region, first, last, tr),
        *_closures(closures, tr),
    ]
    title = tr.gettext(
        "Cohorts of %(organisation)s in %(year)d", organisation=organisation.name, year=year
    )
    return _draw(lanes, first, last, bands, title, tr, today), cohorts


def _bar(session: Session, cohort: Cohort, tr: Translator, *, with_cohort: bool) -> Bar:
    title = session.element.title(tr.language)
    days = tr.date(session.first_day)
    if session.last_day != session.first_day:
        days += " – " + tr.date(session.last_day)
    text = f"{title}: {days}"
    if with_cohort:
        text = f"{cohort.name} · {text}"
    cancelled = session.status is SessionStatus.CANCELLED
    if cancelled:
        text += " (" + tr.gettext("cancelled") + ")"
    return Bar(
        first=session.first_day,
        last=session.last_day,
        title=text,
        kind="meeting" if session.starts_at is not None else "span",
        key=session.element.key,
        cancelled=cancelled,
    )


def _holidays(region: str, first: date, last: date, tr: Translator) -> list[Band]:
    try:
        calendar = WorkingCalendar(region)
    except UnknownRegion:
        return []
    return [
        Band(day, day, name.get(tr.language), "holiday")
        for day, name in calendar.holidays_between(first, last)
    ]


def _organisation_closures(organisation_id: int, first: date, last: date) -> dict[date, str]:
    return {
        day: reason
        for day, reason in db.session.execute(
            select(ClosureDay.day, ClosureDay.reason).where(
                ClosureDay.organisation_id == organisation_id,
                ClosureDay.day.between(first, last),
            )
        )
    }


def _closures(days: dict[date, str], tr: Translator) -> list[Band]:
    """Consecutive closure days as one band."""
    bands: list[Band] = []
    for day in sorted(days):
        reason = days[day] or tr.gettext("closed")
        previous = bands[-1] if bands else None
        if previous and previous.last == day - timedelta(days=1) and previous.title == reason:
            bands[-1] = Band(previous.first, day, reason, "closure")
        else:
            bands.append(Band(day, day, reason, "closure"))
    return bands


def _draw(
    lanes: list[Lane],
    first: date,
    last: date,
    bands: list[Band],
    title: str,
    tr: Translator,
    today: date,
) -> Markup:
    return timeline_svg(
        lanes,
        first,
        last,
        bands,
        title=title,
        tick_label=lambda day: (
            format_date(day, "MMM yyyy", locale=tr.language)
            if day.day == 1 or day == first
            else None
        ),
        legend=Legend(
            meeting=tr.gettext("day or online session"),
            span=tr.gettext("self-study phase"),
            cancelled=tr.gettext("cancelled"),
            holiday=tr.gettext("public holiday"),
            closure=tr.gettext("closure day"),
        ),
        today=today,
    )
