"""Messages of a cohort's waiting list (app.services.waiting_lists records
them), in the recipient's language, as plain text.

The payload: "what" ("offer": a place offered until "until", with the
one-time "link" to accept or decline it; "moved_up": a place given at once;
"expired": an offer that ran out; "carried": moved to the waiting list of
the cohort "cohort" from "previous", at "position"), the person's "status"
page link (emptied once sent, as the offer's link), "cohort", "start" (the
cohort's first day), "organisation", "timezone", "to_name", and "from" when
the organisation has a sender address of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from app.i18n import Translator
from app.notices import _l, renderer

Payload = Mapping[str, Any]


SUBJECTS = {
    "offer": _l("A place is free for you: %(cohort)s"),
    "moved_up": _l("You have a place: %(cohort)s"),
    "expired": _l("Your offer has expired: %(cohort)s"),
    "carried": _l("On the waiting list of the next cohort: %(cohort)s"),
}
LEADS = {
    "offer": _l(
        "A place has become free in the cohort %(cohort)s (starting %(day)s), "
        "and you are next on its waiting list."
    ),
    "moved_up": _l(
        "A place has become free in the cohort %(cohort)s (starting %(day)s): "
        "you moved up from the waiting list and are enrolled. "
        "Your invitations follow in separate messages."
    ),
    "expired": _l(
        "The place offered to you in the cohort %(cohort)s was not accepted in time "
        "and has gone to the next person on the waiting list."
    ),
    "carried": _l(
        "The cohort %(previous)s has begun without a place for you. "
        "You are now on the waiting list of the next cohort, %(cohort)s (starting %(day)s), "
        "keeping your place in the order."
    ),
}
UNTIL = _l("Please accept or decline the place by %(moment)s:")
POSITION = _l("Your position on the list: %(position)s")
STATUS = _l("Where your registration stands, at any time:")
HELLO = _l("Hello %(name)s,")
HELLO_NAMELESS = _l("Hello,")
REGARDS = _l("Kind regards")


@renderer("offer")
def offer(payload: Payload, language: str) -> EmailMessage:
    tr = Translator(language if language in ("de", "en") else "de")
    what = str(payload["what"])
    cohort = str(payload["cohort"])
    day = tr.date(date.fromisoformat(str(payload["start"])[:10]))
    name = payload.get("to_name")
    text = [tr.gettext(HELLO, name=name) if name else tr.gettext(HELLO_NAMELESS), ""]
    text.append(
        tr.gettext(LEADS[what], cohort=cohort, day=day, previous=payload.get("previous", ""))
    )
    if what == "offer":
        zone = ZoneInfo(str(payload.get("timezone") or "Europe/Berlin"))
        until = datetime.fromisoformat(str(payload["until"])).astimezone(zone)
        moment = f"{tr.date(until.date())} {until:%H:%M}"
        text.extend(["", tr.gettext(UNTIL, moment=moment), str(payload["link"])])
    if what == "carried" and payload.get("position"):
        text.extend(["", tr.gettext(POSITION, position=payload["position"])])
    if payload.get("status"):
        text.extend(["", tr.gettext(STATUS), str(payload["status"])])
    text.extend(["", tr.gettext(REGARDS), str(payload.get("organisation") or "Qualiplan")])
    message = EmailMessage()
    message["Subject"] = tr.gettext(SUBJECTS[what], cohort=cohort)
    message.set_content("\n".join(text) + "\n")
    return message
