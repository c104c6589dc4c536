"""The trainers' weekly digest (app.services.digest records it): their
sessions of the next two weeks and what needs them, as plain text and HTML
(every value escaped), in the trainer's language.

The payload: "from_day" and "to_day" (ISO dates), "organisation", "to_name",
and the lists "sessions", "unstaffed", "attendance" (each item also with
"open", the people whose mark is still open) and "tandems" ("cohort", "gone",
"remaining"); a session item has "title" ({"de", "en"}), "cohort", "start",
"end", "all_day", "timezone" (as app.notices.wording reads them), "venue",
"link" and "url" (its cohort's page, when the installation has a public
address).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from typing import Any

from markupsafe import Markup, escape

from app.i18n import Translator
from app.notices import _l, renderer
from app.notices.reminders import greeting, page, title_in
from app.notices.wording import dates, when_text

Payload = Mapping[str, Any]


SUBJECT = _l("Your weekly overview from %(day)s")
YOUR_SESSIONS = _l("Your sessions from %(first)s to %(last)s:")
NO_SESSIONS = _l("You have no sessions in the next two weeks.")
NEEDS_YOU = _l("What needs your attention:")
NOTHING_NEEDED = _l("Nothing needs you this week.")
UNSTAFFED = _l("Sessions without a trainer:")
ATTENDANCE = _l("Attendance still open:")
TANDEMS = _l("Tandems that lost someone:")
LOST = _l("%(cohort)s: %(gone)s withdrawn; stays in the tandem: %(remaining)s")
LOST_ALL = _l("%(cohort)s: %(gone)s withdrawn; nobody stays in the tandem")
ONLINE = _l("online: %(link)s")
REGARDS = _l("Kind regards")


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _session_line(item: Payload, tr: Translator) -> tuple[str, list[tuple[str, str | None]]]:
    """The text of a session line, and its parts for HTML (text, link)."""
    when = when_text(dates(item, item["timezone"]), tr)
    title = title_in(item, tr.language)
    parts: list[tuple[str, str | None]] = [(f"{when}: {title} – ", None)]
    parts.append((str(item["cohort"]), item.get("url")))
    if item.get("venue"):
        parts.append((f", {item['venue']}", None))
    if item.get("link"):
        parts.append((", " + tr.gettext(ONLINE, link=""), None))
        parts.append((str(item["link"]), str(item["link"])))
    if "open" in item:
        count = int(item["open"])
        words = tr.ngettext("open for %(num)d person", "open for %(num)d people", count)
        parts.append((": " + words, None))
    return "".join(text for text, _ in parts), parts


def _tandem_line(item: Payload, tr: Translator) -> tuple[str, list[tuple[str, str | None]]]:
    gone = ", ".join(item["gone"])
    if item["remaining"]:
        text = tr.gettext(
            LOST, cohort=item["cohort"], gone=gone, remaining=", ".join(item["remaining"])
        )
    else:
        text = tr.gettext(LOST_ALL, cohort=item["cohort"], gone=gone)
    return text, [(text, None)]


def _html(parts: Sequence[tuple[str, str | None]]) -> str:
    return "".join(
        str(Markup('<a href="{0}">{1}</a>').format(link, text) if link else escape(text))  # noqa: S704
        for text, link in parts
    )


@renderer("digest")
def digest(payload: Payload, language: str) -> EmailMessage:
    tr = Translator(language if language in ("de", "en") else "de")
    first, last = _day(payload["from_day"]), _day(payload["to_day"])
    text = [greeting(payload, tr), ""]
    html = [f"<p>{escape(greeting(payload, tr))}</p>"]

    def section(heading: str, lines: list[tuple[str, list[tuple[str, str | None]]]]) -> None:
        text.append(heading)
        text.extend(f"- {line}" for line, _ in lines)
        text.append("")
        items = "".join(f"<li>{_html(parts)}</li>" for _, parts in lines)
        html.append(f"<h2>{escape(heading)}</h2><ul>{items}</ul>")

    sessions = [_session_line(item, tr) for item in payload.get("sessions", [])]
    if sessions:
        section(tr.gettext(YOUR_SESSIONS, first=tr.date(first), last=tr.date(last)), sessions)
    else:
        text.extend([tr.gettext(NO_SESSIONS), ""])
        html.append(f"<p>{escape(tr.gettext(NO_SESSIONS))}</p>")

    needs = [
        (UNSTAFFED, [_session_line(item, tr) for item in payload.get("unstaffed", [])]),
        (ATTENDANCE, [_session_line(item, tr) for item in payload.get("attendance", [])]),
        (TANDEMS, [_tandem_line(item, tr) for item in payload.get("tandems", [])]),
    ]
    if any(lines for _, lines in needs):
        text.extend([tr.gettext(NEEDS_YOU), ""])
        html.append(f"<p><strong>{escape(tr.gettext(NEEDS_YOU))}</strong></p>")
        for heading, lines in needs:
            if lines:
                section(tr.gettext(heading), lines)
    else:
        text.extend([tr.gettext(NOTHING_NEEDED), ""])
        html.append(f"<p>{escape(tr.gettext(NOTHING_NEEDED))}</p>")

    signature = [tr.gettext(REGARDS), str(payload.get("organisation") or "Qualiplan")]
    text.extend(signature)
    html.append("<p>" + "<br>".join(str(escape(s)) for s in signature) + "</p>")

    message = EmailMessage()
    message["Subject"] = tr.gettext(SUBJECT, day=tr.date(first))
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(page(tr.language, "".join(html)), subtype="html")
    return message
