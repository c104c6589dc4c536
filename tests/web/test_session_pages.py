from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models import Change, Cohort, Role, Session, SessionStatus
from cohorts.calendar import WorkingCalendar
from tests.web.helpers import csrf_token, log_in


def setup(make, role=Role.TRAINER):
    org = make.organisation()
    user = make.user(role, [org], email="planner@example.org", name="Petra Plan")
    cohort = make.cohort(org, key="blended", start=date(2027, 1, 11), region="DE-BY")
    by_key = {s.element.key: s for s in cohort.sessions}
    return cohort.id, {k: (s.id, s.lock_version) for k, s in by_key.items()}, user.email


def post(client, url, data, page):
    return client.post(
        url,
        data={"csrf_token": csrf_token(client, page), **data},
        headers={"Referer": f"http://localhost{page}"},
    )


def test_move_a_session_and_what_follows_moves_with_it(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    video_id, version = sessions["video-2"]
    page = f"/cohorts/{cohort_id}/sessions/{video_id}"
    assert "Termine, die auf diesen folgen, verschieben sich mit" in client.get(page).get_data(
        as_text=True
    )
    # The webinar and video 2 come along with "earlier sessions tied to it".
    response = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "2027-01-29", "move-pin": "y", "move-earlier": "y"},
        page,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort_id}#session-{video_id}"
    shown = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "5 Termine verschoben" in shown
    assert "Do. 28.01.2027" in shown
    assert "hat Zwischen-Webinar: Lerninhalte und Lernhürden reflektieren" in shown
    video_2 = db.session.get(Session, video_id)
    assert video_2.first_day == date(2027, 1, 29)
    assert video_2.pinned
    assert db.session.get(Session, sessions["webinar"][0]).first_day == date(2027, 1, 28)


def test_a_broken_rule_is_explained_and_nothing_is_saved(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    response = post(
        client, f"{page}/move", {"move-version": version, "move-day": "2027-01-20"}, page
    )
    assert response.status_code == 303
    assert response.headers["Location"] == page
    text = client.get(page).get_data(as_text=True)
    assert "refused-planning_error" in text
    assert "kann nicht am Mi. 20.01.2027 stattfinden" in text
    assert "Es wurde nichts gespeichert." in text
    assert db.session.get(Session, webinar_id).first_day == date(2027, 1, 26)
    assert db.session.scalar(select(Change).where(Change.action == "moved")) is None


def test_a_session_alone_cannot_leave_the_day_its_rule_gives_it(client, make, db):
    """The webinar comes on the next working day after video 1: not two days
    later, just as not before it."""
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    response = post(
        client, f"{page}/move?lang=en", {"move-version": version, "move-day": "2027-01-28"}, page
    )
    assert response.status_code == 303
    text = client.get(page + "?lang=en").get_data(as_text=True)
    assert "refused-planning_error" in text
    assert "it comes on the next working day after video-1" in text
    assert db.session.get(Session, webinar_id).first_day == date(2027, 1, 26)


def test_the_preview_offers_moving_the_tied_sessions_along(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    kickoff_id, _ = sessions["kickoff"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    preview = post(
        client,
        f"{page}/move/preview?lang=en",
        {"move-version": version, "move-day": "2027-01-28", "move-pin": "y"},
        page,
    )
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "refused-planning_error" in text
    assert "It works if the earlier sessions tied to it move along" in text
    assert "Mon 11 Jan 2027 → Wed 13 Jan 2027" in text  # the kickoff
    assert 'name="move-earlier" value="y"' in text
    # Nothing was saved by the preview.
    assert db.session.get(Session, kickoff_id).first_day == date(2027, 1, 11)
    assert db.session.scalar(select(Change).where(Change.action == "moved")) is None
    # The offered move goes through.
    response = post(
        client,
        f"{page}/move",
        {
            "move-version": version,
            "move-day": "2027-01-28",
            "move-pin": "y",
            "move-earlier": "y",
        },
        page,
    )
    assert response.status_code == 302
    assert db.session.get(Session, kickoff_id).first_day == date(2027, 1, 13)
    assert db.session.get(Session, webinar_id).first_day == date(2027, 1, 28)


def test_moving_the_first_day_into_the_past_is_refused(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="planner@example.org")
    today = date.today()
    start = today + timedelta(days=14 - today.weekday())  # a Monday in two weeks
    cohort = make.cohort(org, start=start, region="DE-BY")
    cohort_id = cohort.id
    first = cohort.sessions[0]
    first_id, version = first.id, first.lock_version
    days_before = [s.first_day for s in cohort.sessions]
    log_in(client, "planner@example.org")
    page = f"/cohorts/{cohort_id}/sessions/{first_id}"
    past = today - timedelta(days=30)
    response = post(
        client, f"{page}/move", {"move-version": version, "move-day": past.isoformat()}, page
    )
    # The refusal stands at the day field; nothing is saved.
    assert response.status_code == 400
    assert 'id="move-day-error"' in response.get_data(as_text=True)
    assert [s.first_day for s in db.session.get(Cohort, cohort_id).sessions] == days_before


def test_a_stale_form_does_not_overwrite_a_newer_change(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    first = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "2027-01-26", "move-start_time": "11:00"},
        page,
    )
    assert first.status_code == 302
    second = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "2027-01-26", "move-start_time": "12:00"},
        page,
    )
    assert second.status_code == 303
    text = client.get(page).get_data(as_text=True)
    assert "refused-stale" in text
    assert "Jemand anderes hat das inzwischen geändert" in text
    webinar = db.session.get(Session, webinar_id)
    assert webinar.starts_at.astimezone(ZoneInfo("Europe/Berlin")).hour == 11


def test_cancel_a_session(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    session_id, version = sessions["practice-day"]
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    # Without the confirmation step, the page that asks for it; nothing changes.
    response = post(client, f"{page}/cancel", {"status-version": version}, page)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{page}/cancel")
    assert db.session.get(Session, session_id).status is SessionStatus.SCHEDULED
    confirm = client.get(f"{page}/cancel").get_data(as_text=True)
    assert "absagen?" in confirm
    assert "zeigen den Termin als abgesagt" in confirm
    response = post(
        client,
        f"{page}/cancel",
        {"status-version": version, "status-confirmed": "yes"},
        f"{page}/cancel",
    )
    assert response.status_code == 302
    session = db.session.get(Session, session_id)
    assert session.status is SessionStatus.CANCELLED
    assert session.revision == 1
    assert "Der Termin wurde abgesagt." in client.get(f"/cohorts/{cohort_id}").get_data(
        as_text=True
    )


def test_hr_sees_but_does_not_change_sessions(client, make):
    cohort_id, sessions, email = setup(make, Role.HR)
    log_in(client, email)
    session_id, version = sessions["webinar"]
    assert "Ändern" not in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert client.get(f"/cohorts/{cohort_id}/sessions/{session_id}").status_code == 403
    token = csrf_token(client, "/dashboard")
    response = client.post(
        f"/cohorts/{cohort_id}/sessions/{session_id}/cancel",
        data={"csrf_token": token, "status-version": version},
    )
    assert response.status_code == 403


def test_seminar_day_two_alone_cannot_move_months_away_from_day_one(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="planner@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY")
    cohort_id = cohort.id
    second = cohort.sessions[1]
    second_id, version = second.id, second.lock_version
    log_in(client, "planner@example.org")
    page = f"/cohorts/{cohort_id}/sessions/{second_id}"
    response = post(
        client, f"{page}/move", {"move-version": version, "move-day": "2027-06-02"}, page
    )
    assert response.status_code == 303
    text = client.get(page).get_data(as_text=True)
    assert "refused-planning_error" in text
    assert "also am Di. 02.03.2027" in text
    assert db.session.get(Session, second_id).first_day == date(2027, 3, 2)
    # With day 1 moving along, the move is possible.
    response = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "2027-06-02", "move-earlier": "y"},
        page,
    )
    assert response.status_code == 302
    days = [s.first_day for s in db.session.get(Cohort, cohort_id).sessions]
    assert days[:2] == [date(2027, 6, 1), date(2027, 6, 2)]


def test_the_day_a_session_really_took_place_can_be_recorded(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="planner@example.org")
    today = date.today()
    start = today - timedelta(days=today.weekday(), weeks=10)  # a Monday ten weeks ago
    cohort = make.cohort(org, start=start, region="DE-BY")
    cohort_id = cohort.id
    reflection = cohort.sessions[2]
    reflection_id, version = reflection.id, reflection.lock_version
    held_on = WorkingCalendar("DE-BY").working_day_on_or_after(
        cohort.sessions[1].last_day + timedelta(weeks=5)
    )
    log_in(client, "planner@example.org")
    page = f"/cohorts/{cohort_id}/sessions/{reflection_id}"
    wanted = {"move-version": version, "move-day": held_on.isoformat()}
    response = post(client, f"{page}/move", wanted, page)
    # The refusal stands at the day field; nothing is saved.
    assert response.status_code == 400
    assert 'id="move-day-error"' in response.get_data(as_text=True)
    response = post(client, f"{page}/move", {**wanted, "move-held": "y"}, page)
    assert response.status_code == 302
    assert db.session.get(Session, reflection_id).first_day == held_on


def test_a_date_that_is_none_and_a_refused_day_stand_at_the_day_field(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    session_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    response = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "31.02.2027", "move-start_time": "25:00"},
        page,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert (
        '<span class="error" id="move-day-error">Bitte ein Datum wie 06.01.2027 eingeben.' in text
    )
    assert 'id="move-start_time-error"' in text
    assert 'value="31.02.2027"' in text
    # A day typed the German way that is over: the service's refusal, at the field.
    response = post(
        client, f"{page}/move", {"move-version": version, "move-day": "04.01.2021"}, page
    )
    assert response.status_code == 400
    assert 'id="move-day-error"' in response.get_data(as_text=True)
    assert db.session.get(Session, session_id).revision == 0
