"""A session's dates and a change to them in words, for the messages about
it: "Seminartag 2 ist verschoben: von Di. 03.11.2026 auf Do. 05.11.2026,
09:00–17:00, Bildungszentrum Nord."

Plain functions of a notification's payload (docs/calendar-invitations.md
describes it) and a Translator: no request, no database. Times are shown in
the cohort's time zone, dates as the glossary says (Di. 03.11.2026).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.filters import QUOTES, time_range
from app.i18n import Translator
from app.notices import _l

Payload = Mapping[str, Any]


# What changed ("change.what" in the payload) and the subject's first word.
SUBJECTS = {
    None: _l("Invitation: %(title)s – %(cohort)s"),
    "enrolled": _l("Invitation: %(title)s – %(cohort)s"),
    "trainer_added": _l("Invitation: %(title)s – %(cohort)s"),
    "moved": _l("Moved: %(title)s – %(cohort)s"),
    "details": _l("Changed: %(title)s – %(cohort)s"),
    "restored": _l("Takes place after all: %(title)s – %(cohort)s"),
    "cancelled": _l("Cancelled: %(title)s – %(cohort)s"),
    "cohort_cancelled": _l("Cancelled: %(title)s – %(cohort)s"),
    "withdrawn": _l("Withdrawn: %(title)s – %(cohort)s"),
    "trainer_removed": _l("No longer assigned: %(title)s – %(cohort)s"),
    "make_up": _l("Make-up: %(title)s – %(cohort)s"),
    "make_up_cancelled": _l("Make-up cancelled: %(title)s – %(cohort)s"),
    # The person changed how they get their dates (docs/calendar-invitations.md).
    "invitations_chosen": _l("Invitation: %(title)s – %(cohort)s"),
    "feed_chosen": _l("Now in your subscribed calendar: %(title)s – %(cohort)s"),
}

SENTENCES = {
    None: _l("You are invited to %(title)s: %(at)s."),
    "enrolled": _l("You are enrolled in the cohort %(cohort)s and invited to %(title)s: %(at)s."),
    "trainer_added": _l("You are a trainer of %(title)s in the cohort %(cohort)s: %(at)s."),
    "restored": _l("%(title)s takes place after all: %(at)s."),
    "cancelled": _l("%(title)s is cancelled: %(at)s."),
    "cohort_cancelled": _l("The cohort %(cohort)s is cancelled, and with it %(title)s: %(at)s."),
    "withdrawn": _l(
        "You have been withdrawn from the cohort %(cohort)s; %(title)s is no longer one of "
        "your dates: %(at)s."
    ),
    "trainer_removed": _l(
        "You are no longer a trainer of %(title)s in the cohort %(cohort)s: %(at)s."
    ),
    "make_up": _l(
        "You make up %(title)s in the cohort %(cohort)s; it counts for your own cohort: %(at)s."
    ),
    "make_up_cancelled": _l(
        "Your make-up of %(title)s in the cohort %(cohort)s is cancelled: %(at)s."
    ),
    "invitations_chosen": _l(
        "Your dates now come as calendar invitations, as you chose. %(title)s: %(at)s."
    ),
    "feed_chosen": _l(
        "Your dates now come only through your subscribed calendar, as you chose; this "
        "entry from an invitation is removed, the subscription keeps %(title)s: %(at)s."
    ),
}
MOVED = _l("%(title)s is moved: from %(before)s to %(after)s.")
NEW_VENUE = _l("%(title)s has a new venue: %(at)s.")
NOW_ONLINE = _l("%(title)s now takes place online: %(at)s.")
NEW_LINK = _l("%(title)s has a new online meeting link: %(at)s.")
NEW_DETAILS = _l("The details of %(title)s have changed: %(at)s.")

# Under the details of every message.
REPLIES = _l(
    "A reply from your calendar (accepting or declining) is not read; please write to "
    "%(organisation)s with any questions."
)
KEEPS_UP = _l(
    "The calendar entry in this message puts the date into your calendar and keeps it "
    "up to date when it changes."
)
CANCELS = _l("Your calendar shows the date as cancelled or removes it.")

# The changes sent as a cancellation (METHOD:CANCEL); the others are invitations.
CANCELLING = frozenset(
    {
        "cancelled",
        "cohort_cancelled",
        "withdrawn",
        "trainer_removed",
        "feed_chosen",
        "make_up_cancelled",
    }
)
# Cancellations for one person while the session itself goes on.
UNINVITING = frozenset({"withdrawn", "trainer_removed", "feed_chosen", "make_up_cancelled"})

KINDS_WHEN_NONE = {"cancellation": "cancelled"}


@dataclass(frozen=True)
class Dates:
    """A session's first and last moment: aware datetimes in the cohort's
    zone, or dates (the last day included) for a whole-day session."""

    start: datetime | date
    end: datetime | date

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


def dates(values: Payload, zone: str) -> Dates:
    """The `start` and `end` of a payload (or of its change's `before`)."""
    if values.get("all_day"):
        return Dates(_day(values["start"]), _day(values["end"]))
    where = ZoneInfo(zone)
    return Dates(_moment(values["start"], where), _moment(values["end"], where))


def _day(value: str) -> date:
    return date.fromisoformat(str(value)[:10])


def _moment(value: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def days_text(span: Dates, tr: Translator) -> str:
    """Di. 03.11.2026, or Mo. 02.11.2026 – Fr. 06.11.2026."""
    first, last = _as_date(span.start), _as_date(span.end)
    return tr.date(first) if first == last else f"{tr.date(first)} – {tr.date(last)}"


def when_text(span: Dates, tr: Translator) -> str:
    """Do. 05.11.2026, 09:00–17:00; a whole day only by its date (or dates);
    a timed session over midnight with both moments."""
    if span.all_day:
        return days_text(span, tr)
    start, end = span.start, span.end
    assert isinstance(start, datetime)  # noqa: S101 -- a timed span
    assert isinstance(end, datetime)  # noqa: S101
    if start.date() == end.date():
        return f"{tr.date(start.date())}, {time_range(start, end)}"
    return f"{tr.date(start.date())} {start:%H:%M} – {tr.date(end.date())} {end:%H:%M}"


def place_text(location: str | None, link: str | None, tr: Translator) -> str:
    """The venue; "online" for a session with a link and no venue."""
    if location:
        return location
    return tr.gettext("online") if link else ""


def at_text(values: Payload, zone: str, tr: Translator) -> str:
    """When and where: Do. 05.11.2026, 09:00–17:00, Bildungszentrum Nord."""
    parts = [
        when_text(dates(values, zone), tr),
        place_text(values.get("location"), values.get("link"), tr),
    ]
    return ", ".join(part for part in parts if part)


def quoted(text: str, tr: Translator) -> str:
    return QUOTES.get(tr.language, "“{}”").format(text)


def what(payload: Payload, kind: str) -> str | None:
    """The payload's "change.what"; a cancellation without one is a
    cancelled session."""
    change = payload.get("change") or {}
    found = change.get("what")
    if found is None:
        return KINDS_WHEN_NONE.get(kind)
    if found not in SUBJECTS:
        raise ValueError(f"unknown change {found!r}")
    if kind in ("invitation", "cancellation") and (found in CANCELLING) != (
        kind == "cancellation"
    ):
        # A REQUEST that says "cancelled" (or the reverse) would contradict itself.
        raise ValueError(f"a change {found!r} is not sent as {kind!r}")
    return str(found)


def subject(payload: Payload, kind: str, tr: Translator) -> str:
    """Verschoben: Seminartag 2 – Lernbegleitung Herbst 2026."""
    template = tr.gettext(SUBJECTS[what(payload, kind)])
    text = template % {"title": payload["title"], "cohort": payload["cohort"]}
    return " ".join(text.split())  # one line, whatever a name holds


def change_text(payload: Payload, kind: str, tr: Translator) -> str:
    """The change in one sentence, in the Translator's language."""
    zone = payload["timezone"]
    # "Seminartag 2 ist verschoben: …", but a title with a colon of its own
    # in quotes: "„Seminartag 1: Rolle“ ist verschoben: …".
    title = quoted(payload["title"], tr) if ":" in payload["title"] else payload["title"]
    now = at_text(payload, zone, tr)
    change = payload.get("change") or {}
    before = change.get("before")
    found = what(payload, kind)

    def say(template: str, **values: str) -> str:
        text = tr.gettext(template)
        return text % {"title": title, "cohort": quoted(payload["cohort"], tr), **values}

    if found == "moved" and before:
        return say(MOVED, before=_before_text(before, payload, zone, tr), after=now)
    if found == "details":
        if before and before.get("location") != payload.get("location"):
            if payload.get("location"):
                return say(NEW_VENUE, at=now)
            if payload.get("link"):
                return say(NOW_ONLINE, at=now)
        if before and payload.get("link") and before.get("link") != payload.get("link"):
            return say(NEW_LINK, at=f"{now} – {payload['link']}")
        return say(NEW_DETAILS, at=now)
    return say(SENTENCES.get(found, SENTENCES[None]), at=now)


def _before_text(before: Payload, payload: Payload, zone: str, tr: Translator) -> str:
    """Where a moved session was: only its date(s) when just the day
    changed (the new day follows with its times), else date and times."""
    old, new = dates(before, zone), dates(payload, zone)
    if (
        old.all_day == new.all_day
        and _clock(old) == _clock(new)
        and days_text(old, tr) != days_text(new, tr)
    ):
        return days_text(old, tr)
    return when_text(old, tr)


def _clock(span: Dates) -> tuple[str, str] | None:
    if span.all_day:
        return None
    return (f"{span.start:%H:%M}", f"{span.end:%H:%M}")


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def change_words(payload: Payload, language: str) -> tuple[str, str]:
    """Subject and plain text of one session's change, for a person who
    follows a feed instead of taking invitations: the same words as the
    invitation's, without the calendar entry."""
    tr = Translator(language)
    found = (payload.get("change") or {}).get("what")
    kind = "cancellation" if found in CANCELLING else "invitation"
    lines = [change_text(payload, kind, tr)]
    if payload.get("link") and kind == "invitation":
        lines.append(tr.gettext("Online meeting: %(link)s", link=payload["link"]))
    if payload.get("personal_url"):
        lines.append(tr.gettext("Your personal page: %(url)s", url=payload["personal_url"]))
    return subject(payload, kind, tr), "\n".join(lines) + "\n"
