"""A person's registration for a cohort: the way in, from registering to a
place, and the cohort's waiting list.

One row per person and cohort. Its state follows the path of issue 17:
registered → e-mail confirmed → manager confirmed (or refused by the
manager) → accepted (or declined) by HR; a full cohort puts the person on
its waiting list (waiting), where a place that frees becomes an offer
(offered) that they accept (accepted), decline (offer declined) or let
pass (offer expired). Withdrawn ends every state but the final ones;
moved: carried to the next cohort's list when this cohort began. The
transition methods refuse any other move.

The list's order is `registered_at`, then `id` (cohorts.waiting_list).
The link that accepts or declines an offer is a random one-time token of
which only the hash is stored (app.models.tokens.token_hash); so are the
links of registering (app.services.registrations): the e-mail confirmation
(or an HR invitation), the manager's and the person's status page, each
with its own expiry. A link used or replaced stops working at once.

The manager grants a weekly time for the role: the AgenturQ guide asks for
at least two hours a week and at most half of the working time
(WEEKLY_MINUTES; the upper bound is half of the legal 48-hour week).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.cohorts import Cohort
from app.models.participants import Participant
from app.models.users import User
from app.schema import UTCDateTime, utcnow
from curricula.messages import Message, msg


class RegistrationState(StrEnum):
    REGISTERED = "registered"
    EMAIL_CONFIRMED = "email_confirmed"
    MANAGER_CONFIRMED = "manager_confirmed"
    MANAGER_DECLINED = "manager_declined"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WAITING = "waiting"
    OFFERED = "offered"
    OFFER_EXPIRED = "offer_expired"
    OFFER_DECLINED = "offer_declined"
    WITHDRAWN = "withdrawn"
    MOVED = "moved"

    def may_become(self, wanted: RegistrationState) -> bool:
        return wanted in MOVES[self]

    @property
    def on_list(self) -> bool:
        return self in ON_LIST

    @property
    def final(self) -> bool:
        return not MOVES[self]


S = RegistrationState
ON_LIST = frozenset({S.WAITING, S.OFFERED})
# The states before HR's decision: from each, a full cohort puts the person
# on its list instead of accepting them.
_PENDING = frozenset({S.REGISTERED, S.EMAIL_CONFIRMED, S.MANAGER_CONFIRMED})
MOVES: dict[RegistrationState, frozenset[RegistrationState]] = {
    S.REGISTERED: frozenset({S.EMAIL_CONFIRMED, S.ACCEPTED, S.DECLINED, S.WAITING, S.WITHDRAWN}),
    S.EMAIL_CONFIRMED: frozenset(
        {S.MANAGER_CONFIRMED, S.MANAGER_DECLINED, S.ACCEPTED, S.DECLINED, S.WAITING, S.WITHDRAWN}
    ),
    S.MANAGER_CONFIRMED: frozenset({S.ACCEPTED, S.DECLINED, S.WAITING, S.WITHDRAWN}),
    # Moved up at once (mode "move_up") or offered a place.
    S.WAITING: frozenset({S.OFFERED, S.ACCEPTED, S.WITHDRAWN, S.MOVED}),
    S.OFFERED: frozenset({S.ACCEPTED, S.OFFER_DECLINED, S.OFFER_EXPIRED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.WITHDRAWN}),
    S.DECLINED: frozenset(),
    S.MANAGER_DECLINED: frozenset(),
    S.OFFER_EXPIRED: frozenset(),
    S.OFFER_DECLINED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.MOVED: frozenset(),
}


PENDING = _PENDING
# The weekly time a manager may grant, in minutes: at least two hours, at
# most half of the working time (half of the legal 48-hour week).
WEEKLY_MINUTES = range(120, 24 * 60 + 1)


class InvalidRegistrationMove(Exception):
    def __init__(self, current: RegistrationState, wanted: RegistrationState) -> None:
        self.current = current
        self.wanted = wanted
        super().__init__(f"a registration that is {current} cannot become {wanted}")


class Registration(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("cohort_id", "participant_id"),
        # A cohort's list in its order.
        Index("ix_registrations_list", "cohort_id", "state", "registered_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[RegistrationState] = mapped_column(
        Enum(RegistrationState, native_enum=False, length=20), default=RegistrationState.REGISTERED
    )
    # The list's order: when the person registered (kept when carried on to
    # the next cohort's list).
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hash of the offer's link (accept or decline); NULL once answered.
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # When the state last changed.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Registering (app.services.registrations): the manager named, and their
    # answer: the weekly time granted, or a refusal with its reason.
    manager_name: Mapped[str] = mapped_column(String(200), default="")
    manager_email: Mapped[str] = mapped_column(String(254), default="")
    weekly_minutes: Mapped[int | None]
    manager_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_reason: Mapped[str | None] = mapped_column(Text)
    # The hashes of the one-time links: confirming the e-mail address (or
    # answering an invitation), the manager's answer; and of the status page.
    email_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    email_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    manager_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HR's decision: who, when, and why a registration was declined.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # Whether HR invited the person (rather than they registering themselves).
    invited: Mapped[bool] = mapped_column(default=False)

    cohort: Mapped[Cohort] = relationship()
    participant: Mapped[Participant] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def _become(self, wanted: RegistrationState, now: datetime) -> None:
        if not self.state.may_become(wanted):
            raise InvalidRegistrationMove(self.state, wanted)
        self.state = wanted
        self.changed_at = now

    def confirm_email(self, now: datetime, manager_hash: str | None, until: datetime) -> None:
        """The person confirmed their address; `manager_hash`: the manager's
        link, valid until `until` (None: the organisation asks no manager)."""
        self._become(S.EMAIL_CONFIRMED, now)
        self.email_token_hash = None
        self.manager_token_hash = manager_hash
        self.manager_token_expires_at = until if manager_hash else None

    def confirm_by_manager(self, now: datetime, weekly_minutes: int) -> None:
        if weekly_minutes not in WEEKLY_MINUTES:
            raise ValueError("the weekly time is out of bounds")
        self._become(S.MANAGER_CONFIRMED, now)
        self.weekly_minutes = weekly_minutes
        self.manager_answered_at = now
        self.manager_token_hash = None

    def refuse_by_manager(self, now: datetime, reason: str) -> None:
        self._become(S.MANAGER_DECLINED, now)
        self.manager_reason = reason or None
        self.manager_answered_at = now
        self.manager_token_hash = None

    @property
    def waits_for_manager(self) -> bool:
        return self.state is S.EMAIL_CONFIRMED and self.manager_token_hash is not None

    def decidable(self, manager_step: bool) -> bool:
        """Whether HR may accept it now: the manager confirmed, or the
        organisation asks no manager and the address is confirmed."""
        if self.state is S.MANAGER_CONFIRMED:
            return True
        return self.state is S.EMAIL_CONFIRMED and not (manager_step and self.waits_for_manager)

    def accept(self, now: datetime, by: User | None = None) -> None:
        """HR's acceptance, a move up, or an offer accepted: the person has a place."""
        self._become(S.ACCEPTED, now)
        self._end_offer()
        self._end_links()
        if by is not None:
            self.decided_by = by
            self.decided_at = now

    def decline(self, now: datetime, by: User | None = None, reason: str = "") -> None:
        """HR declines, with the reason the person is told."""
        self._become(S.DECLINED, now)
        self._end_links()
        self.decided_by = by
        self.decided_at = now
        self.decline_reason = reason or None

    def wait(self, now: datetime) -> None:
        """On the cohort's waiting list, from now: the list's order."""
        if self.state not in _PENDING:
            raise InvalidRegistrationMove(self.state, S.WAITING)
        self._become(S.WAITING, now)
        self.registered_at = now

    def offer(self, now: datetime, until: datetime, token_hash: str) -> None:
        self._become(S.OFFERED, now)
        self.offered_at = now
        self.offer_expires_at = until
        self.offer_token_hash = token_hash

    def decline_offer(self, now: datetime) -> None:
        self._become(S.OFFER_DECLINED, now)
        self._end_offer()

    def expire_offer(self, now: datetime) -> None:
        self._become(S.OFFER_EXPIRED, now)
        self._end_offer()

    def withdraw(self, now: datetime) -> None:
        self._become(S.WITHDRAWN, now)
        self._end_offer()
        self._end_links()

    def move_on(self, now: datetime) -> None:
        """Carried to the next cohort's list (this cohort has begun)."""
        self._become(S.MOVED, now)

    def register_again(self, now: datetime) -> None:
        """A person whose earlier registration ended registers anew: at the
        end of the line, like anyone registering now."""
        if not self.state.final:
            raise InvalidRegistrationMove(self.state, S.REGISTERED)
        self.state = S.REGISTERED
        self.registered_at = now
        self.changed_at = now
        self.offered_at = self.offer_expires_at = None
        self.offer_token_hash = None
        self.weekly_minutes = self.manager_answered_at = self.manager_reason = None
        self.decided_by_id = self.decided_at = self.decline_reason = None
        self._end_links()

    def _end_offer(self) -> None:
        # The link answers no more; when the offer ran out stays on record.
        self.offer_token_hash = None

    def _end_links(self) -> None:
        # The one-time links of registering answer no more (the status page stays).
        self.email_token_hash = None
        self.manager_token_hash = None


# The history's words for each step (app.services.registrations records
# them with the person's name under "participant").
HISTORY: dict[str, Callable[[str], Message]] = {
    "registered": lambda name: msg("{name} registered", name=name),
    "invited": lambda name: msg("invited {name} to register", name=name),
    "email_confirmed": lambda name: msg("{name} confirmed their e-mail address", name=name),
    "manager_confirmed": lambda name: msg(
        "the manager of {name} confirmed the time for the role", name=name
    ),
    "manager_declined": lambda name: msg("the manager of {name} did not confirm", name=name),
    "accepted": lambda name: msg("accepted the registration of {name}", name=name),
    "waiting": lambda name: msg(
        "accepted the registration of {name} onto the waiting list", name=name
    ),
    "declined": lambda name: msg("declined the registration of {name}", name=name),
    "withdrawn": lambda name: msg("{name} withdrew their registration", name=name),
}


def history_message(subject: str, action: str, after: dict[str, Any]) -> Message | None:
    """A registration's step in the history, in words; None for other changes."""
    if subject == "cohort" and action == "registration_changed":
        return msg("changed whether the cohort is open for registration")
    if subject != "registration" or action not in HISTORY:
        return None
    return HISTORY[action](str(after.get("participant", "")))
