"""One rule set for attendance marks, whichever door they come through: the
grid, the participant's personal page, and the service the API calls.

A mark needs a session that is scheduled and has begun, in a cohort that is
neither cancelled nor completed, for someone enrolled by the session's first
day, and it must fit the session. Refused marks leave nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy import insert as sqlalchemy_insert

from app.extensions import db
from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Purpose,
    Role,
    Session,
    SessionStatus,
    User,
)
from app.services import attendance, tokens
from app.services.errors import DomainError, NotFound
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=TODAY.weekday(), weeks=20)  # a Monday
SOON = TODAY + timedelta(days=7 - TODAY.weekday(), weeks=2)  # a Monday


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def enrolled_on(cohort_id: int, day: date) -> None:
    db.session.execute(
        update(Enrolment).where(Enrolment.cohort_id == cohort_id).values(enrolled_at=at(day))
    )
    db.session.commit()


def stored() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(AttendanceRecord.id))),
        db.session.scalar(select(func.count(AttendanceChange.id))),
    )


def grid_world(make, start=LONG_AGO, key="compact"):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="trainerin@example.org", name="Tina Trainerin")
    cohort = make.cohort(org, key=key, start=start, region="DE-BW")
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    enrolled_on(cohort.id, start - timedelta(weeks=2))
    sessions = {s.element.key: s.id for s in cohort.sessions}
    return org, cohort.id, anna.id, sessions


def tap(client, cohort_id, session_id, person_id, mark, *, json=True):
    page = f"/cohorts/{cohort_id}/attendance"
    return client.post(
        f"{page}/{session_id}/{person_id}",
        data={"csrf_token": csrf_token(client, page), "mark": mark},
        headers={"Accept": "application/json"} if json else {"Referer": f"http://localhost{page}"},
        follow_redirects=not json,
    )


def all_present(client, cohort_id, session_id):
    page = f"/cohorts/{cohort_id}/attendance"
    return client.post(
        f"{page}/{session_id}/all-present",
        data={"csrf_token": csrf_token(client, page)},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )


# The grid


def test_the_grid_refuses_a_mark_for_a_session_held_before_the_enrolment(client, make):
    org, cohort_id, _, sessions = grid_world(make)
    carla = make.participant(org, first_name="Carla", last_name="Clausen")
    db.session.add(
        Enrolment(
            cohort_id=cohort_id, participant=carla, enrolled_at=at(LONG_AGO + timedelta(days=4))
        )
    )
    db.session.commit()
    carla_id = carla.id
    log_in(client, "trainerin@example.org")
    refused = tap(client, cohort_id, sessions["seminar-1"], carla_id, "present")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "enrolled_after_session"
    assert stored() == (0, 0)
    page = tap(client, cohort_id, sessions["seminar-2"], carla_id, "present", json=False)
    assert "flash error refused-enrolled_after_session" in page.get_data(as_text=True)
    assert stored() == (0, 0)
    # The reflection day came after her enrolment: that mark is hers to get.
    assert tap(client, cohort_id, sessions["reflection"], carla_id, "present").status_code == 200
    assert stored() == (1, 1)


def test_a_session_that_has_not_begun_takes_no_mark(client, make):
    _, cohort_id, anna_id, sessions = grid_world(make, start=SOON)
    log_in(client, "trainerin@example.org")
    refused = tap(client, cohort_id, sessions["seminar-1"], anna_id, "present")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "session_not_begun"
    response = all_present(client, cohort_id, sessions["seminar-1"])
    assert "flash error refused-session_not_begun" in response.get_data(as_text=True)
    assert stored() == (0, 0)
    # The grid says so instead of offering buttons that would be refused.
    page = client.get(f"/cohorts/{cohort_id}/attendance?lang=en").get_data(as_text=True)
    assert 'class="mark"' not in page
    assert "all present" not in page
    assert "The session has not begun yet; attendance is taken from" in page


def test_a_completed_cohort_is_read_only(client, make):
    org, cohort_id, anna_id, sessions = grid_world(make)
    log_in(client, "trainerin@example.org")
    assert tap(client, cohort_id, sessions["seminar-1"], anna_id, "present").status_code == 200
    cohort = db.session.get(Cohort, cohort_id)
    cohort.state = CohortState.COMPLETED
    db.session.commit()
    refused = tap(client, cohort_id, sessions["seminar-1"], anna_id, "absent")
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "cohort_completed"
    response = all_present(client, cohort_id, sessions["seminar-2"])
    assert "flash error refused-cohort_completed" in response.get_data(as_text=True)
    assert stored() == (1, 1)
    assert db.session.scalar(select(AttendanceRecord.mark)) is Mark.PRESENT
    page = client.get(f"/cohorts/{cohort_id}/attendance?lang=en").get_data(as_text=True)
    assert 'class="mark"' not in page
    assert "The cohort is completed; its attendance can change only after an admin reopens it" in (
        page
    )


def test_a_make_up_counts_only_where_the_cohorts_are_open(client, make):
    org, cohort_id, anna_id, sessions = grid_world(make)
    other = make.cohort(org, start=LONG_AGO + timedelta(weeks=1), region="DE-BW", name="Gruppe 2")
    other_id = other.id
    reflection = next(s.id for s in other.sessions if s.element.key == "reflection")
    page = f"/cohorts/{other_id}/attendance"
    guest = {"guest": f"{anna_id}:{cohort_id}"}
    log_in(client, "trainerin@example.org")
    db.session.get(Cohort, cohort_id).state = CohortState.COMPLETED
    db.session.commit()
    refused = client.post(
        f"{page}/{reflection}/guests",
        data={"csrf_token": csrf_token(client, page), **guest},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    assert "flash error refused-cohort_completed" in refused.get_data(as_text=True)
    assert stored() == (0, 0)


def test_staff_of_another_role_or_organisation_record_nothing(client, make):
    org, cohort_id, anna_id, sessions = grid_world(make)
    make.user(Role.HR, [org], email="hr@example.org")
    stranger = make.organisation("Fremd GmbH")
    make.user(Role.TRAINER, [stranger], email="fremd@example.org")
    log_in(client, "hr@example.org")
    assert tap(client, cohort_id, sessions["seminar-1"], anna_id, "present").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "fremd@example.org")
    page = "/dashboard"
    response = client.post(
        f"/cohorts/{cohort_id}/attendance/{sessions['seminar-1']}/{anna_id}",
        data={"csrf_token": csrf_token(client, page), "mark": "present"},
    )
    assert response.status_code == 404
    assert stored() == (0, 0)


# The personal page


def personal_world(make, start, enrolled):
    org = make.organisation()
    cohort = make.cohort(org, key="blended", start=start, region="DE-BW")
    dora = make.participant(org, cohort=cohort, first_name="Dora", last_name="Dietz")
    enrolled_on(cohort.id, enrolled)
    phases = sorted((s for s in cohort.sessions if s.all_day), key=lambda s: s.first_day)
    timed = next(s.id for s in cohort.sessions if not s.all_day)
    token = tokens.issue(Purpose.PERSONAL_PAGE, dora.id, org.id, None)
    db.session.commit()
    return cohort.id, [p.id for p in phases], timed, f"/p/{token}"


def mark_own(client, page, session_id, done="1"):
    return client.post(
        f"{page}/sessions/{session_id}/self-study",
        data={"csrf_token": csrf_token(client, page), "done": done},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )


def offered(client, page, session_id) -> bool:
    return f"/sessions/{session_id}/self-study" in client.get(page).get_data(as_text=True)


def test_self_study_before_the_phase_began_is_refused_on_the_personal_page(client, make):
    _, phases, _, page = personal_world(make, SOON, TODAY - timedelta(days=1))
    assert not offered(client, page, phases[0])
    response = mark_own(client, page, phases[0])
    assert response.status_code == 200
    assert "flash error refused-session_not_begun" in response.get_data(as_text=True)
    assert stored() == (0, 0)


def test_self_study_of_a_phase_before_the_enrolment_is_refused_on_the_personal_page(client, make):
    start = TODAY - timedelta(days=TODAY.weekday(), weeks=12)
    _, phases, _, page = personal_world(make, start, start + timedelta(days=3))
    assert not offered(client, page, phases[0])
    response = mark_own(client, page, phases[0])
    assert "flash error refused-enrolled_after_session" in response.get_data(as_text=True)
    assert stored() == (0, 0)
    # The next phase began after the enrolment: that one is theirs to mark.
    assert offered(client, page, phases[1])
    assert "Vermerkt, danke." in mark_own(client, page, phases[1]).get_data(as_text=True)
    assert stored() == (1, 1)


def test_the_personal_page_marks_nothing_in_a_completed_cohort_nor_a_timed_session(client, make):
    start = TODAY - timedelta(days=TODAY.weekday(), weeks=12)
    cohort_id, phases, timed, page = personal_world(make, start, start - timedelta(days=7))
    response = mark_own(client, page, timed)
    assert "flash error refused-not_self_paced" in response.get_data(as_text=True)
    assert "Vermerkt, danke." in mark_own(client, page, phases[0]).get_data(as_text=True)
    db.session.get(Cohort, cohort_id).state = CohortState.COMPLETED
    db.session.commit()
    assert not offered(client, page, phases[0])
    assert "✓ erledigt" in client.get(page).get_data(as_text=True)  # still shown as done
    response = mark_own(client, page, phases[0], done="0")
    assert "flash error refused-cohort_completed" in response.get_data(as_text=True)
    assert stored() == (1, 1)
    assert db.session.scalar(select(AttendanceRecord.mark)) is Mark.DONE


# The service every door calls, with the moment given


@pytest.fixture
def world(make):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], email="t@example.org")
    hr = make.user(Role.HR, [org], email="h@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    anna = make.participant(org, cohort=cohort, first_name="Anna")
    enrolled_on(cohort.id, date(2027, 2, 1))
    seminar = next(s for s in cohort.sessions if s.element.key == "seminar-1")
    return {
        "trainer": Actor.of_user(db.session.get(User, trainer.id)),
        "hr": Actor.of_user(db.session.get(User, hr.id)),
        "cohort": cohort.id,
        "anna": anna.id,
        "seminar": seminar.id,
        "starts_at": seminar.starts_at,
    }


def record(world, actor="trainer", mark=Mark.PRESENT, **kwargs):
    return attendance.record_mark(
        world[actor], world["cohort"], world["seminar"], world["anna"], mark, **kwargs
    )


def code_of_refusal(call) -> str:
    with pytest.raises(DomainError) as refused:
        call()
    db.session.rollback()
    return refused.value.code


def test_a_timed_session_takes_marks_from_its_start(world):
    starts = world["starts_at"]
    before = starts - timedelta(minutes=1)
    assert code_of_refusal(lambda: record(world, now=before)) == "session_not_begun"
    assert record(world, now=starts).mark is Mark.PRESENT


def test_the_refusals_and_their_codes(world):
    now = world["starts_at"] + timedelta(hours=1)
    assert code_of_refusal(lambda: record(world, "hr", now=now)) == "forbidden"
    assert code_of_refusal(lambda: record(world, mark=Mark.DONE, now=now)) == (
        "mark_not_for_session"
    )
    assert code_of_refusal(lambda: record(world, mark=Mark.PARTLY, minutes=601, now=now)) == (
        "invalid_minutes"
    )
    with pytest.raises(NotFound) as missing:
        attendance.record_mark(
            world["trainer"], world["cohort"], world["seminar"], 999_999, Mark.PRESENT, now=now
        )
    assert missing.value.code == "not_found"
    db.session.rollback()
    enrolment = db.session.scalar(select(Enrolment))
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    assert code_of_refusal(lambda: record(world, now=now)) == "not_enrolled"
    enrolment = db.session.scalar(select(Enrolment))
    enrolment.status = EnrolmentStatus.ENROLLED
    db.session.get(Session, world["seminar"]).status = SessionStatus.CANCELLED
    db.session.commit()
    assert code_of_refusal(lambda: record(world, now=now)) == "session_cancelled"
    db.session.get(Cohort, world["cohort"]).state = CohortState.CANCELLED
    db.session.commit()
    assert code_of_refusal(lambda: record(world, now=now)) == "cohort_cancelled"
    assert db.session.scalar(select(func.count(AttendanceRecord.id))) == 0


def test_a_whole_day_phase_begins_on_its_first_day_where_the_cohort_meets(make):
    org = make.organisation()
    late_east = make.cohort(
        org, key="blended", start=date(2027, 3, 1), region="DE-BW", timezone="Pacific/Auckland"
    )
    phase = min((s for s in late_east.sessions if s.all_day), key=lambda s: s.first_day)
    # Noon in UTC the day before is already the first day in Auckland, not in Berlin.
    eve = at(phase.first_day - timedelta(days=1), hour=12)
    assert attendance.has_begun(phase, eve)
    phase.cohort.timezone = "Europe/Berlin"
    assert not attendance.has_begun(phase, eve)
    assert attendance.has_begun(phase, at(phase.first_day, hour=0))


def test_a_mark_set_since_the_tapper_saw_the_cell_stays_and_a_repeated_tap_is_kept_once(world):
    now = world["starts_at"] + timedelta(hours=1)
    record(world, mark=Mark.EXCUSED, now=now)
    db.session.commit()
    assert stored() == (1, 1)
    # Seen open, meanwhile excused: refused, the excuse stays.
    assert code_of_refusal(
        lambda: record(world, mark=Mark.ABSENT, now=now, expected=Mark.NOT_RECORDED)
    ) == ("mark_changed")
    assert db.session.scalar(select(AttendanceRecord.mark)) is Mark.EXCUSED
    # Seen excused: saved; sent again with the same view: nothing new on record.
    record(world, mark=Mark.ABSENT, now=now, expected=Mark.EXCUSED)
    db.session.commit()
    record(world, mark=Mark.ABSENT, now=now, expected=Mark.EXCUSED)
    db.session.commit()
    assert stored() == (1, 2)
    # The rules come first: an unfit mark is refused as such, whatever was seen.
    assert code_of_refusal(
        lambda: record(world, mark=Mark.DONE, now=now, expected=Mark.ABSENT)
    ) == ("mark_not_for_session")


def test_a_guest_is_any_enrolment_of_another_cohort_with_the_element_not_the_first_500(make):
    org = make.organisation()
    trainer = Actor.of_user(make.user(Role.TRAINER, [org], email="t2@example.org"))
    here = make.cohort(org, start=LONG_AGO, region="DE-BW", name="Hier")
    there = make.cohort(org, start=LONG_AGO + timedelta(weeks=1), region="DE-BW", name="Dort")
    people = [
        {
            "organisation_id": org.id,
            "first_name": "A",
            "last_name": f"A{n:04}",
            "email": f"a{n}@x.org",
        }
        for n in range(510)
    ]
    from app.models import Participant

    db.session.execute(sqlalchemy_insert(Participant), people)
    ids = db.session.scalars(select(Participant.id).order_by(Participant.last_name)).all()
    db.session.execute(
        sqlalchemy_insert(Enrolment),
        [
            {"cohort_id": there.id, "participant_id": i, "status": EnrolmentStatus.ENROLLED}
            for i in ids
        ],
    )
    db.session.commit()
    reflection = next(s.id for s in here.sessions if s.element.key == "reflection")
    last = ids[-1]  # beyond the 500 the old list held
    made_up = attendance.record_make_up(trainer, here.id, reflection, last, there.id)
    assert (made_up.participant_id, made_up.for_cohort_id) == (last, there.id)
