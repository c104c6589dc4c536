"""Certificate decisions with reasons a participant and HR can read."""

from datetime import date

from cohorts.eligibility import Attendance, Mark, decide
from curricula.shipped import shipped

BLENDED = shipped()["blended"]
COMPACT = shipped()["compact"]


def everything(curriculum, mark=Mark.PRESENT):
    return {e.key: Attendance(Mark.DONE if e.all_day else mark) for e in curriculum.elements}


def test_present_everywhere_is_eligible_with_all_hours():
    decision = decide(BLENDED, everything(BLENDED))
    assert decision.eligible
    assert [str(r) for r in decision.reasons] == ["eligible"]
    assert decision.teaching_hours == BLENDED.teaching_hours


def test_an_absence_on_a_required_day_is_named_with_its_date():
    records = everything(BLENDED)
    records["practice-day"] = Attendance(Mark.ABSENT, day=date(2027, 2, 16))
    records["checkpoint-1"] = Attendance(Mark.ABSENT, day=date(2027, 4, 1))
    records["checkpoint-2"] = Attendance(Mark.EXCUSED, day=date(2027, 6, 1))
    decision = decide(BLENDED, records)
    assert not decision.eligible
    assert [str(r) for r in decision.reasons] == [
        f"missing: {BLENDED.element('practice-day').title.en} (absent on 2027-02-16)",
        "needs 1 of "
        + ", ".join(BLENDED.element(k).title.en for k in ("checkpoint-1", "checkpoint-2"))
        + "; has 0",
    ]


def test_one_checkpoint_of_two_is_enough():
    records = everything(BLENDED)
    records["checkpoint-2"] = Attendance(Mark.ABSENT)
    assert decide(BLENDED, records).eligible


def test_a_make_up_in_another_cohort_counts():
    records = everything(COMPACT)
    records["reflection"] = Attendance(
        Mark.EXCUSED, day=date(2027, 5, 3), made_up=date(2027, 6, 7)
    )
    decision = decide(COMPACT, records)
    assert decision.eligible
    assert "reflection" in decision.attended


def test_partly_present_counts_up_to_a_quarter_and_credits_the_share():
    records = everything(COMPACT)
    records["seminar-1"] = Attendance(Mark.PARTLY, minutes_missed=120)  # of 8 hours
    decision = decide(COMPACT, records)
    assert decision.eligible
    assert decision.teaching_hours == COMPACT.teaching_hours - 6 * 0.25  # 8 units, 6 hours
    records["seminar-1"] = Attendance(Mark.PARTLY, minutes_missed=121)
    decision = decide(COMPACT, records)
    assert not decision.eligible
    assert "missed 121 minutes" in str(decision.reasons[0])


def test_nothing_recorded_yet_and_late_enrolment_are_told_apart():
    records = {"seminar-1": Attendance(Mark.NOT_EXPECTED), "seminar-2": Attendance(Mark.PRESENT)}
    reasons = [str(r) for r in decide(COMPACT, records).reasons]
    assert reasons[0].endswith("(before the enrolment; to be made up in another cohort)")
    assert reasons[1].endswith("(not recorded yet)")


def test_a_self_study_phase_not_done_is_missing():
    records = everything(BLENDED)
    records["video-1"] = Attendance(Mark.NOT_DONE)
    decision = decide(BLENDED, records)
    assert not decision.eligible
    assert str(decision.reasons[0]).endswith("(not done)")


def test_a_minimum_share_of_teaching_hours():
    from dataclasses import replace

    rule = replace(COMPACT.certificate, required=("seminar-1",), min_hours_share=0.85)
    curriculum = replace(COMPACT, certificate=rule)
    records = everything(curriculum)
    records["reflection"] = Attendance(Mark.ABSENT)  # 4 of 20 units
    decision = decide(curriculum, records)
    assert not decision.eligible
    assert [str(r) for r in decision.reasons] == ["teaching units: 16 of 20 attended; needs 85 %"]
    records["seminar-2"] = Attendance(Mark.PARTLY, minutes_missed=60)
    records["reflection"] = Attendance(Mark.PRESENT)
    assert decide(curriculum, records).eligible  # 20 - 1 unit is above 85 %
