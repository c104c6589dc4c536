"""Accounts: creating staff users, checking their logins, their own
password changes, and the admin's deactivating and reactivating."""

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
from app.services import history, policy, tokens
from app.services.errors import InvalidInput, NotFound, NotPermitted
from app.services.policy import Action, Actor
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
    check_new_password(password)
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError(
            msg("an account for {email} exists already", email=address), code="email_taken"
        )
    user = User(email=address, name=name.strip() or address, role=role)
    user.set_password(password)
    user.organisations = list(organisations)
    db.session.add(user)
    return user


def check_new_password(password: str, field: str | None = None) -> None:
    """The rule every new password meets, wherever it is set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            msg("the password needs at least {count} characters", count=MIN_PASSWORD_LENGTH),
            code="password_too_short",
            field=field,
        )


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


class WrongPassword(InvalidInput):
    """The current password, asked for before changing it, is not the right one."""

    code = "wrong_password"


def change_own_password(actor: Actor, current: str, new: str) -> User:
    """The logged-in user sets a new password, proving the current one (a
    session left open on a shared computer is not enough). Every other
    session of the account ends; the door renews its own."""
    user = actor.user
    if user is None:
        raise NotPermitted()
    if not user.check_password(current):
        raise WrongPassword(msg("the current password is wrong"), field="current_password")
    check_new_password(new, field="new_password")
    set_password(user, new)
    return user


def set_password(user: User, password: str) -> None:
    """A new password ends every session and any reset link, and forgets
    failed attempts (the person has just proved who they are)."""
    user.set_password(password)
    end_all_sessions(user)
    user.reset_token_hash = None
    user.reset_expires_at = None
    user.failed_logins = 0
    user.locked_until = None


# Administration: the accounts of the admin's organisations.


def may_manage(actor: Actor, user: User) -> bool:
    """An admin manages an account when every organisation of it is one of
    theirs: nobody shuts someone out of an organisation they do not run.
    Accounts of no organisation are the command line's."""
    if actor.organisation_ids is None:
        return True
    return bool(user.organisation_ids) and user.organisation_ids <= actor.organisation_ids


def managed(actor: Actor, user_id: int) -> User:
    """The account if the actor may see it (else NotFound), and may manage it
    (else NotPermitted)."""
    user = db.session.get(User, user_id)
    if user is None or not may_manage(actor, user):
        raise NotFound()
    policy.require(actor, Action.MANAGE_ACCOUNTS)
    return user


def accounts_of(actor: Actor) -> list[User]:
    policy.require(actor, Action.MANAGE_ACCOUNTS)
    users = db.session.scalars(select(User).order_by(User.name, User.email)).all()
    return [u for u in users if may_manage(actor, u)]


def deactivate(actor: Actor, user_id: int) -> User:
    """The account stops working at once: its sessions on every device, its
    API tokens and its calendar feed end, a reset link in flight too; a new
    login is refused like a wrong password. Nothing of its history goes."""
    user = managed(actor, user_id)
    if actor.user is not None and actor.user.id == user.id:
        raise InvalidInput(msg("you cannot deactivate your own account"), code="own_account")
    if not user.active:
        return user
    user.active = False
    end_all_sessions(user)
    ended = tokens.revoke_all("user", user.id)
    user.reset_token_hash = None
    user.reset_expires_at = None
    record_change(actor, user, "account_deactivated", {"ended": [p.value for p in ended]})
    return user


def reactivate(actor: Actor, user_id: int) -> User:
    """The account can log in again with its password. Tokens and feeds it
    held stay ended: the person makes new ones."""
    user = managed(actor, user_id)
    if user.active:
        return user
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    record_change(actor, user, "account_reactivated", None)
    return user


def record_change(actor: Actor, user: User, action: str, after: dict[str, object] | None) -> None:
    """In the history of each organisation the account belongs to."""
    for organisation_id in sorted(user.organisation_ids):
        history.record(
            user=actor.user,
            organisation_id=organisation_id,
            subject="user",
            subject_id=user.id,
            action=action,
            after=after,
        )
