"""The waiting list's rules in the cases a planner would name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cohorts.waiting_list import (
    Entry,
    Mode,
    WaitingList,
    WaitingListError,
    accept,
    decline,
    expire,
    fill,
    leaving,
    position,
    started,
)

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def entry(number: int, *, offered_days: float | None = None) -> Entry:
    until = NOW + timedelta(days=offered_days) if offered_days is not None else None
    return Entry(number, 100 + number, NOW - timedelta(hours=10 - number), until)


def test_a_freed_place_is_offered_to_the_first_with_a_deadline():
    waiting_list = WaitingList((entry(2), entry(1), entry(3)), capacity=5, enrolled=4)
    moves = fill(waiting_list, NOW)
    assert [(o.entry, o.until) for o in moves.offers] == [(1, NOW + timedelta(days=3))]
    assert moves.move_up == ()


def test_in_move_up_mode_the_first_is_enrolled_at_once():
    waiting_list = WaitingList((entry(1), entry(2)), capacity=5, enrolled=4, mode=Mode.MOVE_UP)
    assert fill(waiting_list, NOW).move_up == (1,)


def test_an_open_offer_holds_its_place():
    waiting_list = WaitingList((entry(1, offered_days=1), entry(2)), capacity=5, enrolled=4)
    assert fill(waiting_list, NOW).nothing
    assert position(waiting_list, 2) == 1
    assert position(waiting_list, 1) is None


def test_an_expired_or_declined_offer_goes_to_the_next():
    waiting_list = WaitingList(
        (entry(1, offered_days=-0.1), entry(2), entry(3)), capacity=5, enrolled=4
    )
    moves = expire(waiting_list, NOW)
    assert moves.expired == (1,)
    assert [o.entry for o in moves.offers] == [2]
    open_offer = WaitingList((entry(1, offered_days=1), entry(2)), capacity=5, enrolled=4)
    moves = decline(open_offer, 1, NOW)
    assert moves.declined == (1,)
    assert [o.entry for o in moves.offers] == [2]


def test_an_offer_cannot_be_accepted_late_or_after_the_start():
    late = WaitingList((entry(1, offered_days=-0.1),), capacity=5, enrolled=4)
    with pytest.raises(WaitingListError, match="expired"):
        accept(late, 1, NOW)
    begun = WaitingList((entry(1, offered_days=1),), capacity=5, enrolled=4, begun=True)
    with pytest.raises(WaitingListError, match="begun"):
        accept(begun, 1, NOW)
    waiting = WaitingList((entry(1),), capacity=5, enrolled=5)
    with pytest.raises(WaitingListError, match="no open offer"):
        accept(waiting, 1, NOW)


def test_nobody_moves_up_after_the_start_and_the_list_is_carried_on():
    waiting_list = WaitingList(
        (entry(1, offered_days=1), entry(2), entry(3)), capacity=9, enrolled=4, begun=True
    )
    assert fill(waiting_list, NOW).nothing
    moves = started(waiting_list)
    assert moves.expired == (1,)
    assert moves.carried == (2, 3)


def test_a_person_who_leaves_hands_their_offer_on():
    waiting_list = WaitingList((entry(1, offered_days=1), entry(2)), capacity=5, enrolled=4)
    moves = leaving(waiting_list, 101, NOW)
    assert moves.withdrawn == (1,)
    assert [o.entry for o in moves.offers] == [2]
    assert leaving(waiting_list, 999, NOW).nothing


def test_a_person_is_on_a_list_once():
    with pytest.raises(WaitingListError):
        WaitingList((entry(1), Entry(2, 101, NOW)), capacity=1, enrolled=1)
