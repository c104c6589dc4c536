"""The waiting list's rules under random histories: registrations,
withdrawals, capacity changes, offers accepted, declined and expired, and
the cohort beginning. Every invariant holds after every step."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cohorts.waiting_list import (
    Entry,
    Mode,
    Moves,
    WaitingList,
    WaitingListError,
    accept,
    accepted,
    apply,
    carry_into,
    decline,
    expire,
    fill,
    leaving,
    position,
    started,
)

START = datetime(2026, 3, 2, 8, tzinfo=UTC)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("register")),
        st.tuples(st.just("withdraw_enrolled")),
        st.tuples(st.just("leave"), st.integers(0, 30)),
        st.tuples(st.just("capacity"), st.integers(-3, 3)),
        st.tuples(st.just("accept"), st.integers(0, 30)),
        st.tuples(st.just("decline"), st.integers(0, 30)),
        st.tuples(st.just("time"), st.integers(1, 100)),  # hours pass, offers expire
        st.tuples(st.just("begin")),
    ),
    max_size=60,
)


class History:
    """A cohort and its list, as the service keeps them, with what the rules
    gave out checked at every step."""

    def __init__(self, capacity: int, mode: Mode, enrolled: int) -> None:
        self.list = WaitingList((), capacity=capacity, enrolled=enrolled, mode=mode)
        self.now = START
        self.next_id = 1
        self.enrolled_people: list[int] = [-(i + 1) for i in range(enrolled)]
        self.ever_given: list[int] = []  # entries offered or moved up, in the order given

    def carry_out(self, moves: Moves) -> None:
        before = self.list
        given = [o.entry for o in moves.offers] + list(moves.move_up)
        # Two places go to two different people, each once.
        people = [o.person for o in moves.offers] + [
            e.person for e in before.entries if e.id in moves.move_up
        ]
        assert len(set(people)) == len(people)
        assert len(set(given)) == len(given)
        # Only the first ones waiting get places, in order (nobody jumps the list).
        remaining = apply(before, replace(moves, offers=(), move_up=()), self.now)
        waiting_ids = [e.id for e in remaining.waiting]
        assert waiting_ids[: len(given)] == sorted(given, key=waiting_ids.index)
        assert set(given) <= set(waiting_ids[: len(given)])
        if given:
            assert not before.begun
        for offer in moves.offers:
            assert offer.until > self.now
        self.list = apply(before, moves, self.now)
        self.enrolled_people += [e.person for e in before.entries if e.id in moves.move_up]
        self.ever_given += given
        # Staff may lower the capacity below the places taken; the list
        # itself never gives a place beyond it.
        self.check(may_exceed=not given)

    def check(self, *, may_exceed: bool = False) -> None:
        waiting_list = self.list
        # Order kept: entries by registration, everyone offered before anyone waiting.
        orders = [e.order for e in waiting_list.entries]
        assert orders == sorted(orders)
        offered = [e.order for e in waiting_list.offers]
        still = [e.order for e in waiting_list.waiting]
        if offered and still:
            assert max(offered) < min(still)
        # One entry, so at most one offer, per person.
        people = [e.person for e in waiting_list.entries]
        assert len(people) == len(set(people))
        # Nobody enrolled is still on the list.
        assert not set(people) & set(self.enrolled_people)
        # Capacity never exceeded by what the list gave out.
        if waiting_list.capacity is not None and not may_exceed:
            assert waiting_list.held <= waiting_list.capacity
        # No place left free while someone waits (before the cohort begins).
        if not waiting_list.begun and waiting_list.waiting:
            assert waiting_list.free == 0
        # Positions are 1, 2, 3… of those waiting.
        numbers = [position(waiting_list, e.id) for e in waiting_list.waiting]
        assert numbers == list(range(1, len(numbers) + 1))
        if waiting_list.begun:
            assert not waiting_list.offers

    def pick(self, index: int, entries: tuple[Entry, ...]) -> Entry | None:
        return entries[index % len(entries)] if entries else None

    def step(self, name: str, *args: int) -> None:
        waiting_list = self.list
        if name == "register":
            person = self.next_id
            self.next_id += 1
            self.now += timedelta(minutes=1)
            free = waiting_list.free
            if (free is None or free > 0) and not waiting_list.entries and not waiting_list.begun:
                # A place is free and nobody waits: enrolled directly.
                self.list = replace(waiting_list, enrolled=waiting_list.enrolled + 1)
                self.enrolled_people.append(person)
                self.check()
                return
            entry = Entry(id=person, person=person, registered_at=self.now)
            self.list = replace(waiting_list, entries=waiting_list.entries + (entry,))
            self.carry_out(fill(self.list, self.now))
        elif name == "withdraw_enrolled":
            if not self.enrolled_people:
                return
            self.enrolled_people.pop(0)
            self.list = replace(waiting_list, enrolled=waiting_list.enrolled - 1)
            self.carry_out(fill(self.list, self.now))
        elif name == "leave":
            entry = self.pick(args[0], waiting_list.entries)
            if entry is not None:
                self.carry_out(leaving(waiting_list, entry.person, self.now))
        elif name == "capacity":
            capacity = max((waiting_list.capacity or 0) + args[0], 0)
            self.list = replace(waiting_list, capacity=capacity)
            self.carry_out(fill(self.list, self.now))
        elif name == "accept":
            entry = self.pick(args[0], waiting_list.entries)
            if entry is None:
                return
            try:
                accept(waiting_list, entry.id, self.now)
            except WaitingListError:
                assert (
                    not entry.offered
                    or entry.offered_until <= self.now  # type: ignore[operator]
                    or waiting_list.begun
                )
                return
            held = waiting_list.held
            self.list = accepted(waiting_list, entry.id)
            self.enrolled_people.append(entry.person)
            assert self.list.held == held  # the enrolment takes the offer's place
            self.check(may_exceed=True)
        elif name == "decline":
            entry = self.pick(args[0], waiting_list.offers)
            if entry is not None:
                self.carry_out(decline(waiting_list, entry.id, self.now))
        elif name == "time":
            self.now += timedelta(hours=args[0])
            moves = expire(waiting_list, self.now)
            for entry_id in moves.expired:
                assert next(e for e in waiting_list.entries if e.id == entry_id).offered
            self.carry_out(moves)
            assert all(e.offered_until > self.now for e in self.list.offers)  # type: ignore[operator]
        elif name == "begin":
            if waiting_list.begun:
                return
            moves = started(waiting_list)
            self.list = replace(apply(waiting_list, moves, self.now), begun=True)
            assert not self.list.entries
            self.check(may_exceed=True)


@settings(max_examples=300, deadline=None)
@given(
    steps=steps,
    capacity=st.integers(0, 4),
    enrolled=st.integers(0, 4),
    mode=st.sampled_from(list(Mode)),
)
def test_every_history_keeps_the_order_the_capacity_and_one_offer_a_person(
    steps, capacity, enrolled, mode
):
    history = History(capacity, mode, min(enrolled, capacity))
    for step in steps:
        history.step(*step)
    # Places were given in the order people registered (entry ids grow with time).
    assert history.ever_given == sorted(history.ever_given)


@settings(max_examples=200, deadline=None)
@given(
    waiting=st.integers(0, 6),
    freed=st.integers(0, 6),
    mode=st.sampled_from(list(Mode)),
)
def test_places_freeing_at_once_go_to_as_many_different_people(waiting, freed, mode):
    entries = tuple(Entry(i, 100 + i, START + timedelta(minutes=i)) for i in range(1, waiting + 1))
    waiting_list = WaitingList(entries, capacity=10, enrolled=10 - freed, mode=mode)
    moves = fill(waiting_list, START)
    given = [o.person for o in moves.offers] + [100 + i for i in moves.move_up]
    assert len(given) == len(set(given)) == min(waiting, freed)
    assert sorted(given) == [100 + i for i in range(1, min(waiting, freed) + 1)]


@settings(max_examples=200, deadline=None)
@given(
    first=st.lists(st.integers(0, 20), unique=True, max_size=8),
    second=st.lists(st.integers(0, 20), unique=True, max_size=8),
)
def test_carried_people_keep_their_time_and_nobody_is_on_a_list_twice(first, second):
    def entries(people, offset):
        return tuple(
            Entry(offset + n, person, START + timedelta(minutes=person * 2 + offset % 2))
            for n, person in enumerate(people)
        )

    target = WaitingList(entries(second, 1000), capacity=0, enrolled=0)
    arrivals = entries(first, 2000)
    merged = carry_into(target, arrivals)
    people = [e.person for e in merged.entries]
    assert sorted(people) == sorted(set(first) | set(second))
    orders = [e.order for e in merged.entries]
    assert orders == sorted(orders)
    assert not merged.offers
