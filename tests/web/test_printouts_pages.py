"""The paper of a cohort through the pages: who may print what, what the
sign-in sheet, schedule and attendance report say about real cohorts, and
the downloads as a browser receives them from a real HTTP server (a cohort
named after "Jörg Yılmaz" in the file name, RFC 6266)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from app.extensions import db as _db
from app.models import Enrolment, EnrolmentStatus, Role, Session, SessionStatus
from app.services import attendance
from cohorts.eligibility import Mark
from tests.conftest import PASSWORD
from tests.real_server import compact_cohort, enrolled, fetch, organisation_with, served
from tests.web.helpers import log_in

START = date(2027, 3, 1)  # a Monday; the compact format's first seminar day


def text_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def world(make, key="compact"):
    org = make.organisation()
    other = make.organisation(name="Andere GmbH")
    trainer = make.user(Role.TRAINER, [org], email="tina@example.org", name="Tina Trainerin")
    make.user(Role.HR, [org], email="hr@example.org", name="Hanna Haas")
    make.user(Role.TRAINER, [other], email="fremd@example.org", name="Fritz Fremd")
    cohort = make.cohort(
        org,
        key=key,
        start=START,
        region="DE-BW",
        trainers=[trainer],
        name="Kompakt Esslingen",
        venue="Schulungszentrum Esslingen, Raum 4",
    )
    people = [
        make.participant(
            org,
            cohort=cohort,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@example.org",
            department=department,
            site="Esslingen",
            employee_number=f"P-{number}",
        )
        for number, (first, last, department) in enumerate(
            [
                ("Zoe", "Zander", "Einkauf"),
                ("Ömer", "Öztürk", "Produktion"),
                ("Olga", "Oswald", "Logistik"),
                ("Anna", "Albers", "Vertrieb"),
            ]
        )
    ]
    # Enrolled two weeks before the start, as HR does.
    _db.session.execute(
        update(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .values(enrolled_at=datetime.combine(START - timedelta(weeks=2), time(8), tzinfo=UTC))
    )
    _db.session.commit()
    return SimpleNamespace(
        cohort=cohort,
        id=cohort.id,
        org=org,
        people=people,
        sessions=[s.id for s in cohort.sessions],
        timed=[s.id for s in cohort.sessions if not s.all_day],
        whole_days=[s.id for s in cohort.sessions if s.all_day],
    )


def cancel(session_id: int) -> None:
    _db.session.get(Session, session_id).status = SessionStatus.CANCELLED
    _db.session.commit()


def test_a_trainer_prints_the_sign_in_sheet_in_german_alphabetical_order(client, make):
    w = world(make)
    log_in(client, "tina@example.org")
    response = client.get(f"/cohorts/{w.id}/sessions/{w.sessions[0]}/sign-in-sheet.pdf")
    text = text_of(response)
    assert "Teilnahmeliste" in text
    assert "Termin: Seminartag 1: Rolle, Lernformate und Lerntheorie" in text
    assert "Montag, 01.03.2027, 09:00 – " in text
    assert "Ort: Schulungszentrum Esslingen, Raum 4" in text
    assert "Trainer:innen: Tina Trainerin" in text
    # DIN 5007: Öztürk next to Oswald, not after Zander.
    order = [text.index(n) for n in ("Albers, Anna", "Oswald, Olga", "Öztürk, Ömer", "Zander")]
    assert order == sorted(order)
    assert "Öztürk, Ömer Produktion Esslingen" in text
    # Nothing the cohort page does not show: no addresses, no employee numbers.
    assert "@example.org" not in text
    assert "P-1" not in text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="Teilnahmeliste Seminartag 1 Rolle, Lernformate und Lerntheorie'
    )


def test_people_enrolled_after_the_session_or_withdrawn_are_not_on_its_sheet(client, make):
    w = world(make)
    late = make.participant(w.org, cohort=w.cohort, first_name="Lena", last_name="Later")
    _db.session.execute(
        update(Enrolment)
        .where(Enrolment.participant_id == late.id)
        .values(enrolled_at=datetime(2027, 3, 5, 8, tzinfo=UTC))
    )
    _db.session.execute(
        update(Enrolment)
        .where(Enrolment.participant_id == w.people[0].id)
        .values(status=EnrolmentStatus.WITHDRAWN)
    )
    _db.session.commit()
    log_in(client, "tina@example.org")
    first, *_, last = w.sessions
    on_first = text_of(client.get(f"/cohorts/{w.id}/sessions/{first}/sign-in-sheet.pdf"))
    assert "Later" not in on_first
    assert "Zander" not in on_first
    on_last = text_of(client.get(f"/cohorts/{w.id}/sessions/{last}/sign-in-sheet.pdf"))
    assert "Later, Lena" in on_last


def test_hr_may_print_what_it_may_see(client, make):
    w = world(make)
    log_in(client, "hr@example.org")
    for url in (
        f"/cohorts/{w.id}/sessions/{w.sessions[0]}/sign-in-sheet.pdf",
        f"/cohorts/{w.id}/schedule.pdf",
        f"/cohorts/{w.id}/attendance-report.pdf",
        f"/cohorts/{w.id}/attendance-report.xlsx",
    ):
        assert client.get(url).status_code == 200, url


def test_a_trainer_of_another_organisation_finds_nothing(client, make):
    w = world(make)
    log_in(client, "fremd@example.org")
    for url in (
        f"/cohorts/{w.id}/sessions/{w.sessions[0]}/sign-in-sheet.pdf",
        f"/cohorts/{w.id}/schedule.pdf",
        f"/cohorts/{w.id}/attendance-report.pdf",
        f"/cohorts/{w.id}/attendance-report.xlsx",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Zander" not in response.data


def test_nobody_logged_in_is_sent_to_the_login(client, make):
    w = world(make)
    response = client.get(f"/cohorts/{w.id}/schedule.pdf")
    assert response.status_code in (302, 401)
    assert b"%PDF" not in response.data


def test_a_session_of_another_cohort_is_not_found(client, make):
    w = world(make)
    other = make.cohort(w.org, start=START + timedelta(weeks=30), region="DE-BW", name="Zwei")
    elsewhere = other.sessions[0].id
    log_in(client, "tina@example.org")
    url = f"/cohorts/{w.id}/sessions/{elsewhere}/sign-in-sheet.pdf"
    assert client.get(url).status_code == 404


def test_phases_of_whole_days_and_cancelled_sessions_have_no_sheet(client, make):
    w = world(make, key="blended")
    log_in(client, "tina@example.org")
    video = w.whole_days[0]
    page = client.get(f"/cohorts/{w.id}/sessions/{video}").get_data(as_text=True)
    assert "sign-in-sheet.pdf" not in page
    assert "Eine Phase ganzer Tage hat keine Teilnahmeliste" in page
    refused = client.get(
        f"/cohorts/{w.id}/sessions/{video}/sign-in-sheet.pdf", follow_redirects=True
    )
    assert refused.status_code == 200
    assert "Eine Phase ganzer Tage hat keine Teilnahmeliste" in refused.get_data(as_text=True)
    cancel(w.timed[0])
    cancelled = client.get(
        f"/cohorts/{w.id}/sessions/{w.timed[0]}/sign-in-sheet.pdf", follow_redirects=True
    )
    assert "Der Termin ist abgesagt; er hat keine Teilnahmeliste." in cancelled.get_data(
        as_text=True
    )


def test_the_pages_link_to_the_paper(client, make):
    w = world(make, key="blended")
    log_in(client, "tina@example.org")
    timed = w.timed
    cohort_page = client.get(f"/cohorts/{w.id}").get_data(as_text=True)
    assert f"/cohorts/{w.id}/schedule.pdf" in cohort_page
    assert f"/cohorts/{w.id}/attendance-report.pdf" in cohort_page
    assert f"/cohorts/{w.id}/attendance-report.xlsx" in cohort_page
    # A sign-in sheet for each session at a time, none for the video phases.
    assert cohort_page.count("/sign-in-sheet.pdf") == len(timed) < len(w.sessions)
    session_page = client.get(f"/cohorts/{w.id}/sessions/{timed[0]}").get_data(as_text=True)
    assert f"/cohorts/{w.id}/sessions/{timed[0]}/sign-in-sheet.pdf" in session_page
    grid = client.get(f"/cohorts/{w.id}/attendance").get_data(as_text=True)
    assert f"/cohorts/{w.id}/attendance-report.xlsx" in grid


def test_the_schedule_lists_the_sessions_that_take_place(client, make):
    w = world(make)
    cancel(w.sessions[1])
    log_in(client, "tina@example.org")
    text = text_of(client.get(f"/cohorts/{w.id}/schedule.pdf"))
    assert "Terminplan" in text
    assert "Mo. 01.03.2027 09:00 – " in text
    assert "Seminartag 1: Rolle, Lernformate und Lerntheorie" in text
    assert "Seminartag 2" not in text
    assert "Reflexionstag" in text
    english = text_of(client.get(f"/cohorts/{w.id}/schedule.pdf?lang=en"))
    assert "Seminar day 1" in english
    assert "Mon 1 Mar 2027" in english


def test_the_attendance_report_says_what_the_attendance_page_decides(client, make):
    w = world(make)
    anna, omer = w.people[3], w.people[1]
    sessions = w.cohort.sessions
    for session in sessions:
        attendance.set_mark(session, anna, Mark.PRESENT, None)
    attendance.set_mark(sessions[0], omer, Mark.PARTLY, None, minutes=45)
    attendance.set_mark(sessions[1], omer, Mark.ABSENT, None)
    # Ömer makes seminar day 2 up in a later cohort.
    later = make.cohort(w.org, start=START + timedelta(weeks=8), region="DE-BW", name="Später")
    attendance.set_mark(later.sessions[1], omer, Mark.PRESENT, None, for_cohort=w.cohort)
    _db.session.commit()
    log_in(client, "tina@example.org")
    text = text_of(client.get(f"/cohorts/{w.id}/attendance-report.pdf"))
    assert "Anwesenheitsbericht" in text
    assert "Albers, Anna Vertrieb anwesend anwesend anwesend" in text
    assert "berechtigt" in text
    assert "teilweise, 45 Min. verpasst" in text
    assert "teilweise, 45 Min. verpasst nachgeholt am" in text
    assert "1 von 4 erfüllen die Regel bisher" in text
    # Teaching units of 45 minutes: the compact format's three days hold 20.
    assert "Unterrichtseinheiten (UE) zu 45 Minuten: angerechnet von 20;" in text

    response = client.get(f"/cohorts/{w.id}/attendance-report.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}
    assert rows["Albers"][4:7] == ("anwesend",) * 3
    assert rows["Albers"][7] == 20
    assert rows["Albers"][8] == "berechtigt"
    assert rows["Öztürk"][5].startswith("abwesend, nachgeholt am ")
    assert rows["Öztürk"][8] == "noch nicht"
    assert rows["Anwesend oder erledigt"][4:7] == (2, 1, 1)
    assert rows["Erwartet"][4:7] == (4, 4, 4)


def test_no_report_once_the_attendance_details_were_deleted(client, make):
    w = world(make)
    w.cohort.attendance_deleted_at = datetime(2030, 1, 1, tzinfo=UTC)
    _db.session.commit()
    log_in(client, "tina@example.org")
    assert "attendance-report" not in client.get(f"/cohorts/{w.id}").get_data(as_text=True)
    refused = client.get(f"/cohorts/{w.id}/attendance-report.xlsx", follow_redirects=True)
    assert refused.status_code == 200
    assert "am Ende der Aufbewahrungsfrist gelöscht" in refused.get_data(as_text=True)


# --- Through a real HTTP server ------------------------------------------------


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "printout_downloads") as (app, base):
        with app.app_context():
            org = organisation_with(Role.TRAINER, "tina@example.org", "Tina Trainerin")
            cohort = compact_cohort(org, "Kompakt Jörg Yılmaz", START)
            enrolled(cohort, "Jörg", "Yılmaz", "joerg@example.org")
            _db.session.commit()
            ids = SimpleNamespace(cohort=cohort.id, session=cohort.sessions[0].id)
        body = urlencode({"email": "tina@example.org", "password": PASSWORD}).encode()
        answer = fetch(
            f"{base}/login", "POST", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert answer.status == 302, answer.body
        # Every cookie the login set (the session's and the known browser's).
        pairs = [c.split(";", 1)[0] for c in answer.msg.get_all("Set-Cookie")]
        cookie = {"Cookie": "; ".join(pairs)}
        yield ids, base, cookie


def test_downloads_are_named_after_the_cohort_outside_latin1(server):
    ids, base, cookie = server
    sheet = fetch(
        f"{base}/cohorts/{ids.cohort}/sessions/{ids.session}/sign-in-sheet.pdf?lang=de",
        headers=cookie,
    )
    assert sheet.status == 200, sheet.body[:300]
    assert sheet.getheader("Content-Type") == "application/pdf"
    assert sheet.getheader("Cache-Control") == "no-store"
    assert sheet.getheader("Content-Disposition") == (
        'attachment; filename="Teilnahmeliste Seminartag 1 Rolle, Lernformate und Lerntheorie'
        '  Kompakt Joerg Yilmaz 2027-03-01.pdf"; '
        "filename*=UTF-8''Teilnahmeliste%20Seminartag%201%20Rolle%2C%20Lernformate%20und"
        "%20Lerntheorie%20%E2%80%93%20Kompakt%20J%C3%B6rg%20Y%C4%B1lmaz%202027-03-01.pdf"
    )
    assert sheet.body.startswith(b"%PDF")
    schedule = fetch(f"{base}/cohorts/{ids.cohort}/schedule.pdf?lang=en", headers=cookie)
    assert schedule.status == 200
    assert schedule.getheader("Content-Disposition") == (
        'attachment; filename="Schedule Kompakt Joerg Yilmaz.pdf"; '
        "filename*=UTF-8''Schedule%20Kompakt%20J%C3%B6rg%20Y%C4%B1lmaz.pdf"
    )
    report = fetch(f"{base}/cohorts/{ids.cohort}/attendance-report.xlsx?lang=de", headers=cookie)
    assert report.status == 200
    disposition = report.getheader("Content-Disposition")
    assert disposition.startswith(
        'attachment; filename="Anwesenheitsbericht Kompakt Joerg Yilmaz '
    )
    assert "filename*=UTF-8''Anwesenheitsbericht%20Kompakt%20J%C3%B6rg%20Y%C4%B1lmaz%20" in (
        disposition
    )
    assert disposition.endswith(".xlsx")
    assert report.getheader("Cache-Control") == "no-store"
    assert report.body.startswith(b"PK")
