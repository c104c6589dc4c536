"""The delivery log for staff: what Qualiplan sent to whom, per cohort, per
participant and per staff member, and sending a failed message again.

Each page of the log is two statements: the counts by state (for the filter
and the page links) and the page's rows, each row with whether it was sent
again already (an indexed look-up of its first copy's key). Nothing per row
is loaded afterwards: a row carries its address, the recipient's name (in
the payload), its kind, subject, state and the server's answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Cohort, Delivery, Notification, Participant, User
from app.services import accounts, notifications, policy
from app.services.errors import InvalidInput, NotFound
from app.services.policy import Action, Actor
from curricula.messages import msg

PAGE_SIZE = 50
PREVIEW = 5  # the newest shown on the cohort's and the person's page
AGAIN = ":again:"
MOST_COPIES = 20  # of one message; then the address is what needs looking at
KEY_LENGTH = 200  # Notification.key


class Shown(StrEnum):
    """The log's filter by state: waiting covers queued and being sent."""

    ALL = ""
    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"


STATES: dict[Shown, tuple[Delivery, ...]] = {
    Shown.WAITING: (Delivery.QUEUED, Delivery.SENDING),
    Shown.SENT: (Delivery.SENT,),
    Shown.FAILED: (Delivery.FAILED,),
}


@dataclass(frozen=True)
class Row:
    notification: Notification
    sent_again: bool  # a copy of this one was recorded already

    @property
    def may_send_again(self) -> bool:
        return self.notification.state is Delivery.FAILED and not self.sent_again


@dataclass
class LogPage:
    rows: list[Row]
    shown: Shown
    page: int
    pages: int
    total: int  # rows the filter lets through
    counts: dict[Shown, int] = field(default_factory=dict)  # per filter, ALL included

    @property
    def failed(self) -> int:
        return self.counts.get(Shown.FAILED, 0)

    @property
    def more(self) -> bool:
        """Whether there is more than this page shows."""
        return self.counts.get(Shown.ALL, 0) > len(self.rows)


def cohort_log(
    actor: Actor, cohort_id: int, *, shown: Shown = Shown.ALL, page: int = 1
) -> tuple[Cohort, LogPage]:
    """A cohort's messages, newest first: whoever may see the cohort may see them."""
    cohort = policy.get(actor, Cohort, cohort_id)
    return cohort, _log(Notification.cohort_id == cohort.id, shown, page)


def person_log(
    actor: Actor, participant_id: int, *, shown: Shown = Shown.ALL, page: int = 1
) -> tuple[Participant, LogPage]:
    """The messages to one person, newest first."""
    person = policy.get(actor, Participant, participant_id)
    return person, _log(Notification.participant_id == person.id, shown, page)


def account_log(
    actor: Actor, user_id: int, *, shown: Shown = Shown.ALL, page: int = 1
) -> tuple[User, LogPage]:
    """The messages to a staff member (invitations to the sessions they
    train, the weekly digest), for whoever manages their account: only
    those of organisations the actor works in."""
    user = accounts.managed(actor, user_id)
    condition = Notification.user_id == user.id
    if actor.organisation_ids is not None:
        condition = and_(condition, Notification.organisation_id.in_(actor.organisation_ids))
    return user, _log(condition, shown, page)


def newest_of_cohort(cohort_id: int) -> LogPage:
    """The few newest of a cohort, for its page (which checked access)."""
    return _log(Notification.cohort_id == cohort_id, Shown.ALL, 1, PREVIEW)


def newest_of_person(participant_id: int) -> LogPage:
    return _log(Notification.participant_id == participant_id, Shown.ALL, 1, PREVIEW)


def _log(condition: Any, shown: Shown, page: int, size: int = PAGE_SIZE) -> LogPage:
    counted = db.session.execute(
        select(Notification.state, func.count()).where(condition).group_by(Notification.state)
    ).all()
    by_state = {Delivery(state): number for state, number in counted}
    counts = {
        Shown.ALL: sum(by_state.values()),
        **{
            wanted: sum(by_state.get(state, 0) for state in states)
            for wanted, states in STATES.items()
        },
    }
    total = counts[shown]
    pages = max(math.ceil(total / size), 1)
    page = min(max(page, 1), pages)  # an old link after rows went: the last page there is
    copy = aliased(Notification)
    resent = exists().where(copy.key == Notification.key + f"{AGAIN}1")
    query = select(Notification, resent.label("resent")).where(condition)
    if shown is not Shown.ALL:
        query = query.where(Notification.state.in_(STATES[shown]))
    found = db.session.execute(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    rows = [Row(notification, bool(again)) for notification, again in found]
    return LogPage(rows=rows, shown=shown, page=page, pages=pages, total=total, counts=counts)


def send_again(actor: Actor, notification_id: int) -> Notification:
    """Records a copy of a failed message, due now, under the key
    f"{key}:again:{n}": the worker sends it like any other, and the failed
    one stays in the log as it was. The copy goes to the same address with
    the same content: it says what was true when the change happened.

    Refused unless the message failed, and when a copy of it is waiting or
    was sent already (a second click sends nothing twice)."""
    failed = db.session.get(Notification, notification_id)
    if failed is None or not actor.belongs_to(failed.organisation_id):
        raise NotFound()
    policy.require(actor, Action.KEEP_PEOPLE, failed.organisation_id)
    if failed.cohort_id is None and failed.participant_id is None:
        # Only in a staff member's own log (the digest): for who manages accounts.
        policy.require(actor, Action.MANAGE_ACCOUNTS, failed.organisation_id)
    if failed.state is not Delivery.FAILED:
        raise InvalidInput(msg("only a message that failed can be sent again"), code="not_failed")
    copies = _copies_of(failed.key)
    if any(state is not Delivery.FAILED for state in copies.values()):
        raise InvalidInput(msg("this message was sent again already"), code="sent_again")
    key = f"{failed.key}{AGAIN}{len(copies) + 1}"
    if len(copies) >= MOST_COPIES or len(key) > KEY_LENGTH:
        raise InvalidInput(
            msg("this message was sent again too often; please check the address"),
            code="too_often",
        )
    payload = dict(failed.payload or {})
    copy = notifications.record(
        kind=failed.kind,
        key=key,
        address=failed.address,
        organisation_id=failed.organisation_id,
        payload=payload,  # the recipient's name is in it already
        language=failed.language,
        cohort_id=failed.cohort_id,
        session_id=failed.session_id,
        participant_id=failed.participant_id,
        user_id=failed.user_id,
    )
    if copy is None:  # recorded at this very moment by someone else
        raise InvalidInput(msg("this message was sent again already"), code="sent_again")
    return copy


def _copies_of(key: str) -> dict[str, Delivery]:
    """The copies of the message with `key` (not copies of copies) and their
    states, looked up by their exact keys (the unique index answers)."""
    keys = [f"{key}{AGAIN}{n}" for n in range(1, MOST_COPIES + 1)]
    found = db.session.execute(
        select(Notification.key, Notification.state).where(Notification.key.in_(keys))
    ).all()
    return {k: Delivery(state) for k, state in found}
