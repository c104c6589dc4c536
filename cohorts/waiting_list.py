"""A cohort's waiting list: who gets a place that frees, in which order.

Pure rules, no database: the service (app.services.waiting_lists) loads a
`WaitingList` under a lock on the cohort, asks one of the functions below
what to do, and carries out the `Moves` they answer.

The rules:

- The list is in order of registration (`registered_at`, then `id` for
  two registrations in the same instant); nobody is ever placed before
  someone who registered earlier (nobody jumps the list).
- A place is held by an enrolment or by an open offer: places given out
  never exceed the capacity, counting open offers as held.
- When places free, the first people waiting get them, one place each: an
  offer with a deadline (mode "offer"), or a place at once (mode "move_up").
  Two places freeing at once go to two different people; a person on the
  list holds at most one entry of it, so at most one offer.
- An offer that expires or is declined ends; its place goes to the next in
  line.
- Nobody moves up once the cohort's first session has begun: then nothing
  is offered, open offers can no longer be accepted, and the people still on
  the list are carried to the list of the next cohort of the same curriculum
  (the service finds it), keeping their time of registration.
- A person who withdraws leaves every list (`leaving`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Mode(StrEnum):
    OFFER = "offer"  # an offer with a deadline
    MOVE_UP = "move_up"  # enrolled at once


class WaitingListError(ValueError):
    """A move the rules do not allow (an offer accepted too late, or twice)."""


@dataclass(frozen=True)
class Entry:
    """One person on the list: waiting, or holding an offer until `offered_until`."""

    id: int
    person: int
    registered_at: datetime
    offered_until: datetime | None = None

    @property
    def offered(self) -> bool:
        return self.offered_until is not None

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.registered_at, self.id)


@dataclass(frozen=True)
class WaitingList:
    """A cohort's list as the rules see it. `capacity` None: no limit."""

    entries: tuple[Entry, ...]
    capacity: int | None
    enrolled: int
    mode: Mode = Mode.OFFER
    begun: bool = False
    offer_days: int = 3

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.entries, key=lambda e: e.order))
        object.__setattr__(self, "entries", ordered)
        people = [e.person for e in ordered]
        if len(set(people)) != len(people):
            raise WaitingListError("a person is on the list twice")

    @property
    def waiting(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.offered)

    @property
    def offers(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.offered)

    @property
    def held(self) -> int:
        """Places taken: enrolments and open offers."""
        return self.enrolled + len(self.offers)

    @property
    def free(self) -> int | None:
        """Places nobody holds (None: no limit)."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.held, 0)


@dataclass(frozen=True)
class Offer:
    entry: int
    person: int
    until: datetime


@dataclass(frozen=True)
class Moves:
    """What to do: offers to make, entries to enrol at once, offers that
    end (expired or declined), entries that leave the list for the next
    cohort's, and entries that leave it as withdrawn."""

    offers: tuple[Offer, ...] = ()
    move_up: tuple[int, ...] = ()
    expired: tuple[int, ...] = ()
    declined: tuple[int, ...] = ()
    carried: tuple[int, ...] = ()
    withdrawn: tuple[int, ...] = field(default=())

    @property
    def nothing(self) -> bool:
        return not (
            self.offers
            or self.move_up
            or self.expired
            or self.declined
            or self.carried
            or self.withdrawn
        )


def position(waiting_list: WaitingList, entry_id: int) -> int | None:
    """The entry's place among those waiting, from 1; None when it holds an
    offer or is not on the list."""
    for number, entry in enumerate(waiting_list.waiting, start=1):
        if entry.id == entry_id:
            return number
    return None


def fill(waiting_list: WaitingList, now: datetime) -> Moves:
    """The places free now, given to the first people waiting, one each."""
    if waiting_list.begun:
        return Moves()
    free = waiting_list.free
    waiting = waiting_list.waiting
    chosen = waiting if free is None else waiting[:free]
    if waiting_list.mode is Mode.MOVE_UP:
        return Moves(move_up=tuple(e.id for e in chosen))
    until = now + timedelta(days=waiting_list.offer_days)
    return Moves(offers=tuple(Offer(e.id, e.person, until) for e in chosen))


def expire(waiting_list: WaitingList, now: datetime) -> Moves:
    """Offers whose deadline has passed end; their places go to the next."""
    ended = tuple(e.id for e in waiting_list.offers if e.offered_until <= now)  # type: ignore[operator]
    rest = apply(waiting_list, Moves(expired=ended), now)
    return _then(Moves(expired=ended), fill(rest, now))


def decline(waiting_list: WaitingList, entry_id: int, now: datetime) -> Moves:
    """The offer of `entry_id` declined; its place goes to the next."""
    entry = _entry(waiting_list, entry_id)
    if not entry.offered:
        raise WaitingListError("only an offer can be declined")
    rest = apply(waiting_list, Moves(declined=(entry_id,)), now)
    return _then(Moves(declined=(entry_id,)), fill(rest, now))


def accept(waiting_list: WaitingList, entry_id: int, now: datetime) -> None:
    """Refuses an acceptance the rules do not allow; the service then enrols
    the person (the enrolment takes the place the offer held)."""
    entry = _entry(waiting_list, entry_id)
    if not entry.offered:
        raise WaitingListError("there is no open offer to accept")
    if entry.offered_until <= now:  # type: ignore[operator]
        raise WaitingListError("the offer has expired")
    if waiting_list.begun:
        raise WaitingListError("the cohort has begun")


def leaving(waiting_list: WaitingList, person: int, now: datetime) -> Moves:
    """The person leaves the list (withdrawn); an offer they held goes to the next."""
    mine = tuple(e.id for e in waiting_list.entries if e.person == person)
    if not mine:
        return Moves()
    rest = apply(waiting_list, Moves(withdrawn=mine), now)
    return _then(Moves(withdrawn=mine), fill(rest, now))


def started(waiting_list: WaitingList) -> Moves:
    """The cohort's first session has begun: open offers end, and everyone
    on the list is carried to the next cohort's list."""
    return Moves(
        expired=tuple(e.id for e in waiting_list.offers),
        carried=tuple(e.id for e in waiting_list.waiting),
    )


def carry_into(target: WaitingList, arrivals: Iterable[Entry]) -> WaitingList:
    """The next cohort's list with the people carried over, without any
    offer and keeping their time of registration; someone on it already
    keeps their own entry there."""
    present = {e.person for e in target.entries}
    added = tuple(replace(a, offered_until=None) for a in arrivals if a.person not in present)
    return replace(target, entries=target.entries + added)


def apply(waiting_list: WaitingList, moves: Moves, now: datetime) -> WaitingList:
    """The list after `moves` (what the service's rows say once it carried
    them out): offers made, people enrolled, entries gone."""
    offered = {o.entry: o.until for o in moves.offers}
    gone = set(moves.move_up) | set(moves.expired) | set(moves.declined)
    gone |= set(moves.carried) | set(moves.withdrawn)
    entries = tuple(
        replace(e, offered_until=offered[e.id]) if e.id in offered else e
        for e in waiting_list.entries
        if e.id not in gone
    )
    return replace(
        waiting_list, entries=entries, enrolled=waiting_list.enrolled + len(moves.move_up)
    )


def accepted(waiting_list: WaitingList, entry_id: int) -> WaitingList:
    """The list after the offer of `entry_id` was accepted: one more enrolled."""
    entries = tuple(e for e in waiting_list.entries if e.id != entry_id)
    return replace(waiting_list, entries=entries, enrolled=waiting_list.enrolled + 1)


def _entry(waiting_list: WaitingList, entry_id: int) -> Entry:
    for entry in waiting_list.entries:
        if entry.id == entry_id:
            return entry
    raise WaitingListError("not on the list")


def _then(first: Moves, second: Moves) -> Moves:
    return Moves(
        offers=first.offers + second.offers,
        move_up=first.move_up + second.move_up,
        expired=first.expired + second.expired,
        declined=first.declined + second.declined,
        carried=first.carried + second.carried,
        withdrawn=first.withdrawn + second.withdrawn,
    )
