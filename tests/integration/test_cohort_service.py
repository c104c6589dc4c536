from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Change, ClosureDay, Cohort, CohortState, Role
from app.models.cohorts import InvalidStateChange
from app.services.cohorts import TrainerConflict


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
