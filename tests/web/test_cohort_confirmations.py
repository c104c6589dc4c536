"""Cancelling a cohort or a session says first what will happen; a cohort's
cancellation can be taken back for a while, as long as nothing else happened."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import Change, Cohort, CohortState, Organisation, Role, Session, SessionStatus
from tests.web.helpers import csrf_token, log_in, post_form
from tests.web.test_cohort_pages import a_monday, confirm_cancellation, planner


def enrolled_cohort(make, db, people=2, **kwargs):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(3), region="DE-BY", name="Herbst", **kwargs)
    for n in range(people):
        make.participant(org, cohort=cohort, email=f"p{n}@example.org")
    db.session.commit()
    return cohort.id, email


def test_the_confirmation_names_sessions_people_and_calendars(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert f'href="/cohorts/{cohort_id}/cancel"' in page
    page = client.get(f"/cohorts/{cohort_id}/cancel").get_data(as_text=True)
    assert "„Herbst“ absagen?" in page
    assert "Noch hat sich nichts geändert." in page
    assert "bevorstehende Termine werden abgesagt:" in page
    assert "Seminartag 1" in page  # titles, not keys
    assert "seminar-1" not in page
    assert "2 eingeschriebene Personen sind betroffen" in page
    assert "Kalender der Teilnehmenden und Trainer:innen" in page
    assert "30 Minuten lang zurücknehmen" in page
    assert db.session.get(Cohort, cohort_id).state is CohortState.PLANNED


def test_the_confirmation_form_is_csrf_protected(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    log_in(client, email)
    response = client.post(
        f"/cohorts/{cohort_id}/state", data={"state": "cancelled", "confirmed": "yes"}
    )
    assert response.status_code == 400
    assert db.session.get(Cohort, cohort_id).state is CohortState.PLANNED


def test_hr_sees_no_confirmation_page(client, make, db):
    cohort_id, _ = enrolled_cohort(make, db)
    org = db.session.get(Cohort, cohort_id).organisation
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    assert client.get(f"/cohorts/{cohort_id}/cancel").status_code == 403


def test_a_completed_cohort_is_refused_before_the_confirmation(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    db.session.get(Cohort, cohort_id).state = CohortState.COMPLETED
    db.session.commit()
    log_in(client, email)
    response = client.get(
        f"/cohorts/{cohort_id}/cancel",
        headers={"Referer": f"http://localhost/cohorts/{cohort_id}"},
        follow_redirects=True,
    )
    assert "refused-invalid_state_change" in response.get_data(as_text=True)


def test_take_a_cancellation_back(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    cohort = db.session.get(Cohort, cohort_id)
    # A session staff had cancelled before stays cancelled when the cancellation is taken back.
    earlier = cohort.sessions[-1]
    earlier.status = SessionStatus.CANCELLED
    db.session.commit()
    earlier_id = earlier.id
    log_in(client, email)
    page = confirm_cancellation(client, cohort_id).get_data(as_text=True)
    assert "Die Gruppe ist jetzt abgesagt." in page
    assert "Versehentlich abgesagt?" in page
    assert "Absage zurücknehmen" in page
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    revisions = {s.id: s.revision for s in cohort.sessions}
    version = cohort.lock_version
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{cohort_id}",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Die Absage wurde zurückgenommen: Die Gruppe ist wieder geplant." in page
    assert "Versehentlich abgesagt?" not in page
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    assert cohort.state is CohortState.PLANNED
    for session in cohort.sessions:
        if session.id == earlier_id:
            assert session.status is SessionStatus.CANCELLED
            assert session.revision == revisions[session.id]
        else:
            assert session.status is SessionStatus.SCHEDULED
            # Calendars see the sessions again, as a newer revision.
            assert session.revision == revisions[session.id] + 1
    # The history tells both steps.
    changes = db.session.scalars(
        select(Change).where(Change.cohort_id == cohort_id, Change.action == "state")
    ).all()
    assert [c.after["state"] for c in changes] == ["cancelled", "planned"]


def test_no_undo_after_something_else_happened(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    log_in(client, email)
    confirm_cancellation(client, cohort_id)
    version = db.session.get(Cohort, cohort_id).lock_version
    db.session.add(
        Change(
            organisation_id=db.session.get(Cohort, cohort_id).organisation_id,
            cohort_id=cohort_id,
            subject="enrolment",
            subject_id=1,
            action="withdrawn",
            after={"participant": "Jemand"},
        )
    )
    db.session.commit()
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Absage zurücknehmen" not in page
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{cohort_id}",
        headers={"Referer": f"http://localhost/cohorts/{cohort_id}"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "refused-undo_expired" in page
    assert "lässt sich nicht mehr zurücknehmen" in page
    assert db.session.get(Cohort, cohort_id).state is CohortState.CANCELLED


def test_no_undo_after_half_an_hour(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    log_in(client, email)
    confirm_cancellation(client, cohort_id)
    change = db.session.scalar(select(Change).where(Change.action == "state"))
    change.at = datetime.now(UTC) - timedelta(minutes=31)
    db.session.commit()
    version = db.session.get(Cohort, cohort_id).lock_version
    assert "Absage zurücknehmen" not in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{cohort_id}",
        headers={"Referer": f"http://localhost/cohorts/{cohort_id}"},
    )
    assert response.status_code == 303
    assert db.session.get(Cohort, cohort_id).state is CohortState.CANCELLED


def test_undo_is_refused_when_a_trainer_was_booked_elsewhere_meanwhile(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    trainer = make.user(Role.TRAINER, [org], name="Maria Berg")
    cohort = make.cohort(org, start=a_monday(3), region="DE-BY", trainers=[trainer], name="Eins")
    cohort_id, trainer_id = cohort.id, trainer.id
    log_in(client, email)
    confirm_cancellation(client, cohort_id)
    # Meanwhile the trainer took the same days in another cohort.
    org = db.session.get(Organisation, org_id)
    trainer = db.session.get(type(trainer), trainer_id)
    other = make.cohort(org, start=a_monday(3), region="DE-BY", trainers=[trainer], name="Zwei")
    other_id = other.id
    version = db.session.get(Cohort, cohort_id).lock_version
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{cohort_id}",
        headers={"Referer": f"http://localhost/cohorts/{cohort_id}"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "refused-trainer_conflict" in page
    assert "Maria Berg wäre an zwei Orten zugleich" in page
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    assert cohort.state is CohortState.CANCELLED
    assert {s.status for s in cohort.sessions} == {SessionStatus.CANCELLED}
    assert db.session.get(Cohort, other_id).state is CohortState.PLANNED


def test_a_stale_undo_form_is_refused(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    log_in(client, email)
    confirm_cancellation(client, cohort_id)
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": "1"},
        form_url=f"/cohorts/{cohort_id}",
        headers={"Referer": f"http://localhost/cohorts/{cohort_id}"},
        follow_redirects=True,
    )
    assert "refused-stale" in response.get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).state is CohortState.CANCELLED


def test_cancelling_a_session_says_what_happens_and_can_be_taken_back(client, make, db):
    cohort_id, email = enrolled_cohort(make, db, people=3)
    session = db.session.get(Cohort, cohort_id).sessions[1]
    session_id, version = session.id, session.lock_version
    log_in(client, email)
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    assert f'href="{page}/cancel"' in client.get(page).get_data(as_text=True)
    confirm = client.get(f"{page}/cancel").get_data(as_text=True)
    assert "„Seminartag 2: Der Prozess der Lernbegleitung“ am" in confirm
    assert "3 eingeschriebene Personen sind betroffen." in confirm
    assert "wieder stattfinden lassen" in confirm
    response = client.post(
        f"{page}/cancel",
        data={
            "csrf_token": csrf_token(client, f"{page}/cancel"),
            "status-version": str(version),
            "status-confirmed": "yes",
        },
        follow_redirects=True,
    )
    shown = response.get_data(as_text=True)
    assert "Der Termin wurde abgesagt." in shown
    assert db.session.get(Session, session_id).status is SessionStatus.CANCELLED
    # The cohort's schedule offers to let it take place again, in its row.
    assert f'action="{page}/restore"' in shown
    version = db.session.get(Session, session_id).lock_version
    response = client.post(
        f"{page}/restore",
        data={
            "csrf_token": csrf_token(client, f"/cohorts/{cohort_id}"),
            "status-version": version,
        },
        follow_redirects=True,
    )
    assert "Der Termin findet wieder statt." in response.get_data(as_text=True)
    assert db.session.get(Session, session_id).status is SessionStatus.SCHEDULED


def test_an_already_cancelled_session_has_no_confirmation(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    session = db.session.get(Cohort, cohort_id).sessions[1]
    session.status = SessionStatus.CANCELLED
    db.session.commit()
    session_id = session.id
    log_in(client, email)
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    response = client.get(
        f"{page}/cancel", headers={"Referer": f"http://localhost{page}"}, follow_redirects=True
    )
    assert "refused-already_cancelled" in response.get_data(as_text=True)


def test_calendars_show_the_sessions_again_with_a_higher_sequence(client, make, db):
    cohort_id, email = enrolled_cohort(make, db)
    uid = db.session.get(Cohort, cohort_id).sessions[0].uid
    log_in(client, email)

    def event():
        text = client.get(f"/cohorts/{cohort_id}/calendar.ics").get_data(as_text=True)
        text = text.replace("\r\n ", "")  # unfold long lines
        block = next(b for b in text.split("BEGIN:VEVENT") if uid in b)
        return re.search(r"SEQUENCE:(\d+)", block).group(1), re.search(
            r"STATUS:(\w+)", block
        ).group(1)

    assert event() == ("0", "CONFIRMED")
    confirm_cancellation(client, cohort_id)
    assert event() == ("1", "CANCELLED")
    version = db.session.get(Cohort, cohort_id).lock_version
    post_form(
        client,
        f"/cohorts/{cohort_id}/undo-cancellation",
        {"version": str(version)},
        form_url=f"/cohorts/{cohort_id}",
    )
    # The same event (its UID), taking place again as a newer revision.
    assert event() == ("2", "CONFIRMED")
