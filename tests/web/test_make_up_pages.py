"""Make-ups on the pages: the cohort page, the person's page and the overview
show who cannot reach the certificate in their own cohort, with the
sessions that would save it, and book one in one step."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AttendanceRecord, Cohort, Enrolment, Notification, Role, Session, User
from app.services import attendance
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in

TODAY = datetime.now(UTC).date()


def session_of(db, cohort_id: int, key: str) -> Session:
    cohort = db.session.get(Cohort, cohort_id)
    return next(s for s in cohort.sessions if s.element.key == key)


@pytest.fixture
def world(make, db, client):
    """Cohort A began weeks ago; Erika was absent on its seminar day 2.
    Cohort B (one free place) and C start later."""
    org = make.organisation("Seitenweise AG")
    user = make.user(Role.HR, [org], email="hr@seitenweise.example")
    first = make.cohort(org, start=TODAY - timedelta(days=40), name="Gruppe A")
    second = make.cohort(org, start=TODAY + timedelta(days=30), name="Gruppe B", capacity=2)
    make.cohort(org, start=TODAY + timedelta(days=60), name="Gruppe C")
    erika = make.participant(org, first, first_name="Erika", last_name="Fehltag")
    make.participant(org, first, first_name="Max", last_name="Da")
    make.participant(org, second, first_name="Bea", last_name="Belegt")
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.cohort_id == first.id)):
        enrolment.enrolled_at = datetime.now(UTC) - timedelta(days=50)  # before it began
    attendance.set_mark(session_of(db, first.id, "seminar-2"), erika, Mark.ABSENT, None)
    db.session.commit()
    ids = {"a": first.id, "b": second.id, "erika": erika.id}
    log_in(client, user.email)
    return ids


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def test_the_cohort_page_lists_who_is_at_risk_with_the_sessions_that_save_it(client, world):
    shown = page(client, f"/cohorts/{world['a']}")
    panel = shown[shown.index('id="at-risk"') :]
    assert "Zertifikat gefährdet" in panel
    assert "Erika Fehltag" in panel
    assert "Max Da" not in panel
    assert "abwesend am" in panel
    assert "kein späterer Termin davon in der Gruppe" in panel
    assert "Seminartag 2" in panel
    assert panel.count("Nachholtermin buchen") >= 2  # B and C
    assert "Gruppe B" in panel
    assert "Gruppe C" in panel
    assert "unbegrenzt" in panel  # C has no capacity


def book(client, world, back: str, session_id: int, from_url: str):
    token = csrf_token(client, from_url)
    return client.post(
        f"/participants/{world['erika']}/make-ups",
        data={
            "csrf_token": token,
            "cohort": world["a"],
            "session": session_id,
            "back": back,
        },
        headers={"Referer": f"http://localhost{from_url}"},
    )


def test_booking_in_one_step_invites_and_the_reasons_then_name_it(client, world, db):
    target = session_of(db, world["b"], "seminar-2")
    url = f"/cohorts/{world['a']}"
    response = book(client, world, "cohort", target.id, url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{world['a']}#at-risk")
    shown = page(client, url)
    assert "holt Seminartag 2" in shown
    assert "eine Einladung ist unterwegs" in shown
    assert "Nachholtermin gebucht:" in shown
    assert "durch gebuchte Nachholtermine gerettet" in shown
    record = db.session.scalar(
        select(AttendanceRecord).where(
            AttendanceRecord.session_id == target.id,
            AttendanceRecord.participant_id == world["erika"],
        )
    )
    assert record.for_cohort_id == world["a"]
    invitation = db.session.scalar(
        select(Notification).where(
            Notification.participant_id == world["erika"], Notification.kind == "invitation"
        )
    )
    assert invitation.session_id == target.id
    # The person's page shows it too, with the button that cancels it.
    person = page(client, f"/participants/{world['erika']}")
    assert "Nachholtermine" in person
    assert "Nachholtermin gebucht:" in person
    assert "Nachholtermin absagen" in person
    # Cancelled from there.
    token = csrf_token(client, f"/participants/{world['erika']}")
    response = client.post(
        f"/participants/{world['erika']}/make-ups/{target.id}/cancel",
        data={"csrf_token": token, "back": "person"},
    )
    assert response.status_code == 302
    assert "#make-ups" in response.headers["Location"]
    assert "ist abgesagt" in page(client, f"/participants/{world['erika']}")
    assert db.session.get(AttendanceRecord, record.id) is None


def test_a_refused_booking_says_why_on_the_page_and_saves_nothing(client, world, db, make):
    target = session_of(db, world["b"], "seminar-2")
    url = f"/participants/{world['erika']}"
    assert book(client, world, "person", target.id, url).status_code == 302
    # Booked again: refused, with the reason on the page it came from.
    response = book(client, world, "person", target.id, url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url)
    shown = page(client, url)
    assert "ist schon ein Nachholtermin gebucht" in shown
    assert (
        db.session.scalar(
            select(db.func.count(AttendanceRecord.id)).where(
                AttendanceRecord.participant_id == world["erika"]
            )
        )
        == 2  # the absence and the one booking
    )
    # Nonsense in the form: not found, nothing saved.
    token = csrf_token(client, url)
    response = client.post(
        f"/participants/{world['erika']}/make-ups",
        data={"csrf_token": token, "cohort": "x", "session": "99999999999999"},
    )
    assert response.status_code == 404


def test_a_booking_without_the_form_token_is_refused(client, world, db):
    target = session_of(db, world["b"], "seminar-2")
    response = client.post(
        f"/participants/{world['erika']}/make-ups",
        data={"cohort": world["a"], "session": target.id},
    )
    assert response.status_code == 400
    assert (
        db.session.scalar(
            select(db.func.count(AttendanceRecord.id)).where(
                AttendanceRecord.session_id == target.id
            )
        )
        == 0
    )


def test_the_overview_shows_the_at_risk_panel_without_ranking(client, world, db):
    shown = page(client, "/dashboard")
    panel = shown[shown.index('id="at-risk"') :]
    assert "Zertifikat gefährdet" in panel
    assert "keine Rangfolge" in panel
    assert "Erika Fehltag" in panel
    assert "Gruppe A" in panel
    assert not re.search(r"(?i)punkte|score|rang \d", panel)
    # One line per person: what was missed, how a make-up stands, and the
    # person's page to book it on.
    assert "Seminartag 2" in panel
    assert "Termin zur Wahl, am" in panel or "Termine zur Wahl, der nächste am" in panel
    assert f'href="/participants/{world["erika"]}#make-ups"' in panel
    # A booking sent back to the overview lands there.
    target = session_of(db, world["b"], "seminar-2")
    response = book(client, world, "overview", target.id, "/dashboard")
    assert response.headers["Location"].endswith("/dashboard#at-risk")


def test_another_organisation_sees_no_panel_and_cannot_book(client, world, make, db):
    other = make.organisation("Andere AG")
    stranger = make.user(Role.ADMIN, [other], email="admin@andere.example")
    visitor = client.application.test_client()
    log_in(visitor, stranger.email)
    assert "Erika Fehltag" not in page(visitor, "/dashboard")
    assert visitor.get(f"/cohorts/{world['a']}").status_code == 404
    target = session_of(db, world["b"], "seminar-2")
    token = csrf_token(visitor, "/dashboard")
    response = visitor.post(
        f"/participants/{world['erika']}/make-ups",
        data={"csrf_token": token, "cohort": world["a"], "session": target.id},
    )
    assert response.status_code == 404


def test_a_trainers_overview_lists_only_the_cohorts_they_train(client, world, make, db):
    org = db.session.get(Cohort, world["a"]).organisation
    trainer = make.user(Role.TRAINER, [org], email="trainerin@seitenweise.example")
    visitor = client.application.test_client()
    log_in(visitor, trainer.email)
    assert 'id="at-risk"' not in page(visitor, "/dashboard")
    # Once she trains a session of Gruppe A, its people at risk are hers to see.
    cohort = db.session.get(Cohort, world["a"])
    cohort.sessions[0].trainers.append(db.session.get(User, trainer.id))
    db.session.commit()
    assert "Erika Fehltag" in page(visitor, "/dashboard")
