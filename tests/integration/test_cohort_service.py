from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Change, ClosureDay, Cohort, CohortState, Role, SessionStatus
from app.models.cohorts import InvalidStateChange
from app.services.cohorts import (
    CohortWish,
    StateChangeRefused,
    TrainerConflict,
    change_cohort_state,
    plan_cohort,
    reopen_cohort,
)
from app.services.errors import InvalidInput, NotFound, NotPermitted
from app.services.policy import Actor


def test_a_cohort_stores_its_planned_sessions(db, make):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org])
    cohort = make.cohort(
        org, key="blended", start=date(2027, 1, 11), region="DE-BY", trainers=[trainer]
    )
    db.session.commit()
    stored = db.session.get(Cohort, cohort.id)
    assert [s.element.key for s in stored.sessions] == [
        "kickoff",
        "video-1",
        "webinar",
        "video-2",
        "practice-day",
        "checkpoint-1",
        "checkpoint-2",
    ]
    kickoff, video_1 = stored.sessions[:2]
    berlin = ZoneInfo("Europe/Berlin")
    assert kickoff.starts_at == datetime(2027, 1, 11, 9, tzinfo=berlin)
    assert kickoff.starts_at.tzinfo is not None
    assert kickoff.trainers == [trainer]
    assert video_1.all_day
    assert video_1.starts_at is None
    assert (video_1.first_day, video_1.last_day) == (date(2027, 1, 12), date(2027, 1, 25))
    assert video_1.trainers == []  # self-paced
    assert len({s.uid for s in stored.sessions}) == 7
    assert {s.revision for s in stored.sessions} == {0}
    checkpoint = stored.sessions[5]
    assert checkpoint.starts_at.astimezone(berlin).time() == time(14, 0)


def test_organisation_closure_days_are_respected(db, make):
    org = make.organisation()
    org.closure_days.append(ClosureDay(day=date(2027, 3, 2), reason="Betriebsversammlung"))
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    assert cohort.sessions[1].first_day == date(2027, 3, 3)


def test_cohort_closure_days_are_respected(db, make):
    org = make.organisation()
    cohort = make.cohort(
        org, start=date(2027, 3, 1), region="DE-BY", closures={date(2027, 3, 2): "Raum belegt"}
    )
    assert cohort.sessions[1].first_day == date(2027, 3, 3)
    assert [c.reason for c in cohort.closures] == ["Raum belegt"]


def test_a_trainer_cannot_be_in_two_places(db, make):
    org, other = make.organisation(), make.organisation("Zweite GmbH")
    trainer = make.user(Role.TRAINER, [org, other], name="Maria Berg")
    make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[trainer], name="Gruppe A")
    with pytest.raises(TrainerConflict) as caught:
        make.cohort(
            other, start=date(2027, 3, 2), region="DE-BY", trainers=[trainer], name="Gruppe B"
        )
    assert str(caught.value) == (
        "Maria Berg would be in two places at once: Seminar day 1: role, learning formats and "
        "learning theory (Gruppe B) and Seminar day 2: the companion process (Gruppe A) overlap "
        "on 2027-03-02"
    )


def test_other_trainers_and_other_times_are_fine(db, make):
    org = make.organisation()
    one, two = make.user(Role.TRAINER, [org]), make.user(Role.TRAINER, [org])
    make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[one])
    make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[two])
    make.cohort(org, start=date(2027, 3, 3), region="DE-BY", trainers=[one])


def test_creation_is_recorded(db, make):
    org = make.organisation()
    cohort = make.cohort(org, name="Frühjahr 2027")
    change = db.session.scalar(select(Change).where(Change.cohort_id == cohort.id))
    assert change.action == "created"
    assert change.after == {"name": "Frühjahr 2027", "start": "2027-03-01", "region": "DE-BE"}
    assert change.at <= datetime.now(UTC)


def test_cohort_states_allow_only_forward_moves(db, make):
    cohort = make.cohort(make.organisation())
    assert cohort.state is CohortState.PLANNED
    cohort.change_state(CohortState.RUNNING)
    cohort.change_state(CohortState.COMPLETED)
    with pytest.raises(InvalidStateChange):
        cohort.change_state(CohortState.RUNNING)
    with pytest.raises(InvalidStateChange):
        cohort.change_state(CohortState.CANCELLED)


BERLIN = ZoneInfo("Europe/Berlin")


def planner_of(make, org, role=Role.TRAINER):
    return Actor.of_user(make.user(role, [org]))


def test_cancelling_a_cohort_cancels_what_has_not_taken_place(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    cohort.state = CohortState.RUNNING
    db.session.commit()
    # Both seminar days are over; the reflection day is still to come.
    now = datetime(2027, 3, 10, 12, tzinfo=BERLIN)
    change_cohort_state(planner_of(make, org), cohort.id, CohortState.CANCELLED, now=now)
    db.session.commit()
    statuses = {s.element.key: (s.status, s.revision) for s in cohort.sessions}
    assert statuses == {
        "seminar-1": (SessionStatus.SCHEDULED, 0),
        "seminar-2": (SessionStatus.SCHEDULED, 0),
        "reflection": (SessionStatus.CANCELLED, 1),
    }
    change = db.session.scalar(select(Change).where(Change.action == "state"))
    reflection = next(s for s in cohort.sessions if s.element.key == "reflection")
    assert change.after == {
        "state": "cancelled",
        "sessions_cancelled": 1,
        "sessions": [reflection.id],
    }


def test_a_cohort_starts_on_the_day_of_its_first_session(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    actor = planner_of(make, org)
    evening_before = datetime(2027, 2, 28, 22, tzinfo=BERLIN)
    with pytest.raises(StateChangeRefused) as caught:
        change_cohort_state(actor, cohort.id, CohortState.RUNNING, now=evening_before)
    assert caught.value.code == "starts_later"
    assert str(caught.value) == "Gruppe 1 cannot start before its first session on 2027-03-01"
    # Just after midnight in Berlin it is still 28 February in UTC: the cohort's day counts.
    just_after_midnight = datetime(2027, 3, 1, 0, 30, tzinfo=BERLIN)
    assert just_after_midnight.astimezone(UTC).date() == date(2027, 2, 28)
    started = change_cohort_state(actor, cohort.id, CohortState.RUNNING, now=just_after_midnight)
    assert started.state is CohortState.RUNNING


def test_a_cohort_is_completed_once_its_last_session_has_ended(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    cohort.state = CohortState.RUNNING
    db.session.commit()
    reflection = cohort.sessions[-1]
    actor = planner_of(make, org)
    during = reflection.ends_at - timedelta(minutes=30)
    with pytest.raises(StateChangeRefused) as caught:
        change_cohort_state(actor, cohort.id, CohortState.COMPLETED, now=during)
    assert caught.value.code == "not_over_yet"
    after = reflection.ends_at + timedelta(minutes=1)
    change_cohort_state(actor, cohort.id, CohortState.COMPLETED, now=after)
    assert cohort.state is CohortState.COMPLETED


def test_reopening_needs_an_admin_a_reason_and_a_completed_cohort(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    admin = planner_of(make, org, Role.ADMIN)
    with pytest.raises(StateChangeRefused):
        reopen_cohort(admin, cohort.id, "zu früh")
    cohort.state = CohortState.COMPLETED
    db.session.commit()
    with pytest.raises(NotPermitted):
        reopen_cohort(planner_of(make, org), cohort.id, "Nachtrag")
    with pytest.raises(InvalidInput) as caught:
        reopen_cohort(admin, cohort.id, "  ")
    assert caught.value.field == "reason"
    with pytest.raises(NotFound):
        reopen_cohort(planner_of(make, make.organisation("Fremd"), Role.ADMIN), cohort.id, "x")
    reopen_cohort(admin, cohort.id, "Nachtrag  der\nAnwesenheit")
    assert cohort.state is CohortState.RUNNING
    change = db.session.scalar(select(Change).where(Change.action == "state"))
    assert change.after == {"state": "running", "reason": "Nachtrag der Anwesenheit"}


def test_the_model_refuses_to_reopen_what_is_not_completed(db, make):
    cohort = make.cohort(make.organisation())
    with pytest.raises(InvalidStateChange):
        cohort.reopen()


def wish(org, version, **changes):
    values = {
        "organisation_id": org.id,
        "version_id": version.id,
        "name": "Neu",
        "start": date(2027, 3, 1),
        "region": "DE-BY",
    }
    values.update(changes)
    return CohortWish(**values)


def test_planning_a_cohort_is_held_to_the_actors_organisations(db, make):
    org, other = make.organisation(), make.organisation("Fremd")
    actor = planner_of(make, org)
    version = make.version("compact")
    with pytest.raises(NotFound):
        plan_cohort(actor, wish(other, version))
    with pytest.raises(NotPermitted):
        plan_cohort(planner_of(make, org, Role.HR), wish(org, version))
    with pytest.raises(InvalidInput) as caught:
        plan_cohort(actor, wish(org, version, region="DE-XX"))
    assert caught.value.field == "region"
    cohort, _ = plan_cohort(actor, wish(org, version))
    assert cohort.start_date == date(2027, 3, 1)
