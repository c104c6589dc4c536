"""Certificate downloads as a browser receives them from a real HTTP server:
a person's name outside Latin-1 ("Jörg Yılmaz") in the file name must reach
the client as an RFC 6266 name, not hang the development server or make
gunicorn answer 500. Flask's test client would not notice (it does not
encode headers), so these go through tests/real_server.py."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from app.extensions import db
from app.models import (
    Certificate,
    Purpose,
    Role,
)
from app.services import tokens
from app.services.certificates import new_code
from tests.conftest import PASSWORD
from tests.real_server import (
    compact_cohort,
    enrolled,
    fetch,
    organisation_with,
    served,
    session_cookie,
)

CONTENT = {
    "programme": {"de": "Lernbegleitung kompakt", "en": "Training companions, compact"},
    "curriculum": {"de": "Kompakt", "en": "Compact"},
    "version": 1,
    "cohort": "Kompakt İzmir",
    "elements": [
        {
            "title": {"de": "Seminartag 1", "en": "Seminar day 1"},
            "first_day": "2027-03-01",
            "last_day": "2027-03-01",
            "hours": 7.0,
            "made_up": False,
        }
    ],
    "topics": [{"de": "Rolle", "en": "Role"}],
    "teaching_hours": 7.0,
    "issuer": "Muster AG",
    "signatory": "",
    "signatory_role": "",
}


def world(app) -> SimpleNamespace:
    """One HR clerk, a cohort and Jörg Yılmaz with a certificate in force and a
    personal link, committed as the app would have them."""
    with app.app_context():
        org = organisation_with(Role.HR, "hr@example.org", "Hanna Haas")
        cohort = compact_cohort(org, "Kompakt İzmir", date(2027, 3, 1))
        person = enrolled(cohort, "Jörg", "Yılmaz", "joerg@example.org")
        certificate = Certificate(
            organisation_id=org.id,
            serial=1,
            code=new_code(),
            cohort_id=cohort.id,
            participant_id=person.id,
            name=person.name,
            content=CONTENT,
            issued_on=date(2027, 6, 3),
        )
        db.session.add(certificate)
        db.session.flush()
        token = tokens.issue(Purpose.PERSONAL_PAGE, person.id, org.id, None)
        db.session.commit()
        return SimpleNamespace(
            certificate=certificate.id, cohort=cohort.id, org=org.id, token=token
        )


def logged_in(base: str) -> dict[str, str]:
    """The headers of a browser that logged in as the HR clerk."""
    body = urlencode({"email": "hr@example.org", "password": PASSWORD}).encode()
    answer = fetch(
        f"{base}/login",
        "POST",
        body,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 302, answer.body
    return session_cookie(answer)


def assert_pdf_named(answer, disposition: str, fallback: str, encoded: str) -> None:
    assert answer.status == 200, answer.body[:500]
    assert answer.getheader("Content-Type") == "application/pdf"
    assert answer.getheader("Content-Disposition") == (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    )
    assert answer.body.startswith(b"%PDF")


@pytest.fixture
def server(tmp_path):
    with served(tmp_path, "certificate_downloads") as (app, base):
        yield world(app), base


def test_staff_download_a_certificate_of_a_name_outside_latin1(server):
    ids, base = server
    headers = logged_in(base)
    answer = fetch(f"{base}/certificates/{ids.certificate}.pdf?lang=de", headers=headers)
    assert_pdf_named(
        answer,
        "attachment",
        "Zertifikat 00001 Joerg Yilmaz.pdf",
        "Zertifikat%2000001%20J%C3%B6rg%20Y%C4%B1lmaz.pdf",
    )
    english = fetch(f"{base}/certificates/{ids.certificate}.pdf?lang=en", headers=headers)
    assert_pdf_named(
        english,
        "attachment",
        "Certificate 00001 Joerg Yilmaz.pdf",
        "Certificate%2000001%20J%C3%B6rg%20Y%C4%B1lmaz.pdf",
    )


def test_the_person_downloads_theirs_from_the_personal_page(server):
    ids, base = server
    answer = fetch(f"{base}/p/{ids.token}/certificates/{ids.certificate}.pdf?lang=de")
    assert_pdf_named(
        answer,
        "attachment",
        "Zertifikat 00001 Joerg Yilmaz.pdf",
        "Zertifikat%2000001%20J%C3%B6rg%20Y%C4%B1lmaz.pdf",
    )


def test_the_cohort_pdf_and_zip_carry_the_cohort_name_outside_latin1(server):
    ids, base = server
    headers = logged_in(base)
    pdf = fetch(f"{base}/cohorts/{ids.cohort}/certificates.pdf?lang=de", headers=headers)
    assert_pdf_named(
        pdf,
        "attachment",
        "Zertifikate Kompakt Izmir.pdf",
        "Zertifikate%20Kompakt%20%C4%B0zmir.pdf",
    )
    archive = fetch(f"{base}/cohorts/{ids.cohort}/certificates.zip?lang=en", headers=headers)
    assert archive.status == 200
    assert archive.getheader("Content-Type") == "application/zip"
    assert archive.getheader("Content-Disposition") == (
        'attachment; filename="Certificates Kompakt Izmir.zip"; '
        "filename*=UTF-8''Certificates%20Kompakt%20%C4%B0zmir.zip"
    )
    assert archive.body.startswith(b"PK")


def test_the_preview_opens_inline(server):
    ids, base = server
    headers = logged_in(base)
    answer = fetch(
        f"{base}/organisations/{ids.org}/certificates/preview.pdf?lang=de", headers=headers
    )
    assert answer.status == 200
    assert answer.getheader("Content-Type") == "application/pdf"
    assert answer.getheader("Content-Disposition") == 'inline; filename="Beispiel.pdf"'
    assert answer.body.startswith(b"%PDF")
