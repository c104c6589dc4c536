from datetime import date, datetime, time, timedelta

import pytest

from cohorts.calendar import WorkingCalendar
from cohorts.errors import InvalidDelivery, PlanningError, UnknownTimezone
from cohorts.scheduling import plan, tied_earlier
from curricula.loader import load_text
from curricula.messages import Message
from curricula.model import Curriculum, Mode, Text
from curricula.shipped import shipped

COMPACT = shipped()["compact"]
BLENDED = shipped()["blended"]


def two_sessions(gap: str) -> Curriculum:
    """Two webinars, the second a `gap` after the first."""
    webinar = (
        'kind = "webinar"\ntitle = {{ de = "{0}", en = "{0}" }}\nmode = "online"\n'
        'start = "10:00"\nduration = "2h"\n'
    )
    return load_text(
        'key = "pair"\nversion = 1\ntitle = { de = "P", en = "P" }\n'
        f'[[elements]]\nkey = "first"\n{webinar.format("First")}'
        f'[[elements]]\nkey = "second"\n{webinar.format("Second")}gap = {gap}\n'
    )


def days(schedule):
    return {s.element: (s.first_day, s.last_day) for s in schedule.sessions}


def _values(message):
    """Every value of a message and of the messages within it."""
    for _, value in message.values:
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Message):
                yield from _values(item)
            else:
                yield item


def test_compact_in_berlin_keeps_the_seminar_days_together():
    schedule = plan(COMPACT, date(2027, 5, 26), WorkingCalendar("DE-BE"))
    assert days(schedule)["seminar-1"][0] == date(2027, 5, 26)
    assert days(schedule)["seminar-2"][0] == date(2027, 5, 27)
    assert schedule.notes == ()


def test_compact_in_baden_wuerttemberg_skips_fronleichnam():
    schedule = plan(COMPACT, date(2027, 5, 26), WorkingCalendar("DE-BW"))
    assert days(schedule)["seminar-2"][0] == date(2027, 5, 28)
    [note] = schedule.notes
    assert note.element == "seminar-2"
    assert note.code == "closed_days_skipped"
    # str() is the English text; the note keeps the German name for the shell.
    assert "2027-05-27 is a public holiday (Corpus Christi)" in str(note)
    assert Text("Fronleichnam", "Corpus Christi") in _values(note.message)


def test_reformationstag_in_saxony_but_not_in_baden_wuerttemberg():
    start = date(2028, 10, 30)  # a Monday
    saxony = plan(COMPACT, start, WorkingCalendar("DE-SN"))
    baden = plan(COMPACT, start, WorkingCalendar("DE-BW"))
    # In SN, 31 October is Reformationstag; in BW the seminar goes on, but 1 November
    # (Allerheiligen) is a holiday there - it does not matter for the second day.
    assert days(saxony)["seminar-2"][0] == date(2028, 11, 1)
    assert days(baden)["seminar-2"][0] == date(2028, 10, 31)


def test_christmas_and_new_year_with_company_closure():
    closure = {date(2026, 12, 24) + timedelta(days=n): "Betriebsruhe" for n in range(8)}
    schedule = plan(COMPACT, date(2026, 12, 23), WorkingCalendar("DE-BW", closure))
    # 24-31 Dec closed, 1 Jan Neujahr, 2-3 Jan weekend, 6 Jan not reached.
    assert days(schedule)["seminar-2"][0] == date(2027, 1, 4)
    assert "2027-01-01 is a public holiday (New Year's Day)" in str(schedule.notes[0])
    assert "2026-12-24 is a closure day (Betriebsruhe)" in str(schedule.notes[0])


def test_a_start_on_a_holiday_moves_to_the_next_working_day_with_a_note():
    schedule = plan(COMPACT, date(2027, 1, 6), WorkingCalendar("DE-BY"))
    assert days(schedule)["seminar-1"][0] == date(2027, 1, 7)
    assert schedule.notes[0].code == "start_moved"
    assert "is a public holiday (Epiphany)" in str(schedule.notes[0])
    assert Text("Heilige Drei Könige", "Epiphany") in _values(schedule.notes[0].message)


def test_a_gap_prefers_its_length_and_moves_to_the_nearest_working_day():
    schedule = plan(BLENDED, date(2027, 1, 11), WorkingCalendar("DE-BY"))
    # Practice day 16 Feb + 3 months = Sunday 16 May; Monday 17 May is Pfingstmontag,
    # Saturday 15 May is a weekend: Tuesday 18 May is the nearest working day.
    assert days(schedule)["practice-day"][0] == date(2027, 2, 16)
    assert days(schedule)["checkpoint-1"][0] == date(2027, 5, 18)
    [note] = schedule.notes
    assert note.code == "gap_adjusted"
    assert note.element == "checkpoint-1"


def test_on_a_tie_the_later_day_is_taken():
    curriculum = two_sessions('{ min = "1d", preferred = "5d", max = "3w" }')
    # Wed 3 Mar + 5 days = Mon 8 Mar, Frauentag in Berlin: Tue 9 and Sun 7 are both
    # one day away; Sunday is closed anyway, so Tuesday.
    schedule = plan(curriculum, date(2027, 3, 3), WorkingCalendar("DE-BE"))
    assert days(schedule)["second"][0] == date(2027, 3, 9)
    # With Tuesday closed as well, Friday 5 (3 days before) ties with Thursday 11
    # (3 days after): the later one keeps the gap at least as long as preferred.
    closed = WorkingCalendar("DE-BE", [date(2027, 3, 9), date(2027, 3, 10)])
    assert days(plan(curriculum, date(2027, 3, 3), closed))["second"][0] == date(2027, 3, 11)


def test_spans_end_on_the_last_working_day_inside_their_length():
    schedule = plan(BLENDED, date(2027, 1, 11), WorkingCalendar("DE-BY"))
    first, last = days(schedule)["video-1"]
    assert first == date(2027, 1, 12)
    assert last == date(2027, 1, 25)  # 2 weeks from a Tuesday end on a Monday
    schedule = plan(BLENDED, date(2027, 3, 12), WorkingCalendar("DE-BY"))
    # Video 1 from Mon 15 Mar would end Sun 28 Mar (Easter); Sat 27 is a weekend and
    # Fri 26 is Karfreitag, so it ends on Thursday 25 Mar.
    assert days(schedule)["video-1"] == (date(2027, 3, 15), date(2027, 3, 25))


def test_sessions_keep_local_time_across_daylight_saving():
    schedule = plan(BLENDED, date(2027, 1, 11), WorkingCalendar("DE-BY"))
    by_key = {s.element: s for s in schedule.sessions}
    winter, summer = by_key["practice-day"].start, by_key["checkpoint-1"].start
    assert isinstance(winter, datetime)
    assert isinstance(summer, datetime)
    assert winter.time() == time(9, 0)
    assert winter.utcoffset() == timedelta(hours=1)
    assert summer.time() == time(14, 0)
    assert summer.utcoffset() == timedelta(hours=2)
    assert by_key["checkpoint-1"].end.time() == time(16, 0)


def test_other_time_zones():
    schedule = plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"), tz="America/New_York")
    start = schedule.sessions[0].start
    assert isinstance(start, datetime)
    assert start.time() == time(9, 0)
    assert start.utcoffset() == timedelta(hours=-5)
    assert schedule.timezone == "America/New_York"


def test_delivery_decides_either_elements_only():
    schedule = plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"), delivery=Mode.ONLINE)
    assert {s.mode for s in schedule.sessions} == {Mode.ONLINE}
    undecided = plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"))
    assert {s.mode for s in undecided.sessions} == {Mode.EITHER}
    blended = plan(BLENDED, date(2027, 3, 1), WorkingCalendar("DE-BE"), delivery=Mode.ONLINE)
    assert {s.element: s.mode for s in blended.sessions}["kickoff"] is Mode.IN_PERSON


def test_bad_delivery_and_time_zone():
    with pytest.raises(InvalidDelivery):
        plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"), delivery=Mode.SELF_PACED)
    with pytest.raises(UnknownTimezone, match="'Mars/Olympus' is not a known time zone; a name"):
        plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"), tz="Mars/Olympus")
    with pytest.raises(UnknownTimezone, match="the time zone is missing; a name such as"):
        plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE"), tz=" ")


def test_a_gap_without_room_fails_naming_element_and_rule():
    curriculum = two_sessions('{ preferred = "5d" }')
    # Monday + 5 days is a Saturday, and the gap has no room to move.
    with pytest.raises(PlanningError) as caught:
        plan(curriculum, date(2027, 3, 1), WorkingCalendar("DE-BE"))
    assert caught.value.element == "second"
    assert caught.value.rule == "gap 5d..5d after first"
    assert caught.value.window == (date(2027, 3, 6), date(2027, 3, 6))
    assert str(caught.value) == (
        "second: no working day in DE-BE between 2027-03-06 and 2027-03-06 "
        "(a gap of 5d to 5d after first, which ends on 2027-03-01)"
    )


def test_a_region_closed_for_a_year_fails_clearly():
    closed = [date(2027, 3, 2) + timedelta(days=n) for n in range(400)]
    with pytest.raises(PlanningError, match="seminar-2: no working day in DE-BE within a year"):
        plan(COMPACT, date(2027, 3, 1), WorkingCalendar("DE-BE", closed))


def test_same_input_same_schedule():
    one = plan(BLENDED, date(2027, 9, 6), WorkingCalendar("DE-NW"))
    two = plan(BLENDED, date(2027, 9, 6), WorkingCalendar("DE-NW"))
    assert one == two
    assert one.last_day - one.first_day > timedelta(days=200)  # about seven months


def test_fixed_days_stay_and_their_dependents_follow():
    calendar = WorkingCalendar("DE-BY")
    planned = days(plan(BLENDED, date(2027, 1, 11), calendar))
    moved = days(
        plan(
            BLENDED,
            date(2027, 1, 11),
            calendar,
            fixed={"kickoff": date(2027, 1, 13), "webinar": date(2027, 1, 28)},
        )
    )
    assert moved["kickoff"][0] == date(2027, 1, 13)
    assert moved["video-1"] == (date(2027, 1, 14), date(2027, 1, 27))
    assert moved["webinar"][0] == date(2027, 1, 28)
    # Video 2 follows the webinar on the next working day, the rest follows it.
    assert moved["video-2"][0] == date(2027, 1, 29)
    assert moved["practice-day"][0] > planned["practice-day"][0]


def test_a_fixed_day_may_not_break_its_rule():
    calendar = WorkingCalendar("DE-BY")
    with pytest.raises(PlanningError) as caught:
        plan(BLENDED, date(2027, 1, 11), calendar, fixed={"webinar": date(2027, 1, 20)})
    assert str(caught.value) == (
        "Interim webinar: reflecting on content and learning hurdles cannot be on 2027-01-20: "
        "it follows video-1, which ends on 2027-01-25"
    )
    with pytest.raises(PlanningError) as caught:
        plan(COMPACT, date(2027, 3, 1), calendar, fixed={"reflection": date(2027, 3, 10)})
    assert caught.value.element == "reflection"
    assert caught.value.window == (date(2027, 3, 23), date(2027, 9, 2))
    assert "it comes 3w to 6m after seminar-2" in str(caught.value)
    with pytest.raises(PlanningError, match="2027-03-06 is a weekend day"):
        plan(COMPACT, date(2027, 3, 1), calendar, fixed={"seminar-2": date(2027, 3, 6)})


def test_a_pinned_session_keeps_its_day_when_an_earlier_one_moves():
    calendar = WorkingCalendar("DE-BY")
    fixed = {"seminar-1": date(2027, 3, 3), "reflection": date(2027, 5, 3)}
    moved = days(plan(COMPACT, date(2027, 3, 1), calendar, fixed=fixed))
    assert moved["seminar-1"][0] == date(2027, 3, 3)
    assert moved["seminar-2"][0] == date(2027, 3, 4)
    assert moved["reflection"][0] == date(2027, 5, 3)


def test_the_next_working_day_holds_in_both_directions():
    calendar = WorkingCalendar("DE-BY")
    # Seminar day 2 months after day 1 is as wrong as before it.
    with pytest.raises(PlanningError) as caught:
        plan(COMPACT, date(2027, 3, 1), calendar, fixed={"seminar-2": date(2027, 6, 1)})
    assert caught.value.element == "seminar-2"
    assert caught.value.window == (date(2027, 3, 2), date(2027, 3, 2))
    assert str(caught.value) == (
        "Seminar day 2: the companion process cannot be on 2027-06-01: it comes on the next "
        "working day after seminar-1, which ends on 2027-03-01, so on 2027-03-02"
    )
    # The day after a holiday is the next working day, and only that one.
    assert days(plan(COMPACT, date(2027, 5, 26), WorkingCalendar("DE-BW")))["seminar-2"] == (
        date(2027, 5, 28),
        date(2027, 5, 28),
    )
    with pytest.raises(PlanningError, match="so on 2027-05-28"):
        plan(
            COMPACT,
            date(2027, 5, 26),
            WorkingCalendar("DE-BW"),
            fixed={"seminar-1": date(2027, 5, 26), "seminar-2": date(2027, 5, 31)},
        )


def test_a_gap_holds_in_both_directions():
    calendar = WorkingCalendar("DE-BY")
    fixed = {"seminar-1": date(2027, 3, 1), "seminar-2": date(2027, 3, 2)}
    with pytest.raises(PlanningError, match="between 2027-03-23 and 2027-09-02"):
        plan(COMPACT, date(2027, 3, 1), calendar, fixed={**fixed, "reflection": date(2027, 9, 6)})
    with pytest.raises(PlanningError, match="between 2027-03-23 and 2027-09-02"):
        plan(COMPACT, date(2027, 3, 1), calendar, fixed={**fixed, "reflection": date(2027, 3, 22)})


def spans_of(schedule):
    return {s.element: (s.first_day, s.last_day) for s in schedule.sessions}


def test_earlier_sessions_tied_by_a_rule_can_move_along():
    calendar = WorkingCalendar("DE-BY")
    now = spans_of(plan(COMPACT, date(2027, 3, 1), calendar))
    movable = set(now)
    # Seminar day 2 three months later: day 1 comes along to the working day before.
    assert tied_earlier(COMPACT, calendar, now, "seminar-2", date(2027, 6, 2), movable) == {
        "seminar-1": date(2027, 6, 1)
    }
    # On a Monday, day 1 is the Friday before.
    assert tied_earlier(COMPACT, calendar, now, "seminar-2", date(2027, 6, 7), movable) == {
        "seminar-1": date(2027, 6, 4)
    }
    # A reflection day inside its gap ties nothing.
    assert tied_earlier(COMPACT, calendar, now, "reflection", date(2027, 5, 3), movable) == {}
    # Beyond the gap, the seminar days come along, as far as the reflection day
    # moved (7 months and a few days), on working days that keep their rules.
    pulled = tied_earlier(COMPACT, calendar, now, "reflection", date(2027, 12, 6), movable)
    assert pulled == {"seminar-2": date(2027, 10, 11), "seminar-1": date(2027, 10, 8)}
    moved = plan(
        COMPACT, pulled["seminar-1"], calendar, fixed={**pulled, "reflection": date(2027, 12, 6)}
    )
    assert spans_of(moved)["reflection"][0] == date(2027, 12, 6)


def test_a_session_that_cannot_move_along_is_named():
    calendar = WorkingCalendar("DE-BY")
    now = spans_of(plan(COMPACT, date(2027, 3, 1), calendar))
    with pytest.raises(PlanningError) as caught:
        tied_earlier(COMPACT, calendar, now, "seminar-2", date(2027, 6, 2), {"reflection"})
    assert caught.value.element == "seminar-2"
    assert "Seminar day 1: role, learning formats and learning theory is tied to it" in str(
        caught.value
    )


def test_tied_sessions_move_back_along_a_chain_of_spans():
    calendar = WorkingCalendar("DE-BY")
    now = spans_of(plan(BLENDED, date(2027, 1, 11), calendar))
    pulled = tied_earlier(BLENDED, calendar, now, "webinar", date(2027, 1, 28), set(now))
    assert pulled == {"video-1": date(2027, 1, 14), "kickoff": date(2027, 1, 13)}
