"""Reminders before a session, and at the start and shortly before the end
of a self-study phase (app.services.reminders records them): what, when,
where or the online link, and the cohort, in the recipient's language, as
plain text and HTML.

The payload (made by app.services.reminders.payload): "title" ({"de", "en"}),
"cohort", "organisation", "moment" ("7", "1", … days before, or "start" /
"end"), "start", "end", "all_day" and "timezone" as invitations keep them
(app.notices.wording), "venue", "link", "for" ("participant", "trainer", or
"guest": someone making the session up, with "own_cohort", the cohort it
counts for, while "cohort" is the host's), "to_name", and "from" when the
organisation has a sender address of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from email.message import EmailMessage
from typing import Any

from markupsafe import Markup, escape

from app.i18n import Translator
from app.notices import _l, renderer
from app.notices.wording import dates, when_text

Payload = Mapping[str, Any]
HOME_ZONE = "Europe/Berlin"


SUBJECT_DAYS = _l("Reminder: %(title)s on %(day)s")
SUBJECT_STUDY_START = _l("Self-study phase begins: %(title)s")
SUBJECT_STUDY_END = _l("Self-study phase ends on %(day)s: %(title)s")
TODAY = _l("Today: %(title)s.")
TOMORROW = _l("Tomorrow: %(title)s.")
STUDY_STARTS = _l("Your self-study phase begins today: %(title)s.")
STUDY_ENDS = _l("Your self-study phase ends on %(day)s: %(title)s.")
AS_TRAINER = _l("You are a trainer of this session.")
AS_GUEST = _l(
    "It is your make-up in the cohort %(cohort)s; it counts for your own cohort %(own_cohort)s."
)
WHEN = _l("When: %(when)s")
TIMES_IN = _l("(times in the time zone %(zone)s)")
WHERE = _l("Where: %(venue)s")
ONLINE = _l("Online: %(link)s")
COHORT = _l("Cohort: %(cohort)s")
HELLO = _l("Hello %(name)s,")
HELLO_NAMELESS = _l("Hello,")
TURN_OFF = _l("You can turn reminders off on your personal page.")
REGARDS = _l("Kind regards")


def title_in(values: Payload, language: str) -> str:
    title = values["title"]
    if isinstance(title, Mapping):
        return str(title.get(language) or title.get("de") or "")
    return str(title)


def greeting(values: Payload, tr: Translator) -> str:
    name = values.get("to_name")
    return tr.gettext(HELLO, name=name) if name else tr.gettext(HELLO_NAMELESS)


def details(values: Payload, tr: Translator) -> list[tuple[str, str, str | None]]:
    """(label line, value, link) of when, where, online and the cohort."""
    zone = values["timezone"]
    when = when_text(dates(values, zone), tr)
    if zone != HOME_ZONE and not values.get("all_day"):
        when = f"{when} {tr.gettext(TIMES_IN, zone=zone)}"
    lines: list[tuple[str, str, str | None]] = [(WHEN, when, None)]
    if values.get("venue"):
        lines.append((WHERE, str(values["venue"]), None))
    if values.get("link"):
        lines.append((ONLINE, str(values["link"]), str(values["link"])))
    lines.append((COHORT, str(values["cohort"]), None))
    return lines


def _first_day(values: Payload) -> date:
    return date.fromisoformat(str(values["start"])[:10])


def _last_day(values: Payload) -> date:
    return date.fromisoformat(str(values["end"])[:10])


def subject(values: Payload, tr: Translator) -> str:
    title = title_in(values, tr.language)
    moment = str(values["moment"])
    if moment == "start":
        return tr.gettext(SUBJECT_STUDY_START, title=title)
    if moment == "end":
        return tr.gettext(SUBJECT_STUDY_END, title=title, day=tr.date(_last_day(values)))
    return tr.gettext(SUBJECT_DAYS, title=title, day=tr.date(_first_day(values)))


def lead(values: Payload, tr: Translator) -> str:
    title = title_in(values, tr.language)
    moment = str(values["moment"])
    if moment == "start":
        return tr.gettext(STUDY_STARTS, title=title)
    if moment == "end":
        return tr.gettext(STUDY_ENDS, title=title, day=tr.date(_last_day(values)))
    days = int(moment)
    if days == 0:
        return tr.gettext(TODAY, title=title)
    if days == 1:
        return tr.gettext(TOMORROW, title=title)
    return tr.ngettext(
        "In %(num)d day: %(title)s.", "In %(num)d days: %(title)s.", days, title=title
    )


def signature(values: Payload, tr: Translator) -> list[str]:
    return [tr.gettext(REGARDS), str(values.get("organisation") or "Qualiplan")]


@renderer("reminder")
def reminder(payload: Payload, language: str) -> EmailMessage:
    tr = Translator(language if language in ("de", "en") else "de")
    trainer = payload.get("for") == "trainer"
    lines = details(payload, tr)
    text = [greeting(payload, tr), "", lead(payload, tr)]
    guest = _as_guest(payload, tr)
    if trainer:
        text.append(tr.gettext(AS_TRAINER))
    elif guest:
        text.append(guest)
    text.append("")
    text.extend(tr.gettext(label, **_field(label, value)) for label, value, _ in lines)
    if not trainer:
        text.extend(["", tr.gettext(TURN_OFF)])
    text.extend(["", *signature(payload, tr)])

    html = [
        f"<p>{escape(greeting(payload, tr))}</p>",
        f"<p><strong>{escape(lead(payload, tr))}</strong>",
    ]
    if trainer:
        html.append(f"<br>{escape(tr.gettext(AS_TRAINER))}")
    elif guest:
        html.append(f"<br>{escape(guest)}")
    html.append("</p><p>")
    html.append("<br>".join(_html_line(tr, label, value, link) for label, value, link in lines))
    html.append("</p>")
    if not trainer:
        html.append(f"<p>{escape(tr.gettext(TURN_OFF))}</p>")
    html.append("<p>" + "<br>".join(str(escape(s)) for s in signature(payload, tr)) + "</p>")

    message = EmailMessage()
    message["Subject"] = subject(payload, tr)
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(page(tr.language, "".join(html)), subtype="html")
    return message


def _as_guest(values: Payload, tr: Translator) -> str | None:
    if values.get("for") != "guest" or not values.get("own_cohort"):
        return None
    return tr.gettext(AS_GUEST, cohort=values["cohort"], own_cohort=values["own_cohort"])


def _field(label: str, value: str) -> dict[str, str]:
    name = {WHEN: "when", WHERE: "venue", ONLINE: "link", COHORT: "cohort"}[label]
    return {name: value}


def _html_line(tr: Translator, label: str, value: str, link: str | None) -> str:
    """A detail line with its value escaped (and a link as a link)."""
    marker = "\x00"
    template = str(escape(tr.gettext(label, **_field(label, marker))))
    shown = (
        Markup('<a href="{0}">{0}</a>').format(link) if link else escape(value)  # noqa: S704
    )
    return template.replace(marker, str(shown))


def page(language: str, body: str) -> str:
    """A whole HTML document around `body` (already escaped)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"</head><body>{body}</body></html>\n"
    )
