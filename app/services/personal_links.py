"""A participant's personal link: create it, send it by e-mail with the
schedule attached, or end the person's access altogether.

A new link works at once; the one it replaces keeps working for
KEEPS_WORKING beside it (the e-mail may wait in the queue, or the person
may be away), and its page says until when. Ending access ends both at
once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select

from app import mail
from app.extensions import db
from app.i18n import Translator
from app.models import (
    AccessToken,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Purpose,
)
from app.models.tokens import new_token
from app.services import history, policy, tokens
from app.services.calendars import PAGES, participant_feed, render
from app.services.errors import DomainError
from app.services.policy import Action, Actor
from curricula.messages import Message


class LinkNotSent(DomainError):
    """The mail server did not take the message: the link was not sent, and
    the earlier link keeps working."""

    code = "mail_not_sent"


# How long a replaced personal link keeps working beside the new one.
KEEPS_WORKING: timedelta = tokens.REPLACED_KEEPS_WORKING[Purpose.PERSONAL_PAGE]


@dataclass(frozen=True)
class Access:
    """The secret links a participant holds today: `replaced` is the link
    the page link replaced while it still works (until its revoked_at)."""

    page: AccessToken | None
    feed: AccessToken | None
    replaced: AccessToken | None = None


@dataclass(frozen=True)
class Opened:
    """Whose page a personal link opens; `works_until` when a newer link
    replaced it and it stops working then."""

    participant: Participant
    works_until: datetime | None


def opened(token: str) -> Opened | None:
    """The page a personal link opens; None when it does not (never issued,
    replaced longer ago than KEEPS_WORKING, or ended)."""
    record = tokens.resolve(token, PAGES)
    if record is None:
        return None
    participant = db.session.get(Participant, record.subject_id)
    if participant is None:
        return None
    return Opened(participant, record.revoked_at)


@dataclass(frozen=True)
class Sending:
    """How sending a cohort's links went: `failure` says why it stopped early."""

    sent: int
    total: int
    failure: Message | None


def access_of(participant: Participant) -> Access:
    return Access(
        page=tokens.current(Purpose.PERSONAL_PAGE, participant.id),
        feed=tokens.current(Purpose.PARTICIPANT_FEED, participant.id),
        replaced=tokens.replaced(Purpose.PERSONAL_PAGE, participant.id),
    )


def create_link(actor: Actor, participant_id: int) -> tuple[Participant, str]:
    """A new personal-page token, returned once; the earlier link keeps
    working for KEEPS_WORKING, a calendar subscription keeps working."""
    person = _person(actor, participant_id)
    token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, person.organisation_id, actor.user)
    return person, token


def send_link(
    actor: Actor,
    participant_id: int,
    tr: Translator,
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> Participant:
    """E-mail the participant a new personal link and their schedule as .ics;
    the old link keeps working for KEEPS_WORKING. When the mail server does
    not take the message, LinkNotSent: nothing changes."""
    person = _person(actor, participant_id)
    try:
        _send(person, actor, tr, link_for, keep_cancelled)
    except mail.MailNotSent as error:
        raise LinkNotSent(error.message) from None
    return person


def send_links(
    actor: Actor,
    cohort_id: int,
    tr: Translator,
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> Sending:
    """Everyone enrolled in the cohort gets a new link, in alphabetical order.
    A mail that cannot be sent stops the round: the links already sent are
    kept (those people have them in their inbox), nobody after gets one."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.SHARE_LINKS, cohort.organisation_id)
    people = db.session.scalars(
        select(Participant)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    sent = 0
    for person in people:
        try:
            _send(person, actor, tr, link_for, keep_cancelled)
        except mail.MailNotSent as error:
            return Sending(sent, len(people), error.message)
        sent += 1
    return Sending(sent, len(people), None)


def end_access(actor: Actor, participant_id: int) -> list[Purpose]:
    """Every secret link the person holds stops working at once: their
    personal page (a replaced one still working too) and their calendar
    subscription. The kinds that were active."""
    person = _person(actor, participant_id)
    ended = tokens.revoke_all("participant", person.id)
    if ended:
        history.record(
            user=actor.user,
            organisation_id=person.organisation_id,
            subject="participant",
            subject_id=person.id,
            action="access_ended",
            after={"ended": [p.value for p in ended]},
        )
    return ended


def _person(actor: Actor, participant_id: int) -> Participant:
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.SHARE_LINKS, person.organisation_id)
    return person


def _send(
    participant: Participant,
    actor: Actor,
    tr: Translator,
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> None:
    """Sends first and stores the new link only once the mail server took
    the message, so a failed mail leaves the person's links as they were."""
    token = new_token()
    link = link_for(token)
    feed = participant_feed(participant, tr, datetime.now(UTC), keep_cancelled)
    calendar = render(feed, tr, refresh=False, stamp=datetime.now(UTC))
    message = EmailMessage()
    message["From"] = mail.sender()
    message["To"] = formataddr((participant.name, participant.email))
    message["Subject"] = tr.gettext("Your schedule for the learning companion programme")
    message["Message-ID"] = make_msgid(domain="qualiplan")
    message.set_content(
        tr.gettext(
            "Hello %(name)s,\n\n"
            "your personal page shows your sessions, lets you add them to your calendar "
            "and keeps them up to date:\n\n%(link)s\n\n"
            "The attached file holds the sessions as they are planned today; open it to "
            "add them to your calendar once. Please keep the link to yourself.\n",
            name=participant.first_name,
            link=link,
        )
    )
    # The MIME method must equal the calendar's METHOD, or Outlook rejects it.
    message.add_attachment(
        calendar.content.decode("utf-8"),
        subtype="calendar",
        filename=calendar.filename,
        params={"method": "PUBLISH"},
    )
    mail.send(message)
    tokens.issue(
        Purpose.PERSONAL_PAGE,
        participant.id,
        participant.organisation_id,
        actor.user,
        token=token,
    )
    db.session.flush()
