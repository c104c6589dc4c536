"""A participant's personal link: create it, send it by e-mail with the
schedule attached, or switch it off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from app import mail
from app.extensions import db
from app.i18n import Translator
from app.models import Participant, Purpose, User
from app.services import tokens
from app.services.calendars import participant_feed, render


def create_link(participant: Participant, actor: User | None) -> str:
    """A new personal-page token; the earlier link stops working."""
    return tokens.issue(Purpose.PERSONAL_PAGE, participant.id, participant.organisation_id, actor)


def send_link(
    participant: Participant,
    actor: User | None,
    tr: Translator,
    link_for: Callable[[str], str],
    keep_cancelled: timedelta,
) -> None:
    """E-mail `participant` a new personal link and their schedule as .ics.
    Commits when the mail server took the message; otherwise nothing changes
    and the old link keeps working."""
    token = create_link(participant, actor)
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
    try:
        mail.send(message)
    except mail.MailNotSent:
        db.session.rollback()
        raise
    db.session.commit()
