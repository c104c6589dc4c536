from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Change, CohortState, Role, SessionStatus
from app.services.cohorts import TrainerConflict
from app.services.errors import InvalidInput, StaleEdit
from app.services.sessions import (
    SessionChangeRefused,
    cancel_session,
    change_details,
    move_session,
    restore_session,
)
from cohorts.errors import PlanningError

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 22)


def by_key(cohort):
    return {s.element.key: s for s in cohort.sessions}


def move(session, day, **options):
    options.setdefault("pin", False)
    options.setdefault("today", TODAY)
    return move_session(
        session,
        day,
        options.pop("start_time", None),
        actor=None,
        expected_version=session.lock_version,
        **options,
    )


def test_moving_a_session_moves_what_follows_it(db, make):
    cohort = make.cohort(
        make.organisation(), key="blended", start=date(2027, 1, 11), region="DE-BY"
    )
    sessions = by_key(cohort)
    practice_before = sessions["practice-day"].first_day
    moved = move(sessions["kickoff"], date(2027, 1, 13))
    db.session.commit()
    # The practice day moves from 16 to 18 February; 3 months later is 18 May either
    # way (16 May is a Sunday, 17 May Pfingstmontag), so the checkpoints stay.
    assert [m.session.element.key for m in moved] == [
        "kickoff",
        "video-1",
        "webinar",
        "video-2",
        "practice-day",
    ]
    assert sessions["checkpoint-1"].first_day == date(2027, 5, 18)
    assert sessions["checkpoint-1"].revision == 0
    assert sessions["webinar"].first_day == date(2027, 1, 28)
    assert sessions["webinar"].starts_at.astimezone(BERLIN).hour == 10
    assert sessions["video-2"].first_day == date(2027, 1, 29)
    assert sessions["practice-day"].first_day > practice_before
    assert {m.session.revision for m in moved} == {1}
    # The cohort starts when its first session does.
    assert cohort.start_date == date(2027, 1, 13)
    changes = db.session.scalars(select(Change).where(Change.action == "moved")).all()
    assert len(changes) == 5
    webinar = next(c for c in changes if c.subject_id == sessions["webinar"].id)
    assert webinar.before["first_day"] == "2027-01-26"
    assert webinar.after["first_day"] == "2027-01-28"


def test_a_session_tied_to_an_earlier_one_moves_alone_only_where_its_rule_allows(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    sessions = by_key(cohort)
    db.session.commit()
    # Seminar day 2 comes on the next working day after day 1: not three months later.
    with pytest.raises(PlanningError) as caught:
        move(sessions["seminar-2"], date(2027, 6, 2))
    assert caught.value.element == "seminar-2"
    assert "so on 2027-03-02" in str(caught.value)
    db.session.rollback()
    assert sessions["seminar-2"].first_day == date(2027, 3, 2)
    # Asked to, day 1 comes along to the day before, and the reflection day follows.
    moved = move(sessions["seminar-2"], date(2027, 6, 2), earlier=True)
    assert {m.session.element.key for m in moved} == {"seminar-1", "seminar-2", "reflection"}
    assert sessions["seminar-1"].first_day == date(2027, 6, 1)
    assert sessions["reflection"].first_day > date(2027, 6, 2)
    assert cohort.start_date == date(2027, 6, 1)


def test_moving_day_one_after_day_two_needs_day_two_to_follow(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    sessions = by_key(cohort)
    sessions["seminar-2"].pinned = True
    db.session.commit()
    with pytest.raises(PlanningError, match="it follows seminar-1"):
        move(sessions["seminar-1"], date(2027, 3, 8))
    db.session.rollback()
    # A pinned session that has to move can be asked to come along.
    moved = move(sessions["seminar-1"], date(2027, 3, 8), pinned_too=True)
    assert sessions["seminar-2"].first_day == date(2027, 3, 9)
    assert "seminar-2" in {m.session.element.key for m in moved}


def test_a_move_into_the_past_is_refused_unless_it_took_place_then(db, make):
    cohort = make.cohort(make.organisation(), start=date(2026, 12, 7), region="DE-BY")
    sessions = by_key(cohort)
    db.session.commit()
    with pytest.raises(SessionChangeRefused) as caught:
        move(sessions["seminar-1"], date(2026, 11, 16))
    assert caught.value.code == "day_over"
    db.session.rollback()
    assert [s.first_day for s in cohort.sessions][:2] == [date(2026, 12, 7), date(2026, 12, 8)]
    # Recorded as held there, its day 2 would have to follow in the past: refused too.
    with pytest.raises(SessionChangeRefused, match="which is over"):
        move(sessions["seminar-1"], date(2026, 11, 16), held=True)
    db.session.rollback()
    # A session cannot have been held on a day still to come.
    with pytest.raises(InvalidInput):
        move(sessions["seminar-1"], date(2026, 12, 9), held=True)


def test_a_new_start_time_keeps_the_length(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    seminar = by_key(cohort)["seminar-2"]
    move(seminar, date(2027, 3, 2), start_time=time(8, 30))
    assert seminar.starts_at.astimezone(BERLIN).time() == time(8, 30)
    assert seminar.ends_at.astimezone(BERLIN).time() == time(16, 30)


def test_pinned_and_past_sessions_stay(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    sessions = by_key(cohort)
    sessions["reflection"].pinned = True
    reflection_day = sessions["reflection"].first_day
    move(sessions["seminar-1"], date(2027, 3, 3))
    assert sessions["seminar-2"].first_day == date(2027, 3, 4)
    assert sessions["reflection"].first_day == reflection_day
    # A session in the past does not move either.
    later = make.cohort(make.organisation("Zweite AG"), start=date(2026, 11, 2), region="DE-BY")
    past = by_key(later)
    before = past["seminar-2"].first_day
    move(past["seminar-1"], date(2026, 11, 2), today=date(2026, 11, 10), held=True)
    assert past["seminar-2"].first_day == before


def test_a_move_that_breaks_a_rule_is_explained_and_changes_nothing(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    sessions = by_key(cohort)
    sessions["reflection"].pinned = True
    db.session.commit()
    days_before = {k: s.first_day for k, s in sessions.items()}
    with pytest.raises(PlanningError) as caught:
        # Seminar 2 would follow on 2 June: the pinned reflection day (3 weeks later at
        # the earliest) no longer fits.
        move(sessions["seminar-1"], date(2027, 6, 1))
    assert "cannot be on" in str(caught.value)
    assert "it comes 3w to 6m after seminar-2" in str(caught.value)
    db.session.rollback()
    assert {k: s.first_day for k, s in by_key(cohort).items()} == days_before


def test_a_stale_form_is_refused(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    seminar = by_key(cohort)["seminar-2"]
    stale = seminar.lock_version
    move(seminar, date(2027, 3, 2), start_time=time(8, 30))
    db.session.commit()
    with pytest.raises(StaleEdit):
        move_session(
            seminar,
            date(2027, 3, 2),
            None,
            pin=False,
            actor=None,
            today=TODAY,
            expected_version=stale,
        )


def test_cancel_and_restore(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    seminar = by_key(cohort)["seminar-2"]
    cancel_session(seminar, actor=None, expected_version=seminar.lock_version)
    db.session.commit()
    assert seminar.status is SessionStatus.CANCELLED
    assert seminar.revision == 1
    restore_session(seminar, actor=None, expected_version=seminar.lock_version)
    db.session.commit()
    assert seminar.status is SessionStatus.SCHEDULED
    assert seminar.revision == 2
    actions = db.session.scalars(select(Change.action).where(Change.subject == "session")).all()
    assert sorted(actions) == ["cancelled", "restored"]


def test_changing_trainers_checks_conflicts(db, make):
    org = make.organisation()
    busy = make.user(Role.TRAINER, [org], name="Bernd Busy")
    make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[busy], name="A")
    other = make.cohort(org, start=date(2027, 3, 1), region="DE-BY", name="B")
    seminar = by_key(other)["seminar-1"]
    with pytest.raises(TrainerConflict, match="Bernd Busy would be in two places at once"):
        change_details(
            seminar,
            venue="Raum 2",
            online_link=None,
            trainers=[busy],
            actor=None,
            expected_version=seminar.lock_version,
        )


def test_changing_the_venue_raises_the_revision_once(db, make):
    """The invitations saying the new venue replace the earlier ones only
    with a higher SEQUENCE; changing nothing raises nothing."""
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    seminar = by_key(cohort)["seminar-1"]
    assert change_details(
        seminar,
        venue="Raum 2",
        online_link=None,
        trainers=[],
        actor=None,
        expected_version=seminar.lock_version,
    )
    assert seminar.revision == 1
    assert not change_details(
        seminar,
        venue="Raum 2",
        online_link=None,
        trainers=[],
        actor=None,
        expected_version=seminar.lock_version,
    )
    assert seminar.revision == 1


def test_sessions_of_a_closed_cohort_do_not_change(db, make):
    cohort = make.cohort(make.organisation(), start=date(2027, 3, 1), region="DE-BY")
    cohort.state = CohortState.CANCELLED
    db.session.commit()
    seminar = by_key(cohort)["seminar-2"]
    for change in (
        lambda: move(seminar, date(2027, 3, 2), start_time=time(8, 30)),
        lambda: restore_session(seminar, actor=None, expected_version=seminar.lock_version),
        lambda: cancel_session(seminar, actor=None, expected_version=seminar.lock_version),
    ):
        with pytest.raises(SessionChangeRefused) as caught:
            change()
        assert caught.value.code == "cohort_closed"
    assert seminar.revision == 0
