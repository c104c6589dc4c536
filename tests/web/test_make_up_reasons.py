"""The certificate page says that a missed element's make-up is booked."""

from __future__ import annotations

from app.services import make_ups
from tests.integration.test_make_ups import NOW, session_of, world  # noqa: F401 -- fixture
from tests.web.helpers import log_in


def test_the_certificate_page_names_the_booked_make_up(client, db, world):  # noqa: F811
    page = f"/cohorts/{world['a']}/certificates?lang=en"
    log_in(client, "hr@nachhol.example")
    before = client.get(page).get_data(as_text=True)
    assert "make-up booked" not in before
    target = session_of(world["b"], "seminar-2")
    make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    text = client.get(page).get_data(as_text=True)
    assert (
        "Seminar day 2: the companion process (make-up booked: Tue 4 May 2027, Gruppe B)" in text
    )
    german = client.get(page.replace("lang=en", "lang=de")).get_data(as_text=True)
    assert "Nachholtermin gebucht" in german


def test_a_guest_booked_in_a_session_is_marked_present_in_one_tap(client, make, db):
    from datetime import date

    from app.models import AttendanceRecord, Role
    from cohorts.eligibility import Mark
    from tests.web.helpers import csrf_token

    org = make.organisation("Nachhol AG")
    make.user(Role.ADMIN, [org], email="admin@nachhol.example")
    own = make.cohort(org, start=date(2026, 9, 7), name="Gruppe A")
    host = make.cohort(org, start=date(2026, 11, 2), name="Gruppe B")
    erika = make.participant(org, own, first_name="Erika", last_name="Muster")
    session = next(s for s in host.sessions if s.element.key == "seminar-2")
    record = AttendanceRecord(session_id=session.id, participant_id=erika.id, for_cohort_id=own.id)
    db.session.add(record)
    db.session.commit()
    ids = host.id, session.id, record.id
    guest = f"{erika.id}:{own.id}"
    grid = f"/cohorts/{ids[0]}/attendance?lang=en"
    log_in(client, "admin@nachhol.example")
    page = client.get(grid).get_data(as_text=True)
    assert 'aria-label="Erika Muster was present"' in page
    answer = client.post(
        f"/cohorts/{ids[0]}/attendance/{ids[1]}/guests",
        data={"csrf_token": csrf_token(client, grid), "guest": guest},
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttendanceRecord, ids[2]).mark is Mark.PRESENT
    assert 'aria-label="Erika Muster was present"' not in client.get(grid).get_data(as_text=True)


def test_the_cohort_history_names_a_make_up_booked_and_cancelled(client, db, world):  # noqa: F811
    target = session_of(world["b"], "seminar-2")
    make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    make_ups.cancel(world["actor"], world["erika"], target.id, now=NOW)
    db.session.commit()
    log_in(client, "hr@nachhol.example")
    page = client.get(f"/cohorts/{world['a']}?lang=de").get_data(as_text=True)
    history = page.split('<ul class="history">', 1)[1].split("</ul>", 1)[0]
    assert "hat für Erika Muster einen Nachholtermin gebucht: " in history
    assert "in Gruppe B am 04.05.2027" in history
    assert "hat den Nachholtermin von Erika Muster abgesagt: " in history
