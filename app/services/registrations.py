"""Registration with approval (issue 17): from an employee's interest to a
place in a cohort, without an account.

The way: the organisation's registration page (an address with a random
secret, of which only the hash is stored, that HR renews when it has spread
too far) lists the upcoming cohorts open for registration. The employee
registers, or answers an invitation HR sent to someone it picked; confirms
their e-mail address by a one-time link; their manager confirms by a
one-time link, granting a weekly time for the role (unless the organisation
switched that step off); HR accepts (the enrolment's rules and warnings are
app.services.enrolments'; a full cohort with a waiting list puts the person
on it, app.services.waiting_lists) or declines with a reason.

The person sees every step on their status page (a link of its own, in
every message to them, renewed by each), where they can also withdraw;
each step is kept in the history (subject "registration", the person's id,
as for enrolments) and told by e-mail through the outbox (kind
"registration", app.notices.registrations). The states and their
moves are the model's (app.models.registrations); this module loads,
checks and carries them out.

Nobody learns from the public page whether someone is known: registering
an address answers the same whether it belongs to a person on record, to
one registered already, or to nobody; what differs goes to that address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Session,
    SessionStatus,
    User,
)
from app.models.registrations import (
    ON_LIST,
    PENDING,
    WEEKLY_MINUTES,
    InvalidRegistrationMove,
    Registration,
    RegistrationState,
)
from app.models.tokens import new_token, token_hash
from app.public_url import external_url
from app.services import enrolments, history, notifications, participants, policy, waiting_lists
from app.services.enrolments import EnrolmentError
from app.services.errors import DomainError, InvalidInput, NotFound
from app.services.policy import Action, Actor
from app.services.text import one_line
from curricula.messages import msg

KIND = "registration"
# How long each link works.
EMAIL_LINK = timedelta(days=3)
INVITATION_LINK = timedelta(days=14)
MANAGER_LINK = timedelta(days=14)
# The status page: until this long after the cohort's start.
STATUS_AFTER_START = timedelta(days=60)
LONGEST_REASON = 1000

S = RegistrationState


class RegistrationRefused(DomainError):
    code = "registration_refused"


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- the organisation's settings ------------------------------------------------


def settings_of(actor: Actor, organisation_id: int) -> Organisation:
    organisation = policy.get(actor, Organisation, organisation_id, "id")
    policy.require(actor, Action.DECIDE_REGISTRATIONS, organisation.id)
    return organisation


def change_manager_step(actor: Actor, organisation_id: int, on: bool) -> bool:
    """Whether the manager confirms before HR decides; True when it changed."""
    organisation = settings_of(actor, organisation_id)
    if organisation.manager_step == on:
        return False
    organisation.manager_step = on
    _history_of_organisation(actor, organisation, "manager_step", {"manager_step": on})
    return True


WAITING_LIST_MODES = ("offer", "move_up")
OFFER_DAYS = (1, 14)


def change_waiting_lists(
    actor: Actor, organisation_id: int, mode: str, offer_days: int | None, share_make_ups: bool
) -> bool:
    """How a freed place reaches the first in line (an offer for
    `offer_days` days, or the place at once), and whether the organisation
    shares its sessions for make-ups; True when anything changed. Checked
    before anything changes."""
    organisation = settings_of(actor, organisation_id)
    if mode not in WAITING_LIST_MODES:
        raise InvalidInput(msg("choose how a freed place is given"), field="waiting_list_mode")
    low, high = OFFER_DAYS
    if mode == "offer" and (offer_days is None or not low <= offer_days <= high):
        raise InvalidInput(
            msg("an offer lasts from {low} to {high} days", low=low, high=high),
            field="offer_days",
        )
    wanted = {
        "waiting_list_mode": mode,
        "offer_days": offer_days if offer_days is not None else organisation.offer_days,
        "share_make_ups": share_make_ups,
    }
    before = {key: getattr(organisation, key) for key in wanted}
    if before == wanted:
        return False
    for key, value in wanted.items():
        setattr(organisation, key, value)
    _history_of_organisation(actor, organisation, "waiting_lists_changed", wanted)
    return True


def renew_address(actor: Actor, organisation_id: int) -> str:
    """A new registration address (its secret, returned once); the earlier
    address stops working at once."""
    organisation = settings_of(actor, organisation_id)
    token = new_token()
    organisation.registration_token_hash = token_hash(token)
    _history_of_organisation(actor, organisation, "registration_address_renewed", None)
    return token


def close_address(actor: Actor, organisation_id: int) -> None:
    """The organisation has no registration address any more."""
    organisation = settings_of(actor, organisation_id)
    organisation.registration_token_hash = None
    _history_of_organisation(actor, organisation, "registration_address_closed", None)


def _history_of_organisation(
    actor: Actor, organisation: Organisation, action: str, after: dict[str, Any] | None
) -> None:
    history.record(
        user=actor.user,
        organisation_id=organisation.id,
        subject="organisation",
        subject_id=organisation.id,
        action=action,
        after=after,
    )


# --- cohorts open for registration -------------------------------------------


def change_cohort_registration(
    actor: Actor, cohort_id: int, *, open_: bool, closes_on: date | None, today: date
) -> bool:
    """Opens or closes the cohort for registration, until `closes_on` (None:
    until it starts). True when it changed."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.PLAN, cohort.organisation_id)
    if open_ and cohort.state is not CohortState.PLANNED:
        raise InvalidInput(
            msg("only a planned cohort can be open for registration"),
            code="registration_not_planned",
            field="registration_open",
        )
    if closes_on is not None and closes_on >= cohort.start_date:
        raise InvalidInput(
            msg("the closing date must lie before the cohort's start"),
            code="closes_after_start",
            field="registration_closes_on",
        )
    if open_ and closes_on is not None and closes_on < today:
        raise InvalidInput(
            msg("the closing date has passed"),
            code="closes_in_the_past",
            field="registration_closes_on",
        )
    if cohort.registration_open == open_ and cohort.registration_closes_on == closes_on:
        return False
    before = _window(cohort)
    cohort.registration_open = open_
    cohort.registration_closes_on = closes_on
    history.record(
        user=actor.user,
        organisation_id=cohort.organisation_id,
        cohort_id=cohort.id,
        subject="cohort",
        subject_id=cohort.id,
        action="registration_changed",
        before=before,
        after=_window(cohort),
    )
    return True


def _window(cohort: Cohort) -> dict[str, Any]:
    closes = cohort.registration_closes_on
    return {"open": cohort.registration_open, "closes_on": closes.isoformat() if closes else None}


def takes_registrations(cohort: Cohort, today: date) -> bool:
    """Open for registration, not past its closing date, not started."""
    if not cohort.registration_open or cohort.state is not CohortState.PLANNED:
        return False
    if cohort.start_date <= today:
        return False
    return cohort.registration_closes_on is None or cohort.registration_closes_on >= today


def open_cohorts(organisation: Organisation, today: date) -> list[Cohort]:
    """The organisation's upcoming cohorts open for registration, by start."""
    candidates = db.session.scalars(
        select(Cohort)
        .where(
            Cohort.organisation_id == organisation.id,
            Cohort.registration_open.is_(True),
            Cohort.state == CohortState.PLANNED,
            Cohort.start_date > today,
        )
        .order_by(Cohort.start_date, Cohort.name, Cohort.id)
    )
    return [c for c in candidates if takes_registrations(c, today)]


def organisation_of_address(token: str) -> Organisation | None:
    """The organisation whose registration address holds `token`, or None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(Organisation).where(Organisation.registration_token_hash == token_hash(token))
    )


# --- registering ----------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """What the registration form asks."""

    cohort_id: int
    first_name: str
    last_name: str
    email: str
    department: str
    manager_name: str
    manager_email: str


def register(address: str, application: Application, now: datetime | None = None) -> None:
    """An employee registers for a cohort of the address's organisation.
    The answer is the same whoever the address belongs to; the message to
    it says what follows (a link to confirm it, or that they are registered
    already, with their status page)."""
    now = now or now_utc()
    organisation = organisation_of_address(address)
    if organisation is None:
        raise NotFound()
    cohort = db.session.get(Cohort, application.cohort_id)
    if (
        cohort is None
        or cohort.organisation_id != organisation.id
        or not takes_registrations(cohort, now.date())
    ):
        raise InvalidInput(
            msg("the cohort is not open for registration"),
            code="registration_closed",
            field="cohort",
        )
    manager_email = _address(application.manager_email, "manager_email")
    if organisation.manager_step and not manager_email:
        raise InvalidInput(msg("please name your manager's e-mail address"), field="manager_email")
    email = _address(application.email, "email")
    if manager_email and manager_email == email:
        raise InvalidInput(
            msg("your manager's address must not be your own"),
            code="manager_is_self",
            field="manager_email",
        )
    person = _person(organisation, email)
    if person is None:
        person = participants.add_participant(
            organisation,
            {
                "first_name": application.first_name,
                "last_name": application.last_name,
                "email": email,
                "department": application.department,
                "manager_name": application.manager_name,
                "manager_email": manager_email,
            },
            None,
        )
    manager_name = one_line(application.manager_name, field="manager_name")[:200]
    _apply(cohort, person, now, manager_name=manager_name, manager_email=manager_email)


def _apply(
    cohort: Cohort,
    person: Participant,
    now: datetime,
    *,
    manager_name: str,
    manager_email: str,
    invited: bool = False,
    by: User | None = None,
) -> Registration:
    registration = _registration(cohort, person)
    enrolled = _enrolled(cohort, person)
    if registration is not None and registration.state is S.REGISTERED and not enrolled:
        # Not confirmed yet (the message lost, the link expired): a new link.
        pass
    elif enrolled or (registration is not None and not registration.state.final):
        if registration is None:
            # Enrolled by staff without registering: a status page all the same.
            registration = _new(cohort, person, now, invited, by)
            registration.accept(now)
        _tell(registration, "already", now, status=status_link(registration, now))
        return registration
    elif registration is None:
        registration = _new(cohort, person, now, invited, by)
    else:
        registration.register_again(now)
        registration.invited = invited
        registration.created_by_id = by.id if by is not None else None
    if registration.state is S.REGISTERED and registration.invited and not invited:
        invited = True  # registering again meanwhile keeps the invitation's form
    registration.manager_name = manager_name
    registration.manager_email = manager_email
    token = new_token()
    registration.email_token_hash = token_hash(token)
    registration.email_token_expires_at = now + (INVITATION_LINK if invited else EMAIL_LINK)
    db.session.flush()
    _record(registration, by, "invited" if invited else "registered", now)
    _tell(
        registration,
        "invitation" if invited else "confirm",
        now,
        link=external_url("registrations.confirm", token=token),
        status=status_link(registration, now, secret=_status_beside(token)),
    )
    return registration


def _new(
    cohort: Cohort, person: Participant, now: datetime, invited: bool, by: User | None
) -> Registration:
    registration = Registration(
        organisation_id=cohort.organisation_id,
        cohort=cohort,
        participant=person,
        state=S.REGISTERED,
        registered_at=now,
        changed_at=now,
        invited=invited,
        created_by_id=by.id if by is not None else None,
    )
    db.session.add(registration)
    db.session.flush()
    return registration


# The status links made or used in the current transaction, by registration:
# the messages of one change carry the same link.
STATUS_LINKS = "qualiplan.registration_status_links"
# What the server's key signs to make the status secret beside a
# confirmation link; the label keeps it apart from the key's other uses.
STATUS_BESIDE = b"qualiplan.registration-status\x00"


def status_link(registration: Registration, now: datetime, *, secret: str | None = None) -> str:
    """The link to the person's status page for a message to them. Only the
    hash of its secret is kept, so a link cannot be sent again: each change
    that tells the person makes a new one and the earlier link stops working
    (the newest message holds the working link). The messages of one change
    share one, and a link the person is using (`use_status_link`) is sent on
    as it is; `secret`: this one (the message with the confirmation link)."""
    known = _status_links()
    token = known.get(registration.id)
    if secret is not None:
        token = known[registration.id] = secret
        registration.status_token_hash = token_hash(secret)
    elif token is None or registration.status_token_hash != token_hash(token):
        token = new_token()
        registration.status_token_hash = token_hash(token)
        known[registration.id] = token
    start = datetime.combine(registration.cohort.start_date, datetime.min.time(), tzinfo=UTC)
    registration.status_token_expires_at = max(start, now) + STATUS_AFTER_START
    return external_url("registrations.status", token=token)


def _status_beside(confirmation: str) -> str:
    """The status secret the message with the confirmation link `confirmation`
    carries: made from it one way, so that the confirmation page can lead to
    the status page (and its withdrawal) while no secret is kept in plain
    text. Keyed with the app's SECRET_KEY as well: whoever saw only the
    confirmation link (an access log, a mail gateway) cannot make the status
    link, which outlives it, and withdraw the person. Knowing it tells
    nothing of the confirmation link."""
    key = current_app.secret_key
    if not key:
        # Without the server's part anyone holding the confirmation link
        # could make the status link.
        raise RuntimeError("SECRET_KEY is not set")
    if isinstance(key, str):
        key = key.encode("utf-8")
    digest = hmac.new(key, STATUS_BESIDE + confirmation.encode("utf-8"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def status_beside(
    confirmation: str, registration: Registration, now: datetime | None = None
) -> str | None:
    """The status secret sent with the confirmation link `confirmation`
    while it is the one that works; None once a later message renewed it,
    when it has expired, after SECRET_KEY changed, and for messages sent
    before the two were made together."""
    token = _status_beside(confirmation)
    # The status page's own lookup, so that every rule for its links holds
    # for the confirmation page's way there too.
    return token if status_of(token, now) is registration else None


def use_status_link(registration: Registration, token: str) -> None:
    """The person opened their status page with `token`: the messages of the
    change they make carry this link rather than a new one."""
    if registration.status_token_hash == token_hash(token):
        _status_links()[registration.id] = token


def _status_links() -> dict[int, str]:
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get(STATUS_LINKS)
    if held is None or held[0] is not transaction:
        held = session.info[STATUS_LINKS] = (transaction, {})
    links: dict[int, str] = held[1]
    return links


def _address(value: str, field: str) -> str:
    text = one_line(value, field=field).lower()
    if len(text) > 254:
        raise InvalidInput(msg("is longer than {count} characters", count=254), field=field)
    return text


def _person(organisation: Organisation, email: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(
            Participant.organisation_id == organisation.id,
            func.lower(Participant.email) == email,
        )
    )


# --- the links: confirming the address, the manager's answer, the status -------


def confirmation_of(
    token: str, now: datetime | None = None, *, lock: bool = False
) -> Registration | None:
    """The registration waiting for the address's confirmation (or an
    invitation's answer) the link belongs to: None when unknown, used or
    expired. `lock`: its row held until the transaction ends, so that a
    link sent twice at once (a double tap) is used once."""
    registration = _by_token(Registration.email_token_hash, token, lock)
    if registration is None or registration.state is not S.REGISTERED:
        return None
    if _expired(registration.email_token_expires_at, now):
        return None
    return registration


def confirm_email(
    token: str,
    now: datetime | None = None,
    *,
    manager_name: str | None = None,
    manager_email: str | None = None,
) -> Registration:
    """The person confirmed their address (an invitation's answer also names
    the manager): the manager gets their link, or HR decides next."""
    now = now or now_utc()
    registration = confirmation_of(token, now, lock=True)
    if registration is None:
        raise NotFound()
    organisation = registration.cohort.organisation
    if manager_email is not None:
        address = _address(manager_email, "manager_email")
        if organisation.manager_step and not address:
            raise InvalidInput(
                msg("please name your manager's e-mail address"), field="manager_email"
            )
        if address and address == registration.participant.email.lower():
            raise InvalidInput(
                msg("your manager's address must not be your own"),
                code="manager_is_self",
                field="manager_email",
            )
        registration.manager_email = address
        registration.manager_name = one_line(manager_name or "", field="manager_name")[:200]
    if not takes_registrations(registration.cohort, now.date()):
        raise RegistrationRefused(
            msg("the cohort takes no registrations any more"), code="registration_closed"
        )
    manager_token = new_token() if organisation.manager_step else None
    registration.confirm_email(
        now, token_hash(manager_token) if manager_token else None, now + MANAGER_LINK
    )
    _record(registration, None, "email_confirmed", now)
    if manager_token is not None:
        _tell_manager(registration, manager_token, now)
    return registration


def manager_request_of(
    token: str, now: datetime | None = None, *, lock: bool = False
) -> Registration | None:
    """The registration waiting for the manager's answer the link belongs to."""
    registration = _by_token(Registration.manager_token_hash, token, lock)
    if registration is None or registration.state is not S.EMAIL_CONFIRMED:
        return None
    if _expired(registration.manager_token_expires_at, now):
        return None
    return registration


def manager_confirms(token: str, weekly_minutes: int, now: datetime | None = None) -> Registration:
    now = now or now_utc()
    registration = manager_request_of(token, now, lock=True)
    if registration is None:
        raise NotFound()
    if weekly_minutes not in WEEKLY_MINUTES:
        raise InvalidInput(
            msg("please grant at least 2 and at most 24 hours a week"),
            code="weekly_time_out_of_bounds",
            field="weekly_hours",
        )
    registration.confirm_by_manager(now, weekly_minutes)
    _record(registration, None, "manager_confirmed", now, weekly_minutes=weekly_minutes)
    _tell(registration, "manager_confirmed", now)
    return registration


def manager_refuses(token: str, reason: str, now: datetime | None = None) -> Registration:
    now = now or now_utc()
    registration = manager_request_of(token, now, lock=True)
    if registration is None:
        raise NotFound()
    text = _reason(reason, required=False)
    registration.refuse_by_manager(now, text)
    _record(registration, None, "manager_declined", now)
    _tell(registration, "manager_declined", now, reason=text)
    return registration


def status_of(token: str, now: datetime | None = None) -> Registration | None:
    """The registration whose status page the link shows, or None."""
    registration = _by_token(Registration.status_token_hash, token)
    if registration is None or _expired(registration.status_token_expires_at, now):
        return None
    return registration


# --- the person withdraws -------------------------------------------------------

# What a withdrawal from the status page ends: the application before HR's
# decision, the place on the waiting list (waiting or offered), or the
# enrolment (accepted, before the cohort has begun).
APPLICATION, LIST, COHORT = "application", "list", "cohort"
# The message each sends.
WITHDRAWN_MESSAGES = {APPLICATION: "withdrawn", LIST: "left_list", COHORT: "left_cohort"}


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing from the status page would end, for the page that
    asks first. `what` is None when nothing can be withdrawn: the
    registration has ended, or the cohort the person is enrolled in has begun
    (`begun`: then HR withdraws them)."""

    registration: Registration
    what: str | None
    begun: bool = False
    # Withdrawing from the cohort: the sessions still to come, and whether
    # someone waits for the place.
    coming: int = 0
    waiting: int = 0


def withdrawal(registration: Registration, now: datetime | None = None) -> Withdrawal:
    """What the person may withdraw now; nothing changes."""
    now = now or now_utc()
    cohort = registration.cohort
    if _enrolled(cohort, registration.participant):
        if waiting_lists._begun(cohort, now):
            return Withdrawal(registration, None, begun=True)
        sessions = db.session.scalars(
            select(Session).where(
                Session.cohort_id == cohort.id, Session.status != SessionStatus.CANCELLED
            )
        )
        return Withdrawal(
            registration,
            COHORT,
            coming=sum(1 for s in sessions if not enrolments._begun(s, now)),
            waiting=len(waiting_lists.list_of(cohort)),
        )
    if registration.state in ON_LIST:
        return Withdrawal(registration, LIST)
    if registration.state in PENDING:
        return Withdrawal(registration, APPLICATION)
    return Withdrawal(registration, None)


def withdraw(token: str, confirmed: str, now: datetime | None = None) -> Registration:
    """The person withdraws from their status page what they confirmed
    (`confirmed`, one of APPLICATION, LIST, COHORT): the application ends,
    they leave the waiting list (an offer they held goes to the next in
    line), or they are withdrawn from the cohort as staff withdraw someone
    (app.services.enrolments.withdraw: the freed place goes to the waiting
    list, and they leave the lists of the curriculum's other cohorts). In
    the lock HR's decisions take, so that a decision at the same moment
    comes either before (the withdrawal is refused: what it would end has
    changed) or after (HR finds it withdrawn). The person is told, with
    the status link they used, which keeps working."""
    now = now or now_utc()
    registration = status_of(token, now)
    if registration is None:
        raise NotFound()
    cohort = registration.cohort
    person = registration.participant
    # Every cohort a withdrawal from the cohort may lock (the person's other
    # waiting lists), locked first, in one order, as the enrolment's
    # withdrawal locks them.
    concerned = {cohort, *(r.cohort for r in waiting_lists.lists_of(person))}
    for each in sorted(concerned, key=lambda c: c.id):
        waiting_lists.lock(each)
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if registration is None or registration.status_token_hash != token_hash(token):
        raise NotFound()
    possible = withdrawal(registration, now)
    if possible.what is None:
        if possible.begun:
            raise RegistrationRefused(
                msg("the cohort has begun: to leave it, please ask your HR department"),
                code="cohort_begun",
            )
        raise RegistrationRefused(msg("your registration has ended already"), code="ended_already")
    if possible.what != confirmed:
        raise RegistrationRefused(
            msg("your registration has changed meanwhile; please look at its state again"),
            code="changed_meanwhile",
        )
    was = registration.state.value
    if possible.what == COHORT:
        enrolment = enrolments._active(cohort, person)
        if enrolment is not None:
            enrolments.withdraw(enrolment, None)
        db.session.refresh(registration)
    elif possible.what == LIST:
        waiting_lists._leave(cohort, person, now)
        db.session.refresh(registration)
    if not registration.state.final:
        registration.withdraw(now)
    _record(registration, None, "withdrawn", now, was=was, ended=possible.what)
    use_status_link(registration, token)
    _tell(registration, WITHDRAWN_MESSAGES[possible.what], now)
    return registration


def _by_token(column: Any, token: str, lock: bool = False) -> Registration | None:
    if not token or len(token) > 100:
        return None
    query = select(Registration).where(column == token_hash(token))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def _expired(until: datetime | None, now: datetime | None) -> bool:
    return until is None or until <= (now or now_utc())


# --- HR: the cohort's registrations, deciding, inviting ---------------------------


@dataclass(frozen=True)
class Waiting:
    registration: Registration
    position: int | None  # None: holds an offer


@dataclass(frozen=True)
class CohortRegistrations:
    cohort: Cohort
    pending: list[Registration]  # before HR's decision, oldest first
    waiting: list[Waiting]  # the waiting list in its order, offers first
    # accepted, declined, refused by the manager, withdrawn: newest first
    decided: list[Registration]
    may_decide: bool
    invitable: list[Participant]  # people of the organisation without a registration here
    takes_registrations: bool


def staff_cohort(actor: Actor, cohort_id: int) -> Cohort:
    """The cohort whose registrations staff look at (another organisation's: NotFound)."""
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.KEEP_PEOPLE, cohort.organisation_id)
    return cohort


def of_cohort(actor: Actor, cohort_id: int, today: date) -> CohortRegistrations:
    cohort = staff_cohort(actor, cohort_id)
    rows = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.cohort_id == cohort.id)
            .options(selectinload(Registration.participant), selectinload(Registration.decided_by))
            .order_by(Registration.registered_at, Registration.id)
        )
    )
    pending = [r for r in rows if r.state in PENDING]
    listed = [r for r in rows if r.state in ON_LIST]
    offers = [Waiting(r, None) for r in listed if r.state is S.OFFERED]
    waiting = [Waiting(r, n) for n, r in enumerate((r for r in listed if r.state is S.WAITING), 1)]
    decided = sorted(
        (r for r in rows if r.state in (S.ACCEPTED, S.DECLINED, S.MANAGER_DECLINED, S.WITHDRAWN)),
        key=lambda r: (r.changed_at, r.id),
        reverse=True,
    )
    taken = select(Registration.participant_id).where(Registration.cohort_id == cohort.id)
    enrolled = select(Enrolment.participant_id).where(
        Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
    )
    invitable = list(
        db.session.scalars(
            select(Participant)
            .where(
                Participant.organisation_id == cohort.organisation_id,
                Participant.id.not_in(taken),
                Participant.id.not_in(enrolled),
                Participant.email != "",
            )
            .order_by(Participant.last_name_key, Participant.first_name_key, Participant.id)
            .limit(500)
        )
    )
    return CohortRegistrations(
        cohort=cohort,
        pending=pending,
        waiting=offers + waiting,
        decided=decided,
        may_decide=policy.may(actor, Action.DECIDE_REGISTRATIONS, cohort.organisation_id),
        invitable=invitable,
        takes_registrations=takes_registrations(cohort, today),
    )


def _decidable(actor: Actor, cohort_id: int, registration_id: int) -> Registration:
    cohort = policy.get(actor, Cohort, cohort_id)
    policy.require(actor, Action.DECIDE_REGISTRATIONS, cohort.organisation_id)
    # One decision at a time per cohort, in the waiting list's lock (a
    # double click, two HR clerks): the second sees the first's outcome.
    waiting_lists.lock(cohort)
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.cohort_id == cohort.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if registration is None:
        raise NotFound()
    if registration.state is S.WITHDRAWN:
        raise RegistrationRefused(
            msg("{name} has withdrawn the registration", name=registration.participant.name),
            code="withdrawn",
        )
    return registration


def accept(
    actor: Actor,
    cohort_id: int,
    registration_id: int,
    *,
    acknowledge: bool = False,
    now: datetime | None = None,
) -> Registration:
    """HR accepts: the person is enrolled (the enrolment's warnings asked
    unless `acknowledge`), or put on the waiting list of a full cohort that
    keeps one."""
    now = now or now_utc()
    registration = _decidable(actor, cohort_id, registration_id)
    cohort = registration.cohort
    if registration.state not in PENDING:
        raise RegistrationRefused(
            msg("this registration has been decided already"), code="decided_already"
        )
    if registration.state is S.REGISTERED:
        raise RegistrationRefused(
            msg("the person has not confirmed their e-mail address yet"),
            code="email_not_confirmed",
        )
    if not registration.decidable(cohort.organisation.manager_step):
        raise RegistrationRefused(
            msg("the registration waits for the manager's confirmation"),
            code="waiting_for_manager",
        )
    person = registration.participant
    try:
        enrolments.enrol_participant(actor, cohort.id, person.id, acknowledge=acknowledge)
    except EnrolmentError as refusal:
        if refusal.code != "cohort_full" or not cohort.waiting_list:
            raise
        waiting_lists.join(cohort, person, actor.user, now)
        db.session.refresh(registration)
        registration.decided_by = actor.user
        registration.decided_at = now
        _record(registration, actor.user, "waiting", now)
        if registration.state is S.WAITING:
            _tell(registration, "waiting", now, position=waiting_lists.position_of(registration))
        return registration
    db.session.refresh(registration)
    if registration.state is not S.ACCEPTED:
        registration.accept(now, actor.user)
    _record(registration, actor.user, "accepted", now)
    _tell(registration, "accepted", now)
    return registration


def decline(
    actor: Actor,
    cohort_id: int,
    registration_id: int,
    reason: str,
    now: datetime | None = None,
) -> Registration:
    """HR declines, with a reason the person is told."""
    now = now or now_utc()
    registration = _decidable(actor, cohort_id, registration_id)
    text = _reason(reason, required=True)
    try:
        registration.decline(now, actor.user, text)
    except InvalidRegistrationMove:
        raise RegistrationRefused(
            msg("this registration has been decided already"), code="decided_already"
        ) from None
    _record(registration, actor.user, "declined", now, reason=text)
    _tell(registration, "declined", now, reason=text)
    return registration


def invite(
    actor: Actor, cohort_id: int, participant_id: int, now: datetime | None = None
) -> Registration:
    """HR invites someone it picked to register for the cohort: a message
    with a link to the registration form, filled in."""
    now = now or now_utc()
    cohort = policy.get(actor, Cohort, cohort_id)
    person = policy.get(actor, Participant, participant_id)
    policy.require(actor, Action.DECIDE_REGISTRATIONS, cohort.organisation_id)
    if person.organisation_id != cohort.organisation_id:
        raise NotFound()
    if not person.email:
        raise InvalidInput(msg("the person has no e-mail address"), field="participant")
    if not takes_registrations(cohort, now.date()):
        raise RegistrationRefused(
            msg("the cohort is not open for registration"), code="registration_closed"
        )
    existing = _registration(cohort, person)
    if _enrolled(cohort, person) or (existing is not None and not existing.state.final):
        raise RegistrationRefused(
            msg("{name} is registered or enrolled already", name=person.name),
            code="registered_already",
        )
    return _apply(
        cohort,
        person,
        now,
        manager_name=person.manager_name,
        manager_email=person.manager_email,
        invited=True,
        by=actor.user,
    )


def _reason(reason: str, *, required: bool) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput(msg("please give a reason"), code="reason_missing", field="reason")
    if len(text) > LONGEST_REASON:
        raise InvalidInput(
            msg("is longer than {count} characters", count=LONGEST_REASON), field="reason"
        )
    return text


# --- records and messages -----------------------------------------------------


def _record(
    registration: Registration, user: Any, action: str, now: datetime, **more: Any
) -> None:
    history.record(
        user=user,
        organisation_id=registration.organisation_id,
        cohort_id=registration.cohort_id,
        subject="registration",
        subject_id=registration.participant_id,
        action=action,
        after={
            "registration": registration.id,
            "participant": registration.participant.name,
            "state": registration.state.value,
            **more,
        },
    )


def _tell_manager(registration: Registration, token: str, now: datetime) -> None:
    if not registration.manager_email:
        return
    _message(
        registration,
        "manager",
        now,
        address=registration.manager_email,
        name=registration.manager_name or None,
        link=external_url("registrations.manager", token=token),
        employee=registration.participant.name,
        until=registration.manager_token_expires_at.isoformat()  # type: ignore[union-attr]
        if registration.manager_token_expires_at
        else "",
    )


def _tell(registration: Registration, what: str, now: datetime, **more: Any) -> None:
    """A message to the person; every one holds the link to their status page."""
    person = registration.participant
    if not person.email:
        return
    status = more.pop("status", None) or status_link(registration, now)
    link = more.pop("link", None)
    more["link"] = {"confirm": link or "", "status": status}
    _message(registration, what, now, address=person.email, name=person.name, **more)


def _message(
    registration: Registration,
    what: str,
    now: datetime,
    *,
    address: str,
    name: str | None,
    **more: Any,
) -> None:
    cohort = registration.cohort
    payload = {**waiting_lists.about_cohort(cohort, what), **more}
    language = registration.participant.language or "de"
    notifications.record(
        kind=KIND,
        key=f"{KIND}:{what}:{registration.id}:{now.isoformat()}",
        address=address,
        organisation_id=cohort.organisation_id,
        payload=payload,
        language=language if what != "manager" else "de",
        name=name,
        cohort_id=cohort.id,
        participant_id=registration.participant_id,
    )


def _registration(cohort: Cohort, person: Participant) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.cohort_id == cohort.id, Registration.participant_id == person.id
        )
    )


def _enrolled(cohort: Cohort, person: Participant) -> bool:
    return enrolments._active(cohort, person) is not None
