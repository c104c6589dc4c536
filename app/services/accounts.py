"""Accounts: creating and inviting staff users, checking their logins,
their own password changes, and the admin's changing of role and
organisations, deactivating and reactivating."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Organisation, Role, User
from app.models.users import memberships, new_session_token, password_method
from app.services import history, policy, tokens
from app.services.errors import DomainError, InvalidInput, NotFound, NotPermitted, StaleEdit
from app.services.organisations import refuse_all
from app.services.policy import Action, Actor
from app.services.text import NotOneLine, line_problem, one_line
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
    problem = _address_problem(email, address)
    if problem is not None and problem.code == "invalid_email":
        raise problem
    check_new_password(password)
    if problem is not None:
        raise problem
    user = User(email=address, name=name.strip() or address, role=role)
    user.set_password(password)
    user.organisations = list(organisations)
    db.session.add(user)
    return user


def _address_problem(typed: str, address: str) -> AccountError | None:
    """Why `address` (as normalised from `typed`) cannot be a new account's."""
    # A control character is never part of an address (PostgreSQL would not
    # even compare one).
    unusable = "@" not in address or address.startswith("@") or address.endswith("@")
    if unusable or line_problem(address) is not None:
        return AccountError(
            msg("'{email}' is not an e-mail address", email=typed),
            code="invalid_email",
            field="email",
        )
    if len(address) > User.__table__.c.email.type.length:
        return AccountError(
            msg(
                "the e-mail address is longer than {count} characters",
                count=User.__table__.c.email.type.length,
            ),
            code="too_long",
            field="email",
        )
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        return AccountError(
            msg("an account for {email} exists already", email=address),
            code="email_taken",
            field="email",
        )
    return None


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
    # Each row shows the account's organisations, and they decide who sees it.
    users = db.session.scalars(
        select(User).options(selectinload(User.organisations)).order_by(User.name, User.email)
    ).all()
    return [u for u in users if may_manage(actor, u)]


def deactivatable(actor: Actor, user_id: int) -> User:
    """The account if the actor may deactivate it: one they manage, not
    their own (the question before deactivating asks this too)."""
    user = managed(actor, user_id)
    if actor.user is not None and actor.user.id == user.id:
        raise InvalidInput(msg("you cannot deactivate your own account"), code="own_account")
    return user


def deactivate(actor: Actor, user_id: int) -> User:
    """The account stops working at once: its sessions on every device, its
    API tokens and its calendar feed end, a reset link in flight too; a new
    login is refused like a wrong password. Nothing of its history goes."""
    user = deactivatable(actor, user_id)
    if not user.active:
        return user
    # The command line may (a stolen admin account is shut at once): its
    # operator can always make a new admin, the pages could not.
    orphaned = _last_admin_of(user, user.organisation_ids) if actor.user is not None else []
    if orphaned:
        raise _no_admin_left(orphaned, "active")
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


# The admin's settings of an account: invitation, role and organisations.


@dataclass(frozen=True)
class AccountWish:
    """An account as the admin's form describes it."""

    name: str
    email: str
    role: str
    organisation_ids: frozenset[int]


def invite(actor: Actor, wish: AccountWish) -> User:
    """A new account with no password anyone knows: the invited person sets
    their own through a link (app.services.password_resets), so no admin
    ever knows it. Every field is checked before anything is kept."""
    policy.require(actor, Action.MANAGE_ACCOUNTS)
    problems: list[DomainError] = []
    name = ""
    try:
        name = one_line(wish.name, "name", msg("name"))
    except NotOneLine as error:
        problems.append(error)
    else:
        if not name:
            problems.append(
                InvalidInput(msg("the person needs a name"), code="empty_name", field="name")
            )
        elif len(name) > User.__table__.c.name.type.length:
            longest = User.__table__.c.name.type.length
            too_long = msg("is longer than {count} characters", count=longest)
            problems.append(InvalidInput(too_long, code="too_long", field="name"))
    address = normalise_email(wish.email)
    address_problem = _address_problem(wish.email, address)
    if address_problem is not None:
        problems.append(address_problem)
    problems.extend(_role_problems(wish.role))
    organisations, organisation_problems = _organisations(actor, wish.organisation_ids)
    refuse_all([*problems, *organisation_problems])
    role = Role(wish.role)
    user = User(email=address, name=name, role=role)
    user.set_password(secrets.token_urlsafe(32))
    user.organisations = organisations
    db.session.add(user)
    db.session.flush()
    record_change(actor, user, "account_invited", {"role": role.value})
    return user


def account_version(user: User) -> str:
    """What an edit of the account began from: its role, organisations and
    whether it is active. A form sends it back, so that a change someone
    saved in the meantime is not silently undone."""
    state = f"{user.role.value}|{int(user.active)}|{sorted(user.organisation_ids)}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def change_account(
    actor: Actor, user_id: int, role: str, organisation_ids: Iterable[int], version: str
) -> User:
    """A new role and new organisations, both checked at once. No
    organisation loses its last active admin this way (an admin demoting
    themself needs another admin there first)."""
    user = managed(actor, user_id)
    # Bytes: compare_digest refuses str with non-ASCII characters, which a form may post.
    if not hmac.compare_digest(account_version(user).encode(), (version or "").encode()):
        raise StaleEdit()
    problems = _role_problems(role)
    organisations, organisation_problems = _organisations(actor, frozenset(organisation_ids))
    problems.extend(organisation_problems)
    if not problems:
        stays_admin = Role(role) is Role.ADMIN
        kept = {o.id for o in organisations} if stays_admin else set()
        orphaned = _last_admin_of(user, user.organisation_ids - kept)
        if orphaned:
            problems.append(_no_admin_left(orphaned, "organisations" if stays_admin else "role"))
    refuse_all(problems)
    new_role = Role(role)
    before = {"role": user.role.value, "organisations": sorted(user.organisation_ids)}
    user.role = new_role
    user.organisations = organisations
    after = {"role": new_role.value, "organisations": sorted(o.id for o in organisations)}
    if after != before:
        # Each organisation the account was or is in sees the change.
        for organisation_id in sorted(set(before["organisations"]) | set(after["organisations"])):
            history.record(
                user=actor.user,
                organisation_id=organisation_id,
                subject="user",
                subject_id=user.id,
                action="account_changed",
                before=before,
                after=after,
            )
    return user


def _role_problems(value: str) -> list[DomainError]:
    if value in {r.value for r in Role}:
        return []
    unknown = msg("'{value}' is not a role", value=value)
    return [InvalidInput(unknown, code="unknown_role", field="role")]


def _organisations(
    actor: Actor, ids: frozenset[int]
) -> tuple[list[Organisation], list[DomainError]]:
    """The chosen organisations, each one the actor keeps; at least one."""
    if not ids:
        none = msg("choose at least one organisation")
        return [], [InvalidInput(none, code="no_organisation", field="organisations")]
    found = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(sorted(ids))).order_by(Organisation.name)
    ).all()
    if len(found) != len(ids) or not all(actor.belongs_to(o.id) for o in found):
        unknown = msg("one of the chosen organisations is not one of yours")
        return [], [InvalidInput(unknown, code="unknown_organisation", field="organisations")]
    return list(found), []


def _last_admin_of(user: User, losing: set[int]) -> list[Organisation]:
    """The organisations among `losing` where `user` is the last active
    admin. The other admins' rows are locked until the commit, so that two
    admins demoting each other at the same moment cannot both succeed."""
    if not user.active or user.role is not Role.ADMIN or not losing:
        return []
    others = db.session.execute(
        select(memberships.c.organisation_id)
        .join(User, User.id == memberships.c.user_id)
        .where(
            memberships.c.organisation_id.in_(sorted(losing)),
            User.id != user.id,
            User.role == Role.ADMIN,
            User.active.is_(True),
        )
        .with_for_update(of=User)
    ).scalars()
    covered = set(others)
    return [o for o in user.organisations if o.id in losing and o.id not in covered]


def _no_admin_left(organisations: list[Organisation], field: str) -> InvalidInput:
    return InvalidInput(
        msg(
            "{organisations} would have no administrator left; make someone else an "
            "administrator there first",
            organisations=[o.name for o in organisations],
        ),
        code="last_admin",
        field=field,
    )
