"""Certificates: HR issues them for eligible people, prints them as PDF, re-issues
and revokes them; anyone checks one on the verification page."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import throttle
from app.models import Certificate, CertificateState, Participant, Role
from app.services import certificates as service
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.web.helpers import csrf_token, log_in, post_form


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)


def setup(make, *names):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org", name="Hanna Haas")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW", name="Kompakt Esslingen")
    people = {}
    for first, last in names or [("Anna", "Albers"), ("Ben", "Bauer")]:
        people[first] = make.participant(org, cohort=cohort, first_name=first, last_name=last)
    # Records detach once a request ran: tests use these ids afterwards.
    ids = {first: person.id for first, person in people.items()}
    return SimpleNamespace(org=org, cohort=cohort, id=cohort.id, people=people, ids=ids)


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def issue(client, c, who="all"):
    """Issues from the cohort's certificate page, as the browser does (a
    refusal answers back to that page)."""
    page = f"/cohorts/{c.id}/certificates"
    return post_form(
        client,
        page,
        {"participant": who},
        headers={"Referer": f"http://localhost{page}"},
        follow_redirects=True,
    )


def test_hr_issues_a_certificate_that_prints_what_it_froze(client, make, db):
    c = setup(make)
    make.attended(c.cohort, c.people["Anna"])
    log_in(client, "hr@example.org")
    page = issue(client, c, str(c.ids["Anna"])).get_data(as_text=True)
    assert "1 Zertifikat ausgestellt." in page
    certificate = db.session.scalar(select(Certificate))
    cert_id, code = certificate.id, certificate.code
    assert certificate.serial == 1
    assert certificate.name == "Anna Albers"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", certificate.code)
    content = certificate.content
    assert content["issuer"] == "Muster AG"
    assert content["teaching_hours"] == pytest.approx(15.0)
    assert content["teaching_units"] == 20
    assert content["unit_minutes"] == 45
    assert [e["units"] for e in content["elements"]] == [8, 8, 4]
    assert [e["first_day"] for e in content["elements"]] == [
        "2027-03-01",
        "2027-03-02",
        "2027-04-27",
    ]

    pdf = client.get(f"/certificates/{cert_id}.pdf?lang=de")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    (text,) = pdf_text(pdf.data)
    assert "Anna Albers" in text
    assert "Zertifikat" in text
    assert "01.03.2027" in text
    assert "27.04.2027" in text
    assert "Nr. 00001" in text
    assert service.grouped(code) in text
    assert f"localhost/verify/{code}" in text
    assert "mit 20 Unterrichtseinheiten à 45 Minuten" in " ".join(text.split())

    english = pdf_text(client.get(f"/certificates/{cert_id}.pdf?lang=en").data)[0]
    assert "Certificate" in english
    assert "1 Mar 2027" in english


def test_a_certificate_issued_when_certificates_stated_hours_still_prints_them(client, make, db):
    c = setup(make)
    make.attended(c.cohort, c.people["Anna"])
    log_in(client, "hr@example.org")
    issue(client, c, str(c.ids["Anna"]))
    certificate = db.session.scalar(select(Certificate))
    # The snapshot as certificates froze it before teaching units.
    old = {
        k: v for k, v in certificate.content.items() if k not in ("teaching_units", "unit_minutes")
    }
    old["elements"] = [{k: v for k, v in e.items() if k != "units"} for e in old["elements"]]
    old["teaching_hours"] = 18.0
    certificate.content = old
    db.session.commit()
    pdf = client.get(f"/certificates/{certificate.id}.pdf?lang=de")
    assert pdf.status_code == 200
    (text,) = pdf_text(pdf.data)
    # The hours as issued (in whatever words the catalogue has for hours), no units.
    assert "mit 18 " in " ".join(text.split())
    assert "Unterrichtseinheiten" not in text


def test_someone_who_does_not_meet_the_rule_gets_none(client, make, db):
    c = setup(make)
    make.attended(c.cohort, c.people["Ben"], mark=Mark.ABSENT)
    log_in(client, "hr@example.org")
    page = issue(client, c, str(c.ids["Ben"])).get_data(as_text=True)
    assert 'class="flash error refused-not_eligible"' in page
    assert (
        "Ben Bauer erfüllt die Regel für das Zertifikat nicht. Es wurde nichts gespeichert."
        in page
    )
    assert db.session.scalar(select(func.count(Certificate.id))) == 0
    listing = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert (
        "fehlt: Seminartag 1: Rolle, Lernformate und Lerntheorie (abwesend am Mo. 01.03.2027)"
        in listing
    )


def test_issuing_for_everyone_skips_who_is_not_eligible_or_has_one(client, make, db):
    c = setup(make, ("Anna", "Albers"), ("Ben", "Bauer"), ("Cem", "Çelik"), ("Dora", "Dietz"))
    for name in ("Anna", "Cem", "Dora"):
        make.attended(c.cohort, c.people[name])
    make.certificate(c.cohort, c.people["Dora"])
    log_in(client, "hr@example.org")
    assert "2 Zertifikate ausgestellt." in issue(client, c).get_data(as_text=True)
    names = db.session.scalars(select(Certificate.name).order_by(Certificate.serial)).all()
    assert names == ["Dora Dietz", "Anna Albers", "Cem Çelik"]
    listing = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert 'name="participant" value="all"' not in listing  # nobody is waiting any more


def test_the_whole_cohort_prints_as_one_pdf_in_the_order_of_the_list(client, make, db):
    c = setup(make, ("Ute", "Zander"), ("Anna", "Albers"), ("Ömer", "Öztürk"))
    for person in c.people.values():
        make.certificate(c.cohort, person)
    log_in(client, "hr@example.org")
    response = client.get(f"/cohorts/{c.id}/certificates.pdf?lang=de")
    assert response.status_code == 200
    assert "Zertifikate Kompakt Esslingen.pdf" in response.headers["Content-Disposition"]
    pages = pdf_text(response.data)
    firsts = [
        next(n for n in ("Anna Albers", "Ömer Öztürk", "Ute Zander") if n in p) for p in pages
    ]
    assert firsts == ["Anna Albers", "Ömer Öztürk", "Ute Zander"]


def test_the_zip_holds_one_pdf_per_person_named_by_person(client, make, db):
    c = setup(make, ("Anna", "Albers"), ("Łukasz", "Wiśniewski"))
    for person in c.people.values():
        make.certificate(c.cohort, person)
    log_in(client, "trainer@example.org")  # trainers print too
    response = client.get(f"/cohorts/{c.id}/certificates.zip?lang=en")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [
        "Certificate 00001 Anna Albers.pdf",
        "Certificate 00002 Łukasz Wiśniewski.pdf",
    ]
    text = pdf_text(archive.read("Certificate 00002 Łukasz Wiśniewski.pdf"))
    assert len(text) == 1
    assert "Łukasz Wiśniewski" in text[0]


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Łukasiewicz-Øvergaard",
        "Şükrü Ağaoğlu",
        "Nguyễn Thị Minh Khai",
        "Γιώργος Παπαδόπουλος",
        "Анна Смирнова",
        "Maël O’Brien-Ñúñez",
    ],
)
def test_names_from_any_hr_system_print_with_their_own_letters(client, make, db, name):
    first, last = name.split(" ", 1)
    c = setup(make, (first, last))
    cert_id = make.certificate(c.cohort, c.people[first]).id
    log_in(client, "hr@example.org")
    (text,) = pdf_text(client.get(f"/certificates/{cert_id}.pdf").data)
    assert name in text


def test_a_name_the_font_cannot_print_is_pointed_out(client, make, db):
    c = setup(make, ("太郎", "山田"))
    log_in(client, "hr@example.org")
    page = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert "Die Zertifikatsschrift hat keine Zeichen für: 太山田郎" in page


def test_reissue_after_a_name_correction_supersedes_the_old_one(client, make, db):
    c = setup(make)
    old = make.certificate(c.cohort, c.people["Anna"])
    old_id, old_code = old.id, old.code
    log_in(client, "hr@example.org")
    page = post_form(
        client,
        f"/certificates/{old_id}/reissue",
        {"name": "Anna  Albers-Kühn "},
        form_url=f"/cohorts/{c.id}/certificates",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Zertifikat Nr. 00002 für Anna Albers-Kühn ausgestellt; Nr. 00001 ist ersetzt." in page
    db.session.expire_all()
    old, new = (
        db.session.get(Certificate, old_id),
        db.session.scalar(select(Certificate).where(Certificate.serial == 2)),
    )
    assert old.state is CertificateState.SUPERSEDED
    assert old.superseded_by_id == new.id
    assert new.state is CertificateState.VALID
    assert new.name == "Anna Albers-Kühn"
    assert new.code != old_code
    assert new.content == old.content

    checked = client.get(f"/verify/{old_code}")
    assert checked.status_code == 200
    assert "Ersetztes Zertifikat" in checked.get_data(as_text=True)
    # A superseded certificate is not printed any more.
    assert client.get(f"/certificates/{old_id}.pdf").status_code == 404


def test_revoking_asks_first_and_says_it_cannot_be_undone(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.people["Anna"])
    cid, serial, code = certificate.id, service.serial_label(certificate.serial), certificate.code
    log_in(client, "hr@example.org")
    record = client.get(f"/certificates/{cid}").get_data(as_text=True)
    assert f'href="/certificates/{cid}/revoke"' in record
    # German dates and teaching units, as the certificate itself says them.
    assert "01.03.2027: " in record
    assert "2027-03-01" not in record
    assert re.search(r"<dt>Unterrichtseinheiten</dt><dd>\d+(,\d+)? UE</dd>", record)
    assert 'name="reason"' not in record  # the reason is asked on the next page

    question = client.get(f"/certificates/{cid}/revoke").get_data(as_text=True)
    assert f"Zertifikat Nr. {serial} von Anna Albers widerrufen?" in question
    assert f"Wer den Code {service.grouped(code)} prüft, erfährt ab sofort" in question
    assert "Ein Widerruf lässt sich nicht rückgängig machen." in question
    assert "ein neues Zertifikat mit neuer Nummer und neuem Code" in question
    assert 'name="csrf_token"' in question
    assert 'name="reason"' in question
    db.session.expire_all()
    assert db.session.get(Certificate, cid).revoked_at is None

    # Without the page's token nothing is revoked.
    forged = client.post(f"/certificates/{cid}/revoke", data={"reason": "Irrtum"})
    assert forged.status_code == 400
    done = post_form(
        client,
        f"/certificates/{cid}/revoke",
        {"reason": "Irrtum"},
        form_url=f"/certificates/{cid}/revoke",
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, cid).state is CertificateState.REVOKED
    again = client.get(f"/certificates/{cid}/revoke").get_data(as_text=True)
    assert "Nur ein gültiges Zertifikat kann widerrufen werden." in again
    assert 'name="reason"' not in again

    # Trainers neither revoke nor see the question.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainer@example.org")
    assert client.get(f"/certificates/{cid}/revoke").status_code == 403


def test_revocation_keeps_the_record_and_the_check_says_410(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.people["Anna"])
    cid, code = certificate.id, certificate.code
    log_in(client, "hr@example.org")
    form = f"/cohorts/{c.id}/certificates"
    refused = post_form(
        client,
        f"/certificates/{cid}/revoke",
        {"reason": "  "},
        form_url=form,
        headers={"Referer": f"http://localhost/certificates/{cid}"},
    )
    assert refused.status_code == 303
    assert refused.headers["Location"] == f"/certificates/{cid}"
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error refused-reason_required"' in page
    assert "Geben Sie einen Grund für den Widerruf an (bis zu 500 Zeichen)." in page
    db.session.expire_all()
    assert db.session.get(Certificate, cid).revoked_at is None

    post_form(
        client, f"/certificates/{cid}/revoke", {"reason": "Irrtümlich ausgestellt"}, form_url=form
    )
    db.session.expire_all()
    record = db.session.get(Certificate, cid)
    assert record.state is CertificateState.REVOKED
    assert record.revoked_reason == "Irrtümlich ausgestellt"
    assert record.revoked_by.name == "Hanna Haas"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    checked = client.get(f"/verify/{code}")
    assert checked.status_code == 410
    text = checked.get_data(as_text=True)
    assert "Widerrufenes Zertifikat" in text
    assert "Anna Albers" in text
    assert "Irrtümlich" not in text  # the reason is for HR, not the public
    # Once revoked, it may be issued anew (e.g. after a make-up).
    log_in(client, "hr@example.org")
    assert "1 Zertifikat ausgestellt." in issue(client, c, str(c.ids["Anna"])).get_data(
        as_text=True
    )


def test_the_verification_page_says_only_what_the_certificate_says(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.people["Anna"])
    code, email = certificate.code, c.people["Anna"].email
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "Gültiges Zertifikat" in text
    for shown in ("Anna Albers", "Lernbegleitung", "Muster AG", "00001"):
        assert shown in text
    assert email not in text
    assert "abwesend" not in text
    assert "Seminartag 1" not in text


def test_a_typed_code_is_read_generously_and_a_wrong_one_answers_404(client, make, db):
    c = setup(make)
    code = make.certificate(c.cohort, c.people["Anna"]).code
    typed = " ".join(service.grouped(code).lower().split("-")).replace("0", "o").replace("1", "l")
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{code}"

    malformed = client.get("/verify", query_string={"code": "123"})
    assert malformed.status_code == 200
    assert "16 Buchstaben und Ziffern" in malformed.get_data(as_text=True)

    unknown = client.get("/verify/" + "Z" * 16)
    assert unknown.status_code == 404
    assert "Kein Zertifikat mit diesem Code" in unknown.get_data(as_text=True)


def test_guessing_codes_is_throttled(client, app):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    answers = [client.get(f"/verify/{n:016d}").status_code for n in range(limit + 1)]
    assert answers[:limit] == [404] * limit
    assert answers[limit] == 429
    assert client.get("/verify/" + "0" * 16).headers["Retry-After"] == "60"
    assert "Zu viele Anfragen" in client.get("/verify").get_data(as_text=True)


def test_trainers_see_the_list_but_do_not_issue(client, make, db):
    c = setup(make)
    make.attended(c.cohort, c.people["Anna"])
    log_in(client, "trainer@example.org")
    page = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert "Anna Albers" in page
    assert "Ausstellen" not in page
    response = post_form(
        client,
        f"/cohorts/{c.id}/certificates",
        {"participant": "all"},
        form_url=f"/cohorts/{c.id}/attendance",
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_an_issued_certificate_does_not_change_with_the_person_or_the_letterhead(client, make, db):
    c = setup(make)
    c.org.signatory_name = "Dr. Erste Unterschrift"
    cert_id = make.certificate(c.cohort, c.people["Anna"]).id
    person = db.session.get(Participant, c.ids["Anna"])
    person.last_name = "Umbenannt"
    c.org.signatory_name = "Neue Unterschrift"
    db.session.commit()
    log_in(client, "hr@example.org")
    (text,) = pdf_text(client.get(f"/certificates/{cert_id}.pdf").data)
    assert "Anna Albers" in text
    assert "Dr. Erste Unterschrift" in text
    assert "Umbenannt" not in text
    assert "Neue Unterschrift" not in text


def test_serial_numbers_count_per_organisation(client, make, db):
    first = setup(make)
    other = make.organisation("Andere GmbH")
    cohort = make.cohort(other, start=date(2027, 3, 1), region="DE-BW")
    stranger = make.participant(other, cohort=cohort)
    serials = [
        make.certificate(first.cohort, first.people["Anna"]).serial,
        make.certificate(cohort, stranger).serial,
        make.certificate(first.cohort, first.people["Ben"]).serial,
    ]
    assert serials == [1, 1, 2]


def test_the_database_keeps_one_certificate_in_force_per_person(make, db):
    """Two people issuing at the same moment both pass the service's check;
    the unique index turns the second into a refusal instead of a duplicate."""
    c = setup(make)
    first = make.certificate(c.cohort, c.people["Anna"])
    twin = Certificate(
        organisation_id=c.org.id,
        serial=99,
        code=service.new_code(),
        cohort_id=c.id,
        participant_id=first.participant_id,
        name=first.name,
        content=first.content,
        issued_on=first.issued_on,
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_participants_download_their_own_from_their_personal_page(client, make, db):
    from app.models import Purpose
    from app.services import tokens

    c = setup(make)
    mine = make.certificate(c.cohort, c.people["Anna"])
    others = make.certificate(c.cohort, c.people["Ben"])
    token = tokens.issue(Purpose.PERSONAL_PAGE, c.ids["Anna"], c.org.id, None)
    db.session.commit()
    mine_id, others_id = mine.id, others.id
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "<dt>Zertifikat</dt><dd>ausgestellt am" in page
    link = f"/p/{token}/certificates/{mine_id}.pdf"
    assert link in page
    assert f"/certificates/{others_id}.pdf" not in page
    (text,) = pdf_text(client.get(link).data)
    assert "Anna Albers" in text
    assert client.get(f"/p/{token}/certificates/{others_id}.pdf").status_code == 404
    service.revoke_certificate(Actor.system(), mine_id, "Test")
    db.session.commit()
    assert client.get(link).status_code == 404
    after = client.get(f"/p/{token}").get_data(as_text=True)
    assert link not in after
    assert "<dt>Zertifikat</dt><dd>noch nicht ausgestellt</dd>" in after


def test_hr_sees_on_a_persons_page_whether_and_when_they_qualified(client, make, db):
    c = setup(make)
    first = make.certificate(c.cohort, c.people["Anna"])
    service.revoke_certificate(Actor.system(), first.id, "Falsches Programm")
    make.certificate(c.cohort, c.people["Anna"])
    db.session.commit()
    log_in(client, "hr@example.org")
    page = client.get(f"/participants/{c.ids['Anna']}").get_data(as_text=True)
    assert "Nr. 00001 vom" in page
    assert "Nr. 00002 vom" in page
    assert "widerrufen" in page
    assert "gültig" in page
    assert "Kein Zertifikat ausgestellt." in client.get(f"/participants/{c.ids['Ben']}").get_data(
        as_text=True
    )


def test_a_certificates_record_page_shows_what_it_says_and_its_history(client, make, db):
    c = setup(make)
    old_id = make.certificate(c.cohort, c.people["Anna"]).id
    log_in(client, "hr@example.org")
    listing = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert f'href="/certificates/{old_id}"' in listing
    page = client.get(f"/certificates/{old_id}").get_data(as_text=True)
    assert "Zertifikat Nr. 00001" in page
    assert "Seminartag 1: Rolle, Lernformate und Lerntheorie" in page
    assert "Mit diesem Namen neu ausstellen" in page
    reissued = post_form(
        client,
        f"/certificates/{old_id}/reissue",
        {"name": "Anna Albers-Kühn"},
        form_url=f"/certificates/{old_id}",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Zertifikat Nr. 00002" in reissued  # now on the new one's page
    old_page = client.get(f"/certificates/{old_id}").get_data(as_text=True)
    assert "Ersetzt durch" in old_page
    assert "Mit diesem Namen neu ausstellen" not in old_page
    new_id = db.session.scalar(select(Certificate.id).where(Certificate.serial == 2))
    assert "Zertifikat widerrufen" in client.get(f"/certificates/{new_id}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "trainer@example.org")
    trainer_view = client.get(f"/certificates/{new_id}").get_data(as_text=True)
    assert "Anna Albers-Kühn" in trainer_view
    assert "Zertifikat widerrufen" not in trainer_view


def test_someone_who_left_the_cohort_after_the_certificate_still_prints(client, make, db):
    from app.models import Enrolment, EnrolmentStatus

    c = setup(make)
    make.certificate(c.cohort, c.people["Ben"])
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.participant_id == c.ids["Ben"])
    )
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    log_in(client, "hr@example.org")
    listing = client.get(f"/cohorts/{c.id}/certificates").get_data(as_text=True)
    assert "Alle drucken (PDF, Deutsch)" in listing
    pages = pdf_text(client.get(f"/cohorts/{c.id}/certificates.pdf").data)
    assert len(pages) == 1
    assert "Ben Bauer" in pages[0]
