"""Calendar invitations by e-mail (iTIP, RFC 5546, sent as iMIP, RFC 6047):
"invitation" (METHOD:REQUEST: a new, changed or restored session) and
"cancellation" (METHOD:CANCEL: a cancelled session, a withdrawal, a removed
trainer).

One message per session and person: multipart/alternative with the change
in words (plain text and HTML, in the recipient's language) and a
`text/calendar; method=...` part holding one VEVENT with the session's UID,
its revision as SEQUENCE, ORGANIZER (the organisation's sender) and ATTENDEE
(the person, RSVP=FALSE: replies are not read). The calendar part is base64
so that its CRLF lines and folding reach the client byte for byte.

docs/calendar-invitations.md says why, and how invitations live beside the
subscribed feeds; wording.py writes the sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from markupsafe import Markup, escape

from app.exports.ical import CalendarEvent, Person, render_scheduling
from app.i18n import LANGUAGES, Translator
from app.notices import renderer
from app.notices.wording import (
    CANCELS,
    KEEPS_UP,
    REPLIES,
    UNINVITING,
    Payload,
    at_text,
    change_text,
    dates,
    quoted,
    subject,
    what,
)

METHODS = {"invitation": "REQUEST", "cancellation": "CANCEL"}


@renderer("invitation")
def invitation(payload: Mapping[str, Any], language: str) -> EmailMessage:
    return render_message("invitation", payload, language)


@renderer("cancellation")
def cancellation(payload: Mapping[str, Any], language: str) -> EmailMessage:
    return render_message("cancellation", payload, language)


def render_message(kind: str, payload: Payload, language: str) -> EmailMessage:
    tr = Translator(language if language in LANGUAGES else "de")
    method = METHODS[kind]
    sentence = change_text(payload, kind, tr)
    details = _details(payload, tr)
    if method == "CANCEL":
        # The session goes on for those who chose the feed: no word of cancelling.
        closing = [] if what(payload, kind) == "feed_chosen" else [tr.gettext(CANCELS)]
    else:
        closing = [
            tr.gettext(KEEPS_UP),
            tr.gettext(REPLIES, organisation=payload["organisation"]),
        ]
    attendee = payload["attendee"]
    name = attendee.get("name")
    greeting = tr.gettext("Hello %(name)s,", name=name) if name else tr.gettext("Hello,")

    message = EmailMessage()
    message["Subject"] = subject(payload, kind, tr)
    message.set_content(_plain(tr, greeting, sentence, details, closing, payload))
    message.add_alternative(_html(tr, greeting, sentence, details, closing, payload), "html")
    message.add_alternative(
        calendar(kind, payload, tr, sentence),
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"charset": "utf-8", "method": method},
    )
    return message


def calendar(kind: str, payload: Payload, tr: Translator, sentence: str) -> bytes:
    """The .ics of the message: one VEVENT for one attendee."""
    method = METHODS[kind]
    span = dates(payload, payload["timezone"])
    attendee = payload["attendee"]
    organizer = payload["organizer"]
    role = attendee.get("role") or "REQ-PARTICIPANT"
    title = payload["title"]
    lines = [sentence]
    if payload.get("link"):
        lines.append(tr.gettext("Online meeting: %(link)s", link=payload["link"]))
    if payload.get("personal_url"):
        lines.append(tr.gettext("Your personal page: %(url)s", url=payload["personal_url"]))
    if method == "REQUEST":
        lines.append(tr.gettext(REPLIES, organisation=payload["organisation"]))
    event = CalendarEvent(
        uid=payload["uid"],
        # Trainers' feeds name the cohort too; the same summary in both.
        summary=f"{title} ({payload['cohort']})" if role == "CHAIR" else title,
        start=span.start,
        end=span.end,
        sequence=int(payload["sequence"]),
        description="\n\n".join(lines),
        location=payload.get("location") or None,
        url=payload.get("link") or payload.get("personal_url") or None,
        cancelled=method == "CANCEL",
        stamp=datetime.fromisoformat(payload["stamp"]),
    )
    return render_scheduling(
        method,
        event,
        organizer=Person(organizer.get("name") or "", organizer["address"]),
        attendee=Person(attendee.get("name") or "", attendee["address"], role),
        uninvite=method == "CANCEL" and what(payload, kind) in UNINVITING,
    )


def _details(payload: Payload, tr: Translator) -> list[tuple[str, str, str | None]]:
    """(label, text, link) lines under the sentence."""
    rows: list[tuple[str, str, str | None]] = [
        (tr.gettext("Session"), payload["title"], None),
        (tr.gettext("Cohort"), quoted(payload["cohort"], tr), None),
        (tr.gettext("When and where"), at_text(payload, payload["timezone"], tr), None),
    ]
    if payload.get("link"):
        rows.append((tr.gettext("Online meeting link"), payload["link"], payload["link"]))
    if payload.get("personal_url"):
        rows.append(
            (tr.gettext("Your personal page"), payload["personal_url"], payload["personal_url"])
        )
    return rows


def _plain(
    tr: Translator,
    greeting: str,
    sentence: str,
    details: list[tuple[str, str, str | None]],
    closing: list[str],
    payload: Payload,
) -> str:
    lines = [greeting, "", sentence, ""]
    lines += [f"{label}: {text}" for label, text, _ in details]
    lines += ["", *closing, "", tr.gettext("Kind regards"), payload["organisation"], ""]
    return "\n".join(lines)


def _html(
    tr: Translator,
    greeting: str,
    sentence: str,
    details: list[tuple[str, str, str | None]],
    closing: list[str],
    payload: Payload,
) -> str:
    rows = []
    for label, text, link in details:
        shown = (
            Markup('<a href="{0}">{1}</a>').format(link, text)
            if link and link.startswith(("https://", "http://"))
            else escape(text)
        )
        rows.append(Markup("<li>{0}: {1}</li>").format(label, shown))
    body = Markup(
        '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        "<title>{subject}</title></head><body>\n"
        "<p>{greeting}</p>\n<p><strong>{sentence}</strong></p>\n<ul>{rows}</ul>\n"
        "{closing}\n<p>{regards}<br>{organisation}</p>\n</body></html>\n"
    ).format(
        lang=tr.language,
        subject=payload["title"],
        greeting=greeting,
        sentence=sentence,
        rows=Markup("").join(rows),
        closing=Markup("\n").join(Markup("<p>{0}</p>").format(text) for text in closing),
        regards=tr.gettext("Kind regards"),
        organisation=payload["organisation"],
    )
    return str(body)
