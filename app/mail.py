"""Sending e-mail through the SMTP server named in the environment.

MAIL_SERVER, MAIL_PORT (587), MAIL_USERNAME, MAIL_PASSWORD, MAIL_STARTTLS
(1 = yes, the default when a user name is set) and MAIL_FROM.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from flask import current_app

from curricula.messages import MessageError, msg


class MailNotSent(MessageError):
    """No SMTP server is configured, or it refused the message."""


class NotSetUp(Exception):
    """MAIL_SERVER is empty: there is nobody to hand messages to."""


def sender() -> str:
    return current_app.config["MAIL_FROM"]


@contextmanager
def connected() -> Iterator[smtplib.SMTP]:
    """One logged-in connection to the mail server, for a batch of messages.
    Raises NotSetUp, OSError or smtplib's errors; the caller decides what
    each means for its messages."""
    config = current_app.config
    host = config.get("MAIL_SERVER")
    if not host:
        raise NotSetUp()
    with smtplib.SMTP(host, int(config["MAIL_PORT"]), timeout=20) as smtp:
        if config["MAIL_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        yield smtp


def send(message: EmailMessage) -> None:
    """Sends one message now, inside the caller's request."""
    try:
        with connected() as smtp:
            smtp.send_message(message)
    except NotSetUp:
        raise MailNotSent(
            msg("e-mail is not set up on this server; ask whoever runs the server to set it up")
        ) from None
    except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as error:
        # The reason is for whoever runs the server, not for the person who clicked.
        current_app.logger.warning("The mail server did not take a message: %r", error)
        raise MailNotSent(
            msg(
                "the mail server did not accept the message; try again later, "
                "and if it keeps failing, ask whoever runs the server"
            )
        ) from None
