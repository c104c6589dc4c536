"""Accounts: creating staff users and checking their logins."""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Organisation, Role, User
from app.models.users import new_session_token, password_method
from app.services.errors import InvalidInput
from curricula.messages import Message, msg

MIN_PASSWORD_LENGTH = 12
# One answer for every refused login, so that it tells nothing about the
# account: unknown, wrong password, paused or deactivated.
REFUSED = msg(
    "e-mail address or password is wrong, or logging in is paused for a few minutes "
    "after several failed attempts"
)


class AccountError(InvalidInput):
    """An account cannot be created."""

    code = "account_refused"


@dataclass(frozen=True)
class LoginPolicy:
    """After `attempts` failures in a row, the account pauses for unknown
    browsers: `first_lock`, doubled with each further failure, at most
    `longest_lock`."""

    attempts: int
    first_lock: timedelta
    longest_lock: timedelta

    def lock_after(self, failures: int) -> timedelta | None:
        beyond = failures - self.attempts
        if beyond < 0:
            return None
        return min(self.longest_lock, self.first_lock * 2 ** min(beyond, 20))


@dataclass(frozen=True)
class Login:
    """How a login attempt went: the user, or why not. A refused login is an
    outcome to keep, not an error to roll back: the failed attempt counts
    towards pausing the account. `from_known_browser` says that it was
    checked as the account's own browser, whose failures the door counts."""

    user: User | None
    refusal: Message | None = None
    from_known_browser: bool = False


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


def log_in(
    email: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    known_browser_of: int | None = None,
) -> Login:
    """Check a login. `known_browser_of` is the user id a browser proved it
    logged in as before (a signed cookie, app.login_devices), if any.

    An outsider who knows an address must not be able to keep its owner out
    (OWASP Authentication Cheat Sheet, "account lockout"; its device-cookie
    scheme). So failures in a row from browsers the account does not know
    pause the account for such browsers only, briefly at first and longer
    with each further failure (first_lock doubled, at most longest_lock);
    attempts during a pause are not counted. The account's own browsers
    still get in with the right password; their failures are counted per
    browser by the door, which treats a browser over its budget as unknown.
    A login during a pause leaves the pause standing, so a guesser gains no
    fresh attempts from the owner logging in.

    Every path checks exactly one password hash (a stand-in for an unknown
    address) and refuses with the same message."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_stand_in_hash(password_method()), password)
        return Login(None, REFUSED)
    correct = user.check_password(password)
    if not user.active:
        return Login(None, REFUSED)
    paused = user.locked_until is not None and user.locked_until > now
    if known_browser_of == user.id:
        if not correct:
            return Login(None, REFUSED, from_known_browser=True)
    elif paused:
        return Login(None, REFUSED)
    elif not correct:
        user.failed_logins += 1
        lock = policy.lock_after(user.failed_logins)
        if lock is not None:
            user.locked_until = now + lock
        return Login(None, REFUSED)
    if not paused:
        user.failed_logins = 0
        user.locked_until = None
    return Login(user)


@functools.cache
def _stand_in_hash(method: str) -> str:
    """Checked against when the address is unknown, at the cost of a real one."""
    return generate_password_hash("qualiplan-timing-equaliser", method=method)


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
