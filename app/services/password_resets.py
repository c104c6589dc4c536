"""Password reset links an admin gives a staff member: a random token, only
its hash stored on the account, valid for a while and for one use. A new
link replaces the earlier one. Sent by e-mail where the mail path exists,
or shown to the admin once to pass on personally (as personal links are)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from sqlalchemy import select

from app import mail
from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from app.models import User
from app.models.tokens import new_token, token_hash
from app.services import accounts
from app.services.errors import DomainError, InvalidInput
from app.services.policy import Actor
from curricula.messages import msg


class ResetLinkNotSent(DomainError):
    """The mail server did not take the message: no new link exists, an
    earlier one keeps working."""

    code = "mail_not_sent"


def issue(actor: Actor, user_id: int, now: datetime, valid: timedelta) -> tuple[User, str]:
    """A new reset link's token for the account, returned once."""
    user = _resettable(actor, user_id)
    token = new_token()
    _store(actor, user, token, now, valid)
    return user, token


def send(
    actor: Actor,
    user_id: int,
    now: datetime,
    valid: timedelta,
    link_for: Callable[[str], str],
    *,
    invitation: bool = False,
) -> User:
    """E-mails the account a new reset link, in the account's language;
    stored only once the mail server took the message, so a failed mail
    changes nothing. An `invitation` is the first such link of a new
    account, worded as a welcome."""
    user = _resettable(actor, user_id)
    tr = Translator(user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE)
    token = new_token()
    hours = int(valid.total_seconds() // 3600)
    message = EmailMessage()
    message["From"] = mail.sender()
    message["To"] = formataddr((user.name, user.email))
    message["Message-ID"] = make_msgid(domain="qualiplan")
    if invitation:
        message["Subject"] = tr.gettext("Your Qualiplan account")
        text = tr.gettext(
            "Hello %(name)s,\n\n"
            "an administrator has made you an account in Qualiplan. Set your password "
            "with this link; it works once, for %(hours)s hours:\n\n%(link)s\n\n"
            "Afterwards you log in with your e-mail address and that password.\n",
            name=user.name,
            hours=hours,
            link=link_for(token),
        )
    else:
        message["Subject"] = tr.gettext("Set a new Qualiplan password")
        text = tr.gettext(
            "Hello %(name)s,\n\n"
            "an administrator has sent you a link to set a new password for Qualiplan. "
            "It works once, for %(hours)s hours:\n\n%(link)s\n\n"
            "If you did not expect it, you can ignore this message; your password stays "
            "as it is.\n",
            name=user.name,
            hours=hours,
            link=link_for(token),
        )
    message.set_content(text)
    try:
        mail.send(message)
    except mail.MailNotSent as error:
        raise ResetLinkNotSent(error.message) from None
    _store(actor, user, token, now, valid)
    return user


def holder(token: str, now: datetime) -> User | None:
    """The active account a reset link still works for, else None."""
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(select(User).where(User.reset_token_hash == token_hash(token)))
    if user is None or not user.active or user.reset_expires_at is None:
        return None
    return user if user.reset_expires_at > now else None


def use(token: str, password: str, now: datetime) -> User | None:
    """Sets the account's new password through its link, which then stops
    working; None when the link does not work (any more)."""
    user = holder(token, now)
    if user is None:
        return None
    accounts.check_new_password(password, field="new_password")
    accounts.set_password(user, password)
    return user


def _resettable(actor: Actor, user_id: int) -> User:
    user = accounts.managed(actor, user_id)
    if not user.active:
        raise InvalidInput(
            msg("the account is deactivated; reactivate it first"),
            code="account_inactive",
        )
    return user


def _store(actor: Actor, user: User, token: str, now: datetime, valid: timedelta) -> None:
    user.reset_token_hash = token_hash(token)
    user.reset_expires_at = now + valid
    valid_until = (now + valid).isoformat(timespec="minutes")
    accounts.record_change(actor, user, "password_reset_link", {"valid_until": valid_until})
    db.session.flush()
