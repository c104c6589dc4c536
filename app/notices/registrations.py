"""Messages of registering for a cohort (app.services.registrations records
them), in the recipient's language, as plain text.

The payload: "what" — to the employee: "confirm" (confirm the address by
the one-time link), "invitation" (HR invites them; the link opens the form,
filled in), "already" (registered or enrolled already), "manager_confirmed",
"manager_declined" (with "reason"), "accepted", "waiting" (on the waiting
list, at "position"), "declined" (with HR's "reason"), and after the person
withdrew on their status page "withdrawn" (the application), "left_list"
(the waiting list) or "left_cohort" (the enrolment); to the manager:
"manager" (confirm or refuse for "employee" by "until"). "link" holds the
links ("confirm" and "status" for the employee, the status link in every
message to them; a text for the manager), emptied once sent. Besides:
"cohort", "start", "organisation", "timezone", "to_name", and "from" when
the organisation has a sender of its own.
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
    "confirm": _l("Please confirm your registration: %(cohort)s"),
    "invitation": _l("You are invited to the qualification: %(cohort)s"),
    "already": _l("Your registration: %(cohort)s"),
    "manager": _l("Please confirm the time for %(employee)s: %(cohort)s"),
    "manager_confirmed": _l("Your manager has confirmed: %(cohort)s"),
    "manager_declined": _l("Your manager has not confirmed: %(cohort)s"),
    "accepted": _l("Accepted: %(cohort)s"),
    "waiting": _l("On the waiting list: %(cohort)s"),
    "declined": _l("Your registration was declined: %(cohort)s"),
    "withdrawn": _l("Registration withdrawn: %(cohort)s"),
    "left_list": _l("You have left the waiting list: %(cohort)s"),
    "left_cohort": _l("Withdrawn from the cohort: %(cohort)s"),
}
LEADS = {
    "confirm": _l(
        "thank you for registering for the cohort %(cohort)s (starting %(day)s). "
        "Please confirm your e-mail address with this link:"
    ),
    "invitation": _l(
        "%(organisation)s invites you to become a learning companion in the cohort "
        "%(cohort)s (starting %(day)s). To register, please open this link; "
        "the form is filled in already:"
    ),
    "already": _l(
        "you are registered for the cohort %(cohort)s (starting %(day)s) already; "
        "nothing more is needed."
    ),
    "manager": _l(
        "%(employee)s has registered for the qualification as a learning companion, "
        "cohort %(cohort)s (starting %(day)s). The role needs time granted by you: "
        "at least two hours a week, at most half of the working time. "
        "Please confirm the time you grant, or refuse, by %(moment)s with this link:"
    ),
    "manager_confirmed": _l(
        "your manager has confirmed your registration for the cohort %(cohort)s. "
        "HR decides next; you will hear from us."
    ),
    "manager_declined": _l(
        "your manager has not confirmed your registration for the cohort %(cohort)s."
    ),
    "accepted": _l(
        "your registration has been accepted: you are in the cohort %(cohort)s "
        "(starting %(day)s). Your invitations follow in separate messages."
    ),
    "waiting": _l(
        "your registration has been accepted, but the cohort %(cohort)s is full: "
        "you are on its waiting list, position %(position)s. When a place becomes free, "
        "we will write to you."
    ),
    "declined": _l("your registration for the cohort %(cohort)s has been declined."),
    "withdrawn": _l(
        "as you asked, your registration for the cohort %(cohort)s (starting %(day)s) "
        "is withdrawn; HR will not decide on it any more. You can register again on "
        "your organisation's registration page at any time."
    ),
    "left_list": _l(
        "as you asked, you have left the waiting list of the cohort %(cohort)s "
        "(starting %(day)s); your registration has ended. You can register again on "
        "your organisation's registration page at any time."
    ),
    "left_cohort": _l(
        "as you asked, you are withdrawn from the cohort %(cohort)s (starting %(day)s); "
        "your place is free for someone else. The sessions still to come are cancelled "
        "for you in separate messages."
    ),
}
STATUS = _l("Where your registration stands, at any time:")
REASON = _l("The reason given: %(reason)s")
ONCE = _l("The link works once.")
NOT_YOU = _l(
    "The confirmation link works once. If you did not register, please ignore this message."
)
HELLO = _l("Hello %(name)s,")
HELLO_NAMELESS = _l("Hello,")
REGARDS = _l("Kind regards")


@renderer("registration")
def registration(payload: Payload, language: str) -> EmailMessage:
    tr = Translator(language if language in ("de", "en") else "de")
    what = str(payload["what"])
    cohort = str(payload["cohort"])
    day = tr.date(date.fromisoformat(str(payload["start"])[:10]))
    name = payload.get("to_name")
    values = {
        "cohort": cohort,
        "day": day,
        "organisation": str(payload.get("organisation") or ""),
        "employee": str(payload.get("employee") or ""),
        "position": payload.get("position") or "",
        "moment": _moment(tr, payload),
    }
    text = [tr.gettext(HELLO, name=name) if name else tr.gettext(HELLO_NAMELESS), ""]
    lead = tr.gettext(LEADS[what], **values)
    # After "Hallo …," German goes on in lower case; English begins anew.
    text.append(lead if tr.language == "de" else lead[:1].upper() + lead[1:])
    links = payload.get("link")
    if what == "manager" and links:
        text.extend(["", str(links), "", tr.gettext(ONCE)])
    elif isinstance(links, Mapping):
        if links.get("confirm"):
            text.extend(["", str(links["confirm"])])
        if links.get("status"):
            text.extend(["", tr.gettext(STATUS), str(links["status"])])
        if what == "confirm":
            text.extend(["", tr.gettext(NOT_YOU)])
    if payload.get("reason"):
        text.extend(["", tr.gettext(REASON, reason=str(payload["reason"]))])
    text.extend(["", tr.gettext(REGARDS), str(payload.get("organisation") or "Qualiplan")])
    message = EmailMessage()
    message["Subject"] = tr.gettext(SUBJECTS[what], **values)
    message.set_content("\n".join(text) + "\n")
    return message


def _moment(tr: Translator, payload: Payload) -> str:
    if not payload.get("until"):
        return ""
    zone = ZoneInfo(str(payload.get("timezone") or "Europe/Berlin"))
    until = datetime.fromisoformat(str(payload["until"])).astimezone(zone)
    return f"{tr.date(until.date())} {until:%H:%M}"
