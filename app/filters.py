"""Template filters and globals shared by all pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import lazy_gettext as _l

from app import lists
from app.i18n import current_language, region_name, translator
from app.models import Change, CohortState, Session
from app.models.registrations import history_message as registration_step
from curricula.messages import msg
from curricula.model import MODE_TITLES, Curriculum, Element, Mode, Span, Text, TimedBlock
from curricula.versions import ChangeKind, UpstreamChange

# Staff see moments of the history in German time unless a cohort says otherwise.
DEFAULT_ZONE = ZoneInfo("Europe/Berlin")

FIELD_TITLES = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail address"),
    "department": _l("Department"),
    "site": _l("Site"),
    "manager_name": _l("Manager"),
    "manager_email": _l("Manager's e-mail address"),
    "employee_number": _l("Employee number"),
    "cohort": _l("Cohort"),
}

STATE_TITLES = {
    CohortState.PLANNED: _l("planned"),
    CohortState.RUNNING: _l("running"),
    CohortState.COMPLETED: _l("completed"),
    CohortState.CANCELLED: _l("cancelled"),
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["zip"] = _zip
    app.jinja_env.filters["length_text"] = length_text
    # Dates, times and numbers for people: never isoformat(), strftime or
    # "%g" in a template (docs/glossary.md).
    app.jinja_env.filters["day"] = day_text
    app.jinja_env.filters["short_day"] = short_day_text
    app.jinja_env.filters["time_range"] = time_range
    app.jinja_env.filters["number"] = number_text
    app.jinja_env.filters["region"] = region_name
    app.jinja_env.filters["session_dates"] = session_dates
    app.jinja_env.filters["session_times"] = session_times
    app.jinja_env.filters["state_title"] = state_title
    app.jinja_env.filters["mode_title"] = mode_title
    app.jinja_env.filters["localize"] = lambda message: translator().localize(message)
    app.jinja_env.filters["moment"] = moment_text
    app.jinja_env.filters["change_text"] = change_text
    app.jinja_env.filters["webcal"] = webcal
    app.jinja_env.filters["placement_text"] = placement_text
    app.jinja_env.filters["change_summary"] = change_summary
    app.jinja_env.filters["field_label"] = field_label
    app.jinja_env.filters["day_range"] = day_range
    app.jinja_env.globals["mode_titles"] = MODE_TITLES
    app.jinja_env.globals["field_titles"] = FIELD_TITLES
    app.jinja_env.globals["state_buttons"] = {
        "running": _l("Start the cohort"),
        "completed": _l("Complete the cohort"),
        "cancelled": _l("Cancel the cohort"),
    }


def _zip(first: Iterable[Any], second: Iterable[Any]) -> list[tuple[Any, Any]]:
    return list(zip(first, second, strict=True))


def length_text(element: Element) -> str:
    tr = translator()
    length = element.length
    if isinstance(length, TimedBlock):
        return tr.gettext(
            "%(start)s, %(hours)s h",
            start=clock(length.start),
            hours=tr.number(length.hours),
        )
    assert isinstance(length, Span)  # noqa: S101 -- a length is a block or a span
    return tr.offset(length.length)


def day_text(day: date) -> str:
    """With the weekday: Di. 03.11.2026 (Tue 3 Nov 2026)."""
    return translator().date(day)


def short_day_text(day: date | str | None) -> str:
    """Without the weekday: 03.11.2026 (3 Nov 2026). Also takes the ISO form
    that stored records (a certificate's content) keep."""
    if not day:
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return lists.short_day(day, current_language())


def number_text(value: float | Decimal | None) -> str:
    """18 (not 18.0), 1,5 and 1.234 in German; 1.5 and 1,234 in English."""
    return "" if value is None else lists.number(value, current_language())


def clock(moment: time | datetime) -> str:
    return f"{moment:%H:%M}"


def time_range(
    start: time | datetime, end: time | datetime, zone: str | ZoneInfo | None = None
) -> str:
    """09:00–12:15; moments are shown in `zone` (a cohort's time zone) when given."""
    if zone is not None and isinstance(start, datetime) and isinstance(end, datetime):
        where = ZoneInfo(zone) if isinstance(zone, str) else zone
        start, end = start.astimezone(where), end.astimezone(where)
    return f"{clock(start)}–{clock(end)}"


def session_dates(session: Session) -> str:
    tr = translator()
    if session.first_day == session.last_day:
        return tr.date(session.first_day)
    return f"{tr.date(session.first_day)} – {tr.date(session.last_day)}"


def session_times(session: Session) -> str:
    if session.all_day or session.starts_at is None or session.ends_at is None:
        return translator().gettext("all day")
    return time_range(session.starts_at, session.ends_at, session.cohort.timezone)


def state_title(state: CohortState) -> str:
    return str(STATE_TITLES[state])


def mode_title(mode: str) -> str:
    return MODE_TITLES[Mode(mode)].get(current_language())


def moment_text(moment: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    local = moment.astimezone(zone)
    return f"{translator().date(local.date())} {clock(local)}"


def change_text(change: Change) -> str:
    """A recorded change in words: who did what is shown around it."""
    tr = translator()
    after, before = change.after or {}, change.before or {}
    title = after.get("title") or before.get("title") or {}
    session = Text(title.get("de", ""), title.get("en", ""))
    if (step := registration_step(change.subject, change.action, after)) is not None:
        return tr.localize(step)
    if change.action == "created":
        return tr.localize(msg("planned the cohort"))
    if change.action == "state":
        return tr.gettext(
            "changed the state from %(before)s to %(after)s",
            before=state_title(CohortState(before["state"])),
            after=state_title(CohortState(after["state"])),
        )
    if change.action in ("make_up_booked", "make_up_cancelled"):
        values = {
            "name": after.get("participant", ""),
            "session": session.get(tr.language),
            "cohort": after.get("cohort", ""),
            "day": short_day_text(after.get("day")),
        }
        if change.action == "make_up_booked":
            return tr.gettext(
                "booked a make-up for %(name)s: %(session)s in %(cohort)s on %(day)s", **values
            )
        return tr.gettext(
            "cancelled the make-up of %(name)s: %(session)s in %(cohort)s on %(day)s", **values
        )
    if change.action in ("enrolled", "withdrawn"):
        name = after.get("participant", "")
        if change.action == "enrolled":
            return tr.gettext("enrolled %(name)s", name=name)
        return tr.gettext("withdrew %(name)s", name=name)
    if change.action == "moved":
        return tr.localize(
            msg(
                "moved {session} from {before} to {after}",
                session=session,
                before=_moment_or_day(before),
                after=_moment_or_day(after),
            )
        )
    if change.action == "cancelled":
        return tr.localize(msg("cancelled {session}", session=session))
    if change.action == "restored":
        return tr.localize(msg("let {session} take place again", session=session))
    if change.action == "version":
        return tr.localize(
            msg("moved the cohort to version {number}", number=after.get("version", ""))
        )
    if change.action == "changed":
        return tr.localize(msg("changed the name, capacity, venue or link of the cohort"))
    if change.action == "details":
        return tr.localize(msg("changed venue, link or trainers of {session}", session=session))
    return change.action


def _moment_or_day(state: dict[str, str]) -> date | datetime:
    if state.get("starts_at"):
        return datetime.fromisoformat(state["starts_at"]).astimezone(DEFAULT_ZONE)
    return date.fromisoformat(state["first_day"])


VERSION_FIELDS = {
    "kind": _l("kind"),
    "title": _l("title"),
    "mode": _l("mode"),
    "length": _l("length"),
    "placement": _l("placement and gap"),
    "topics": _l("topics"),
    "teaching_hours": _l("teaching units"),
    "counts_for_certificate": _l("counting for the certificate"),
    "description": _l("description"),
    "preparation": _l("preparation"),
    "certificate": _l("certificate rule"),
    "custom_kinds": _l("kinds"),
    "order": _l("order"),
    "element": _l("the element itself (removed in the fork)"),
}


def field_label(name: str) -> str:
    return str(VERSION_FIELDS.get(name, name))


def change_summary(change: UpstreamChange, *curricula: Curriculum) -> str:
    """One upstream change in words, the element named by its title in the
    first of `curricula` that has it (the key only where none has it)."""
    tr = translator()
    difference = change.difference
    names = ", ".join(field_label(f.field) for f in difference.fields)
    title = _element_title(difference.element, curricula, tr.language)
    if difference.kind is ChangeKind.ADDED:
        return tr.gettext("new element %(key)s", key=title)
    if difference.kind is ChangeKind.REMOVED:
        return tr.gettext("element %(key)s removed", key=title)
    if difference.kind is ChangeKind.ORDER:
        return tr.gettext("new order of the elements")
    if difference.kind is ChangeKind.SETTINGS:
        return tr.gettext("changed: %(fields)s", fields=names)
    return tr.gettext("%(key)s: changed %(fields)s", key=title, fields=names)


# An element's title inside a sentence, in the reader's quotation marks.
QUOTES = {"de": "„{}“", "en": "“{}”"}


def _element_title(key: str | None, curricula: Iterable[Curriculum], language: str) -> str:
    for curriculum in curricula:
        for element in curriculum.elements:
            if element.key == key:
                return QUOTES[language].format(element.title.get(language))
    return key or ""


def placement_text(element: Element, curriculum: Curriculum) -> str:
    tr = translator()
    placement = element.placement
    if placement.after is None:
        return tr.gettext("on the cohort's start")
    before = curriculum.element(placement.after).title.get(tr.language)
    if placement.gap is None:
        return tr.gettext("next working day after %(title)s", title=before)
    gap = placement.gap
    return tr.gettext(
        "%(preferred)s after %(title)s (%(min)s to %(max)s)",
        preferred=tr.offset(gap.preferred),
        title=before,
        min=tr.offset(gap.min),
        max=tr.offset(gap.max),
    )


def day_range(days: tuple[date, date]) -> str:
    tr = translator()
    first, last = days
    return tr.date(first) if first == last else f"{tr.date(first)} – {tr.date(last)}"


def webcal(url: str) -> str:
    """The same address for programs that subscribe when they see webcal://."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url.removeprefix(scheme)
    return url
