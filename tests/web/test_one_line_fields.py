"""Names, titles and links are one line; addresses are lines of printable
text. A control character anywhere is refused at its field, in the user's
language, and nothing is stored; what is stored is in Unicode NFC."""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import func, select

from app.models import Certificate, Cohort, Organisation, Role, Session
from tests.web.helpers import csrf_token, log_in, post_form
from tests.web.test_cohort_pages import cohort_form, planner

ONE_LINE = "darf nur eine Zeile Text sein, ohne Zeilenumbrüche oder andere Steuerzeichen"
PRINTABLE = "enthält ein Steuerzeichen, das sich nicht drucken lässt"


def test_planning_a_cohort_refuses_control_characters_at_their_field(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    for changes, expected in (
        ({"name": "Frühjahr\r\nBcc: alle@example.org"}, ONE_LINE),
        ({"name": "Frühjahr\x1b[31m"}, ONE_LINE),
        # The region is chosen from a list: anything else is not one of its choices.
        ({"region": "DE-BW\x1f"}, "Bitte eine Region aus der Liste wählen."),
        ({"venue": "Schulungszentrum\nRaum 1\x07"}, PRINTABLE),
        ({"closures": "2027-05-27 Betriebs\x1bfeier"}, ONE_LINE),
    ):
        response = post_form(client, "/cohorts/new", cohort_form(org, version, **changes))
        assert response.status_code == 400, changes
        page = response.get_data(as_text=True)
        assert "Es wurde nichts gespeichert." in page
        assert expected in page, changes
    assert db.session.scalar(select(func.count(Cohort.id))) == 0
    assert db.session.scalar(select(func.count(Session.id))) == 0


def test_an_address_keeps_its_lines_and_is_stored_composed(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    venue = unicodedata.normalize("NFD", "Zentrum Nguyễn\r\nHauptstraße 1\r\n70173 Stuttgart")
    name = unicodedata.normalize("NFD", "Frühjahr Göppingen")
    response = post_form(client, "/cohorts/new", cohort_form(org, version, name=name, venue=venue))
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort))
    assert cohort.name == "Frühjahr Göppingen"
    assert unicodedata.is_normalized("NFC", cohort.name)
    assert cohort.venue == "Zentrum Nguyễn\nHauptstraße 1\n70173 Stuttgart"
    assert unicodedata.is_normalized("NFC", cohort.venue)


def test_a_session_venue_with_a_control_character_is_refused(client, make, db):
    org = make.organisation()
    make.user(Role.TRAINER, [org], email="planner@example.org")
    cohort = make.cohort(org, start=date(2027, 1, 11), region="DE-BY")
    session = cohort.sessions[0]
    cohort_id, session_id, version = cohort.id, session.id, session.lock_version
    log_in(client, "planner@example.org")
    page = f"/cohorts/{cohort_id}/sessions/{session_id}"
    response = client.post(
        f"{page}/details",
        data={
            "csrf_token": csrf_token(client, page),
            "details-version": version,
            "details-venue": "Raum 1\x1b",
            "details-online_link": "",
        },
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )
    assert f"Ort des Termins: {PRINTABLE}." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, session_id).venue is None
    assert db.session.get(Session, session_id).lock_version == version


def test_a_reissue_and_the_signatory_refuse_control_characters(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org)
    person = make.participant(org, cohort, first_name="Anna", last_name="Albers")
    certificate = make.certificate(cohort, person)
    org_id, certificate_id, cohort_id = org.id, certificate.id, cohort.id
    log_in(client, "hr@example.org")
    page = post_form(
        client,
        f"/certificates/{certificate_id}/reissue",
        {"name": "Anna\x7f Albers"},
        form_url=f"/cohorts/{cohort_id}/certificates",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Name auf dem Zertifikat: {ONE_LINE}." in page
    assert db.session.scalar(select(func.count(Certificate.id))) == 1

    url = f"/organisations/{org_id}/certificates"
    form = client.get(url).get_data(as_text=True)
    version = form.split('name="version"')[1].split('value="')[1].split('"')[0]
    page = post_form(
        client,
        url,
        {"signatory_name": "Dr. Hägele\u2028", "signatory_role": "", "version": version},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Unterzeichnet von: {ONE_LINE}." in page
    db.session.expire_all()
    assert db.session.get(Organisation, org_id).signatory_name in ("", None)
