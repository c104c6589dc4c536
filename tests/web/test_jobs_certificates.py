"""Many certificates as one PDF, drawn by the worker: a large cohort's and
a whole year's. The page starts a job; the job's page links the PDF."""

from __future__ import annotations

import io
import re
from datetime import date
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import queue
from app.models import Certificate, Job, Role
from app.services import jobs
from tests.web.helpers import csrf_token, log_in

NAMES = (("Ute", "Zander"), ("Anna", "Albers"), ("Ömer", "Öztürk"))


@pytest.fixture(autouse=True)
def empty_queue():
    queue.huey.flush()
    yield
    queue.huey.flush()


def certified(make, names=NAMES):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org", name="Hanna Haas")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW", name="Kompakt Esslingen")
    for first, last in names:
        person = make.participant(org, cohort=cohort, first_name=first, last_name=last)
        make.certificate(cohort, person)
    return SimpleNamespace(org=org.id, cohort=cohort.id)


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def start(client, page: str, action: str, lang: str):
    token = csrf_token(client, page)
    response = client.post(action, data={"csrf_token": token, "lang": lang})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/jobs/")
    return location


def test_a_large_cohorts_certificates_are_drawn_by_the_worker(client, db, make, monkeypatch):
    # A cohort counts as large from CERTIFICATES_FROM certificates; three make it one here.
    monkeypatch.setattr(jobs, "CERTIFICATES_FROM", 3)
    c = certified(make)
    log_in(client, "trainer@example.org")  # trainers print too
    page = client.get(f"/cohorts/{c.cohort}/certificates").get_data(as_text=True)
    assert f'action="/cohorts/{c.cohort}/certificates/print"' in page
    assert f"/cohorts/{c.cohort}/certificates.pdf" not in page

    location = start(
        client,
        f"/cohorts/{c.cohort}/certificates",
        f"/cohorts/{c.cohort}/certificates/print",
        "de",
    )
    waiting = client.get(location).get_data(as_text=True)
    assert 'max="3" value="0"' in waiting
    assert "Zertifikate drucken" in waiting
    assert client.get(f"{location}/file").status_code == 404  # not drawn yet

    queue.run_pending()
    done = client.get(location).get_data(as_text=True)
    assert "3 Zertifikate in einer PDF-Datei." in done
    assert f'href="{location}/file"' in done
    response = client.get(f"{location}/file")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "Zertifikate Kompakt Esslingen.pdf" in response.headers["Content-Disposition"]
    pages = pdf_text(response.data)
    firsts = [
        next(n for n in ("Anna Albers", "Ömer Öztürk", "Ute Zander") if n in p) for p in pages
    ]
    assert firsts == ["Anna Albers", "Ömer Öztürk", "Ute Zander"]
    # The verification address is the one a download from the page prints.
    code = db.session.scalars(select(Certificate.code)).first()
    assert any("localhost/verify/" in p for p in pages), code


def test_a_years_certificates_print_as_one_pdf_in_english(client, db, make):
    c = certified(make)
    year = db.session.scalars(select(Certificate.issued_on)).first().year
    log_in(client, "hr@example.org")
    cohort_page = client.get(f"/cohorts/{c.cohort}/certificates").get_data(as_text=True)
    assert f'href="/organisations/{c.org}/certificates/years"' in cohort_page
    years = client.get(f"/organisations/{c.org}/certificates/years").get_data(as_text=True)
    assert f'<th scope="row">{year}</th>' in years
    assert "3 Zertifikate" in years

    location = start(
        client,
        f"/organisations/{c.org}/certificates/years",
        f"/organisations/{c.org}/certificates/years/{year}/print",
        "en",
    )
    queue.run_pending()
    done = client.get(location).get_data(as_text=True)
    assert "3 Zertifikate in einer PDF-Datei." in done  # the page speaks the user's language
    response = client.get(f"{location}/file")
    assert f"Certificates Muster AG {year}.pdf" in response.headers["Content-Disposition"]
    pages = pdf_text(response.data)
    assert len(pages) == 3
    assert all("Certificate" in p for p in pages)


def test_the_pdf_is_only_for_who_started_it_and_admins(client, db, make):
    c = certified(make)
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [other], email="admin@andere.example.org")
    year = db.session.scalars(select(Certificate.issued_on)).first().year
    log_in(client, "hr@example.org")
    location = start(
        client,
        f"/organisations/{c.org}/certificates/years",
        f"/organisations/{c.org}/certificates/years/{year}/print",
        "de",
    )
    queue.run_pending()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    for email in ("trainer@example.org", "admin@andere.example.org"):
        log_in(client, email)
        assert client.get(location).status_code == 404
        assert client.get(f"{location}/file").status_code == 404
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    log_in(client, "admin@andere.example.org")
    assert client.get(f"/organisations/{c.org}/certificates/years").status_code == 404
    token = csrf_token(client, "/")
    response = client.post(
        f"/organisations/{c.org}/certificates/years/{year}/print",
        data={"csrf_token": token, "lang": "de"},
    )
    assert response.status_code == 404
    assert len(db.session.scalars(select(Job)).all()) == 1


def test_old_results_are_cleaned_up_after_a_day(client, db, make):
    from datetime import UTC, datetime

    c = certified(make, NAMES[:1])
    year = db.session.scalars(select(Certificate.issued_on)).first().year
    log_in(client, "hr@example.org")
    location = start(
        client,
        f"/organisations/{c.org}/certificates/years",
        f"/organisations/{c.org}/certificates/years/{year}/print",
        "de",
    )
    queue.run_pending()
    assert client.get(f"{location}/file").status_code == 200
    jobs.sweep(datetime.now(UTC) + jobs.KEEP / 2)
    db.session.commit()
    assert client.get(f"{location}/file").status_code == 200
    jobs.sweep(datetime.now(UTC) + jobs.KEEP + jobs.KEEP / 10)
    db.session.commit()
    assert client.get(location).status_code == 404
    assert db.session.scalars(select(Job)).all() == []


def test_starting_without_the_forms_token_starts_nothing(client, db, make):
    c = certified(make, NAMES[:1])
    year = db.session.scalars(select(Certificate.issued_on)).first().year
    log_in(client, "hr@example.org")
    response = client.post(
        f"/organisations/{c.org}/certificates/years/{year}/print", data={"lang": "de"}
    )
    assert response.status_code == 400
    assert db.session.scalars(select(Job)).all() == []
    assert re.search(
        "Zertifikat", client.get(f"/cohorts/{c.cohort}/certificates").get_data(as_text=True)
    )


def test_erasing_a_person_drops_the_pdfs_that_print_them(client, db, make):
    from app.models import Participant
    from app.services import privacy
    from app.services.policy import Actor

    c = certified(make)
    year = db.session.scalars(select(Certificate.issued_on)).first().year
    log_in(client, "hr@example.org")
    location = start(
        client,
        f"/organisations/{c.org}/certificates/years",
        f"/organisations/{c.org}/certificates/years/{year}/print",
        "de",
    )
    queue.run_pending()
    assert client.get(f"{location}/file").status_code == 200
    anna = db.session.scalar(select(Participant).where(Participant.first_name == "Anna"))
    privacy.erase(Actor.system(), anna.id, anna.name)
    db.session.commit()
    assert client.get(f"{location}/file").status_code == 404
    assert 'href="/jobs/' not in client.get(location).get_data(as_text=True).split("<main")[1]
