"""Accounts: creating staff users and checking their logins."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Organisation, Role, User
from app.models.users import new_session_token
from app.services.errors import InvalidInput
from curricula.messages import Message, msg

MIN_PASSWORD_LENGTH = 12
# Checked against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH = generate_password_hash("qualiplan-timing-equaliser", method="scrypt")


class AccountError(InvalidInput):
    """An account cannot be created."""

    code = "account_refused"


@dataclass(frozen=True)
class LoginPolicy:
    attempts: int
    lock: timedelta


@dataclass(frozen=True)
class Login:
    """How a login attempt went: the user, or why not. A refused login is an
    outcome to keep, not an error to roll back: the failed attempt counts
    towards locking the account."""

    user: User | None
    refusal: Message | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    email: str,
    name: str,
    role: Role,
    password: str,
    organisations: list[Organisation],
) -> User:
    address = normalise_email(email)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise AccountError(
            msg("'{email}' is not an e-mail address", email=email), code="invalid_email"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            msg("the password needs at least {count} characters", count=MIN_PASSWORD_LENGTH),
            code="password_too_short",
        )
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError(
            msg("an account for {email} exists already", email=address), code="email_taken"
        )
    user = User(email=address, name=name.strip() or address, role=role)
    user.set_password(password)
    user.organisations = list(organisations)
    db.session.add(user)
    return user


def log_in(email: str, password: str, now: datetime, policy: LoginPolicy) -> Login:
    """Check a login. Repeated failures lock the account for a while; the
    failed attempt is counted on the user row, for the commit point to keep."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return Login(None, msg("e-mail address or password is wrong"))
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, round((user.locked_until - now).total_seconds() / 60))
        return Login(
            None, msg("too many failed attempts; try again in {minutes} minutes", minutes=minutes)
        )
    if not user.check_password(password) or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= policy.attempts:
            user.locked_until = now + policy.lock
            user.failed_logins = 0
        return Login(None, msg("e-mail address or password is wrong"))
    user.failed_logins = 0
    user.locked_until = None
    return Login(user)


def session_user(identifier: str) -> User | None:
    """The user a login session's id ("<user id>:<session token>") belongs
    to, while the account is active and the session not ended."""
    user_id, _, token = identifier.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Every login session of `user` ends, on every device."""
    user.session_token = new_session_token()
