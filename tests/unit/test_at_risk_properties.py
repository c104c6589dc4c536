"""For any marks, session days and today: a person is at risk exactly when,
attending everything their cohort still has, they would not be eligible;
and making up every element the risk names (as booked) makes them eligible."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cohorts.at_risk import assess, secured
from cohorts.eligibility import Attendance, Booking, Mark, attended, decide
from curricula.model import CertificateRule
from curricula.shipped import shipped

START = date(2027, 1, 4)
CURRICULA = [
    shipped()["blended"],
    shipped()["compact"],
    replace(shipped()["compact"], certificate=CertificateRule(min_hours_share=0.8)),
    replace(
        shipped()["blended"],
        certificate=replace(shipped()["blended"].certificate, min_hours_share=0.9),
    ),
]


@st.composite
def worlds(draw):
    curriculum = draw(st.sampled_from(CURRICULA))
    records, sessions = {}, {}
    for element in curriculum.elements:
        days = draw(st.lists(st.integers(0, 60), max_size=2))
        if days:
            sessions[element.key] = [START + timedelta(days=d) for d in days]
        if not days and draw(st.booleans()):
            continue  # no session, no record
        mark = draw(st.sampled_from(list(Mark)))
        records[element.key] = Attendance(
            mark=mark,
            minutes_missed=draw(st.integers(0, 300)) if mark is Mark.PARTLY else 0,
            day=sessions[element.key][-1] if days else None,
            made_up=START if draw(st.integers(0, 9)) == 0 else None,
        )
    today = START + timedelta(days=draw(st.integers(0, 70)))
    return curriculum, records, sessions, today


def best_case(curriculum, records, sessions, today):
    """Everything the cohort still brings, attended."""
    best = dict(records)
    for element in curriculum.elements:
        record = records.get(element.key, Attendance())
        days = sessions.get(element.key, ())
        if secured(element.key, record, days, today, curriculum) and not attended(element, record):
            best[element.key] = replace(
                record, mark=Mark.DONE if element.all_day else Mark.PRESENT
            )
    return best


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_at_risk_exactly_when_the_own_cohort_cannot_bring_the_certificate(world):
    curriculum, records, sessions, today = world
    risk = assess(curriculum, records, sessions, today)
    best = best_case(curriculum, records, sessions, today)
    assert risk.at_risk == (not decide(curriculum, best).eligible)


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_making_up_what_the_risk_names_saves_the_certificate(world):
    curriculum, records, sessions, today = world
    risk = assess(curriculum, records, sessions, today)
    booked = dict(records)
    for key in risk.elements:
        booked[key] = replace(
            records.get(key, Attendance()), booked=Booking(today + timedelta(days=7), "B")
        )
    after = assess(curriculum, booked, sessions, today)
    assert after.saved == risk.at_risk
    # Once the booked make-ups are attended, the person is eligible at best.
    made = {
        key: replace(record, made_up=today + timedelta(days=7), booked=None)
        if record.booked
        else record
        for key, record in booked.items()
    }
    assert decide(curriculum, best_case(curriculum, made, sessions, today)).eligible
    assert not assess(curriculum, made, sessions, today).at_risk


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_make_ups_waiting_for_their_marks_save_nothing_and_are_named(world):
    curriculum, records, sessions, today = world
    risk = assess(curriculum, records, sessions, today)
    waiting = dict(records)
    for key in risk.elements:
        waiting[key] = replace(
            records.get(key, Attendance()),
            booked=Booking(today, "B", awaiting_mark=True),
        )
    after = assess(curriculum, waiting, sessions, today)
    # The same parts are lost, none of them saved, each naming what waits.
    assert [lost.elements for lost in after.lost] == [lost.elements for lost in risk.lost]
    assert not after.saved
    assert after.awaiting == risk.elements
    assert all(lost.booked == () for lost in after.lost)
    assert all("attendance not recorded yet" in str(lost.reason) for lost in after.lost)
