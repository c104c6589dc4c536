"""Who can no longer reach the certificate in their own cohort, and why; and
the eligibility reasons naming a booked make-up."""

from dataclasses import replace
from datetime import date

from cohorts.at_risk import Part, assess
from cohorts.eligibility import Attendance, Booking, Mark, decide
from curricula.model import CertificateRule
from curricula.shipped import shipped

BLENDED = shipped()["blended"]
COMPACT = shipped()["compact"]

DAYS = {
    "seminar-1": date(2027, 3, 1),
    "seminar-2": date(2027, 3, 2),
    "reflection": date(2027, 5, 3),
}
SESSIONS = {key: [day] for key, day in DAYS.items()}


def compact(**marks):
    return {key: Attendance(marks.get(key, Mark.PRESENT), day=DAYS[key]) for key in DAYS}


def test_an_absence_with_no_later_session_left_is_at_risk_with_its_reason():
    records = compact(**{"seminar-2": Mark.ABSENT, "reflection": Mark.NOT_RECORDED})
    risk = assess(COMPACT, records, SESSIONS, date(2027, 3, 10))
    assert risk.at_risk
    assert not risk.saved
    assert [(lost.part, lost.elements, lost.needed) for lost in risk.lost] == [
        (Part.ELEMENT, ("seminar-2",), 1)
    ]
    assert [str(lost.reason) for lost in risk.lost] == [
        f"{COMPACT.element('seminar-2').title.en}: absent on 2027-03-02; "
        "no later session of it in the cohort"
    ]


def test_excused_not_done_and_before_the_enrolment_are_missed_too():
    for mark in (Mark.EXCUSED, Mark.NOT_EXPECTED):
        risk = assess(COMPACT, compact(**{"seminar-1": mark}), SESSIONS, date(2027, 6, 1))
        assert risk.elements == ("seminar-1",), mark
    video = {
        k: Attendance(Mark.DONE if e.all_day else Mark.PRESENT)
        for k, e in ((e.key, e) for e in BLENDED.elements)
    }
    video["video-1"] = Attendance(Mark.NOT_DONE, day=date(2027, 1, 20))
    days = {e.key: [date(2027, 1, 20)] for e in BLENDED.elements}
    assert assess(BLENDED, video, days, date(2027, 2, 1)).elements == ("video-1",)


def test_a_session_still_to_come_or_not_recorded_yet_is_no_risk():
    records = compact(**{"reflection": Mark.NOT_RECORDED})
    assert not assess(COMPACT, records, SESSIONS, date(2027, 3, 10)).at_risk  # on 3 May
    assert not assess(COMPACT, records, SESSIONS, date(2027, 5, 3)).at_risk  # today
    # Over but not recorded: nobody knows it was missed.
    assert not assess(COMPACT, records, SESSIONS, date(2027, 6, 1)).at_risk
    # Absent in one session of it, a later one of the same element left.
    again = {**SESSIONS, "seminar-1": [date(2027, 3, 1), date(2027, 4, 5)]}
    absent = compact(**{"seminar-1": Mark.ABSENT})
    assert not assess(COMPACT, absent, again, date(2027, 3, 10)).at_risk
    assert assess(COMPACT, absent, again, date(2027, 4, 6)).at_risk


def test_partly_counts_up_to_a_quarter():
    records = compact()
    records["seminar-1"] = Attendance(Mark.PARTLY, minutes_missed=120, day=DAYS["seminar-1"])
    assert not assess(COMPACT, records, SESSIONS, date(2027, 6, 1)).at_risk
    records["seminar-1"] = Attendance(Mark.PARTLY, minutes_missed=121, day=DAYS["seminar-1"])
    assert assess(COMPACT, records, SESSIONS, date(2027, 6, 1)).elements == ("seminar-1",)


def test_a_required_element_without_a_session_in_the_cohort_is_at_risk():
    sessions = {k: v for k, v in SESSIONS.items() if k != "reflection"}
    records = {k: v for k, v in compact().items() if k != "reflection"}
    risk = assess(COMPACT, records, sessions, date(2027, 3, 1))
    assert [str(lost.reason) for lost in risk.lost] == [
        f"{COMPACT.element('reflection').title.en}: no session of it in the cohort"
    ]


def test_made_up_elsewhere_is_no_risk_and_a_booking_saves_it():
    made = compact()
    made["seminar-2"] = Attendance(Mark.ABSENT, day=DAYS["seminar-2"], made_up=date(2027, 4, 1))
    assert not assess(COMPACT, made, SESSIONS, date(2027, 6, 1)).at_risk
    booked = compact()
    booked["seminar-2"] = Attendance(
        Mark.ABSENT, day=DAYS["seminar-2"], booked=Booking(date(2027, 7, 1), "Gruppe B")
    )
    risk = assess(COMPACT, booked, SESSIONS, date(2027, 6, 1))
    assert risk.at_risk
    assert risk.saved
    assert risk.lost[0].booked == ("seminar-2",)
    # The reason says what was missed, not the booking.
    assert "absent on 2027-03-02" in str(risk.lost[0].reason)


def blended(**marks):
    records = {
        e.key: Attendance(Mark.DONE if e.all_day else Mark.PRESENT) for e in BLENDED.elements
    }
    for key, mark in marks.items():
        records[key] = Attendance(mark, day=date(2027, 4, 1))
    return records


BLENDED_DAYS = {e.key: [date(2027, 4, 1)] for e in BLENDED.elements}


def test_a_group_is_at_risk_only_when_too_few_of_it_are_left():
    one = blended(**{"checkpoint-1": Mark.ABSENT})
    assert not assess(BLENDED, one, BLENDED_DAYS, date(2027, 5, 1)).at_risk
    both = blended(**{"checkpoint-1": Mark.ABSENT, "checkpoint-2": Mark.EXCUSED})
    risk = assess(BLENDED, both, BLENDED_DAYS, date(2027, 5, 1))
    assert [(lost.part, lost.elements, lost.needed) for lost in risk.lost] == [
        (Part.GROUP, ("checkpoint-1", "checkpoint-2"), 1)
    ]
    assert str(risk.lost[0].reason).startswith("needs 1 of ")
    assert str(risk.lost[0].reason).endswith("; at most 0 possible in the cohort")
    # One still to come: enough.
    later = {**BLENDED_DAYS, "checkpoint-2": [date(2027, 6, 1)]}
    assert not assess(BLENDED, both, later, date(2027, 5, 1)).at_risk
    # One booked: saved.
    both["checkpoint-2"] = replace(both["checkpoint-2"], booked=Booking(date(2027, 6, 1), "B"))
    assert assess(BLENDED, both, BLENDED_DAYS, date(2027, 5, 1)).saved


def test_the_share_of_hours_that_cannot_be_reached_any_more():
    rule = CertificateRule(min_hours_share=0.8)
    curriculum = replace(COMPACT, certificate=rule)  # 6 + 6 + 3 hours; needs 12
    assert not assess(
        curriculum, compact(reflection=Mark.ABSENT), SESSIONS, date(2027, 6, 1)
    ).at_risk
    records = compact(**{"seminar-1": Mark.ABSENT})
    risk = assess(curriculum, records, SESSIONS, date(2027, 6, 1))
    assert [(lost.part, lost.elements, lost.needed) for lost in risk.lost] == [
        (Part.HOURS, ("seminar-1",), 1)
    ]
    assert "needs 80 %" in str(risk.lost[0].reason)
    records["seminar-1"] = replace(records["seminar-1"], booked=Booking(date(2027, 7, 1), "B"))
    assert assess(curriculum, records, SESSIONS, date(2027, 6, 1)).saved


def test_eligibility_names_a_booked_make_up():
    records = compact()
    records["reflection"] = Attendance(
        Mark.EXCUSED, day=DAYS["reflection"], booked=Booking(date(2027, 6, 7), "Gruppe B")
    )
    decision = decide(COMPACT, records)
    assert not decision.eligible
    assert [str(r) for r in decision.reasons] == [
        f"missing: {COMPACT.element('reflection').title.en} (make-up booked: 2027-06-07, Gruppe B)"
    ]
    # Once attended there, it counts.
    records["reflection"] = replace(records["reflection"], made_up=date(2027, 6, 7))
    assert decide(COMPACT, records).eligible


def test_eligibility_names_a_booked_make_up_of_a_group():
    records = blended(**{"checkpoint-1": Mark.ABSENT, "checkpoint-2": Mark.ABSENT})
    records["checkpoint-2"] = replace(
        records["checkpoint-2"], booked=Booking(date(2027, 6, 1), "Gruppe B")
    )
    reasons = [str(r) for r in decide(BLENDED, records).reasons]
    assert len(reasons) == 1
    assert reasons[0].endswith("; has 0 (make-up booked: 2027-06-01, Gruppe B)")


def test_the_german_reason_of_a_booking():
    from app.i18n import Translator

    records = compact()
    records["reflection"] = Attendance(Mark.EXCUSED, booked=Booking(date(2027, 6, 7), "Gruppe B"))
    text = Translator("de").localize(decide(COMPACT, records).reasons[0])
    assert "Nachholtermin gebucht:" in text
    assert "Gruppe B" in text
    assert "2027" in text


# A make-up whose session has begun while the host's trainer has not
# recorded the guest's mark yet: neither saved nor to be offered again.

WAITING = Booking(date(2027, 3, 12), "Gruppe X", awaiting_mark=True)


def test_a_make_up_waiting_for_its_mark_saves_nothing_yet_and_says_so():
    records = compact(**{"seminar-2": Mark.ABSENT})
    records["seminar-2"] = replace(records["seminar-2"], booked=WAITING)
    risk = assess(COMPACT, records, SESSIONS, date(2027, 3, 12))
    assert risk.at_risk
    assert not risk.saved
    (lost,) = risk.lost
    assert (lost.elements, lost.booked, lost.awaiting) == (("seminar-2",), (), ("seminar-2",))
    assert risk.awaiting == ("seminar-2",)
    assert str(lost.reason) == (
        f"{COMPACT.element('seminar-2').title.en}: absent on 2027-03-02; "
        "no later session of it in the cohort "
        "(make-up on 2027-03-12 in Gruppe X: attendance not recorded yet)"
    )


def test_a_booking_dated_before_today_waits_for_its_mark_whatever_it_says():
    records = compact(**{"seminar-2": Mark.ABSENT})
    records["seminar-2"] = replace(records["seminar-2"], booked=Booking(date(2027, 3, 12), "X"))
    on_the_day = assess(COMPACT, records, SESSIONS, date(2027, 3, 12))
    assert on_the_day.saved
    assert on_the_day.awaiting == ()
    after = assess(COMPACT, records, SESSIONS, date(2027, 3, 13))
    assert not after.saved
    assert after.awaiting == ("seminar-2",)
    assert "make-up on 2027-03-12 in X: attendance not recorded yet" in str(after.lost[0].reason)


def test_a_group_and_the_hours_are_not_saved_by_a_make_up_waiting_for_its_mark():
    both = blended(**{"checkpoint-1": Mark.ABSENT, "checkpoint-2": Mark.EXCUSED})
    both["checkpoint-2"] = replace(both["checkpoint-2"], booked=WAITING)
    risk = assess(BLENDED, both, BLENDED_DAYS, date(2027, 5, 1))
    (lost,) = risk.lost
    assert (lost.part, lost.booked, lost.awaiting) == (Part.GROUP, (), ("checkpoint-2",))
    assert not risk.saved
    assert str(lost.reason).endswith(
        "; at most 0 possible in the cohort "
        "(make-up on 2027-03-12 in Gruppe X: attendance not recorded yet)"
    )
    # The other element of the group booked still to come saves it.
    both["checkpoint-1"] = replace(both["checkpoint-1"], booked=Booking(date(2027, 6, 1), "B"))
    assert assess(BLENDED, both, BLENDED_DAYS, date(2027, 5, 1)).saved

    curriculum = replace(COMPACT, certificate=CertificateRule(min_hours_share=0.8))
    records = compact(**{"seminar-1": Mark.ABSENT})
    records["seminar-1"] = replace(records["seminar-1"], booked=WAITING)
    hours = assess(curriculum, records, SESSIONS, date(2027, 6, 1))
    assert [(lost.part, lost.awaiting) for lost in hours.lost] == [(Part.HOURS, ("seminar-1",))]
    assert not hours.saved


def test_once_recorded_present_it_counts_and_absent_leaves_it_lost():
    records = compact(**{"seminar-2": Mark.ABSENT})
    # Present (or done) there: made up, the booking is no more.
    records["seminar-2"] = replace(records["seminar-2"], made_up=date(2027, 3, 12))
    assert not assess(COMPACT, records, SESSIONS, date(2027, 3, 13)).at_risk
    # Absent there: lost again with nothing booked, to be made up again.
    records["seminar-2"] = replace(records["seminar-2"], made_up=None)
    risk = assess(COMPACT, records, SESSIONS, date(2027, 3, 13))
    assert (risk.elements, risk.awaiting, risk.saved) == (("seminar-2",), (), False)


def test_eligibility_names_a_make_up_waiting_for_its_mark():
    records = compact()
    records["reflection"] = Attendance(Mark.EXCUSED, day=DAYS["reflection"], booked=WAITING)
    decision = decide(COMPACT, records)
    assert not decision.eligible
    assert [str(r) for r in decision.reasons] == [
        f"missing: {COMPACT.element('reflection').title.en} "
        "(make-up on 2027-03-12 in Gruppe X: attendance not recorded yet)"
    ]
    group = blended(**{"checkpoint-1": Mark.ABSENT, "checkpoint-2": Mark.ABSENT})
    group["checkpoint-2"] = replace(group["checkpoint-2"], booked=WAITING)
    [reason] = [str(r) for r in decide(BLENDED, group).reasons]
    assert reason.endswith(
        "; has 0 (make-up on 2027-03-12 in Gruppe X: attendance not recorded yet)"
    )


def test_the_german_reason_of_a_make_up_waiting_for_its_mark():
    from app.i18n import Translator

    records = compact()
    records["reflection"] = Attendance(Mark.EXCUSED, booked=WAITING)
    text = Translator("de").localize(decide(COMPACT, records).reasons[0])
    assert "(Nachholtermin am Fr. 12.03.2027 in Gruppe X: Anwesenheit noch nicht erfasst)" in text
