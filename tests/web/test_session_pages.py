from datetime import date

from sqlalchemy import select

from app.models import Change, Role, Session, SessionStatus
from tests.web.helpers import csrf_token, log_in


def setup(make, role=Role.TRAINER):
    org = make.organisation()
    user = make.user(role, [org], email="planner@example.org", name="Petra Plan")
    cohort = make.cohort(org, key="blended", start=date(2027, 1, 11), region="DE-BY")
    by_key = {s.element.key: s for s in cohort.sessions}
    return cohort.id, {k: (s.id, s.lock_version) for k, s in by_key.items()}, user.email


def post(client, url, data, page):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def test_move_a_session_and_what_follows_moves_with_it(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    assert "Termine, die auf diesen folgen, verschieben sich mit" in client.get(page).get_data(
        as_text=True
    )
    response = post(
        client,
        f"{page}/move",
        {"move-version": version, "move-day": "2027-01-28", "move-pin": "y"},
        page,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cohorts/{cohort_id}#session-{webinar_id}"
    shown = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "3 Termine verschoben" in shown
    assert "Do. 28.01.2027" in shown
    assert "hat Zwischen-Webinar: Lerninhalte und Lernhürden reflektieren" in shown
    video_2 = db.session.get(Session, sessions["video-2"][0])
    assert video_2.first_day == date(2027, 1, 29)
    assert db.session.get(Session, webinar_id).pinned


def test_a_broken_rule_is_explained_and_nothing_is_saved(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    response = post(
        client, f"{page}/move", {"move-version": version, "move-day": "2027-01-20"}, page
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "kann nicht am Mi. 20.01.2027 stattfinden" in text
    assert "Es wurde nichts gespeichert." in text
    assert db.session.get(Session, webinar_id).first_day == date(2027, 1, 26)
    assert db.session.scalar(select(Change).where(Change.action == "moved")) is None


def test_a_stale_form_does_not_overwrite_a_newer_change(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    webinar_id, version = sessions["webinar"]
    page = f"/cohorts/{cohort_id}/sessions/{webinar_id}"
    first = post(client, f"{page}/move", {"move-version": version, "move-day": "2027-01-27"}, page)
    assert first.status_code == 302
    second = post(
        client, f"{page}/move", {"move-version": version, "move-day": "2027-01-28"}, page
    )
    assert second.status_code == 409
    assert "jemand anderes hat diesen Termin" in second.get_data(as_text=True)
    assert db.session.get(Session, webinar_id).first_day == date(2027, 1, 27)


def test_cancel_a_session(client, make, db):
    cohort_id, sessions, email = setup(make)
    log_in(client, email)
    session_id, version = sessions["practice-day"]
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    response = post(client, f"{page}/cancel", {"status-version": version}, page)
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
