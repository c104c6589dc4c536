"""What issuing, re-issuing and revoking refuse, and how: a stable code for
every refusal, the same from every door; on a page the reason on top of the
page the form was on (303) and nothing saved."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.models import Certificate, CertificateState, Cohort, Role
from app.services import certificates as service
from app.services.errors import DomainError, NotFound, NotPermitted, StaleEdit, code_of
from app.services.policy import Actor
from tests.web.helpers import log_in, post_form


def setup(make):
    org = make.organisation()
    hr = make.user(Role.HR, [org], email="hr@example.org", name="Hanna Haas")
    trainer = make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW", name="Kompakt Esslingen")
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Bauer")
    return SimpleNamespace(
        org=org,
        hr=hr,
        trainer=trainer,
        cohort=cohort,
        anna=anna,
        ben=ben,
        id=cohort.id,
        page=f"/cohorts/{cohort.id}/certificates",
    )


def refused(client, url: str, data: dict, page: str, *, code: str, query: str = "") -> str:
    """Posts the form of `page`; expects the refusal `code` shown on `page`."""
    response = post_form(
        client, url + query, data, form_url=page, headers={"Referer": f"http://localhost{page}"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == page
    shown = client.get(page).get_data(as_text=True)
    assert f'class="flash error refused-{code}"' in shown
    return shown


def count(db) -> int:
    return db.session.scalar(select(func.count(Certificate.id)))


def test_a_second_certificate_for_the_same_person_is_refused(client, make, db):
    c = setup(make)
    make.certificate(c.cohort, c.anna)
    anna = c.anna.id
    log_in(client, "hr@example.org")
    page = refused(
        client, c.page, {"participant": anna}, c.page, code="already_issued", query="?lang=en"
    )
    assert (
        "Anna Albers has a certificate already; re-issue it to correct it. Nothing was saved."
        in page
    )
    assert count(db) == 1


def test_someone_not_enrolled_in_the_cohort_gets_none(client, make, db):
    c = setup(make)
    outsider = make.participant(c.org, first_name="Olga", last_name="Ohne")
    outsider_id = outsider.id
    log_in(client, "hr@example.org")
    page = refused(client, c.page, {"participant": outsider_id}, c.page, code="not_enrolled")
    assert "Olga Ohne ist in dieser Gruppe nicht eingeschrieben." in page
    assert count(db) == 0


def test_a_person_of_another_organisation_is_not_found(client, make, db):
    c = setup(make)
    other = make.organisation("Andere GmbH")
    stranger = make.participant(other, first_name="Sven", last_name="Fremd")
    stranger_id = stranger.id
    log_in(client, "hr@example.org")
    response = post_form(client, c.page, {"participant": stranger_id})
    assert response.status_code == 404
    assert count(db) == 0


@pytest.mark.parametrize("wanted", ["abc", "²", "9" * 40, "", "-1"])
def test_a_participant_field_that_is_no_id_answers_404(client, make, db, wanted):
    c = setup(make)
    log_in(client, "hr@example.org")
    assert post_form(client, c.page, {"participant": wanted}).status_code == 404
    assert count(db) == 0


def test_nothing_is_issued_once_the_attendance_was_deleted(client, make, db):
    c = setup(make)
    make.attended(c.cohort, c.anna)
    cohort = db.session.get(Cohort, c.id)
    cohort.attendance_deleted_at = datetime.now(UTC)
    db.session.commit()
    anna = c.anna.id
    log_in(client, "hr@example.org")
    for wanted in (anna, "all"):
        refused(client, c.page, {"participant": wanted}, c.page, code="attendance_deleted")
    assert count(db) == 0


def test_trainers_neither_reissue_nor_revoke(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.anna)
    cid = certificate.id
    log_in(client, "trainer@example.org")
    page = f"/certificates/{cid}"
    assert post_form(client, f"{page}/reissue", {"name": "X"}, form_url=c.page).status_code == 403
    assert post_form(client, f"{page}/revoke", {"reason": "X"}, form_url=c.page).status_code == 403
    db.session.expire_all()
    record = db.session.get(Certificate, cid)
    assert record.state is CertificateState.VALID
    assert record.name == "Anna Albers"
    assert count(db) == 1


@pytest.mark.parametrize("name", ["   ", "A" * 201])
def test_a_reissue_needs_a_name_of_1_to_200_characters(client, make, db, name):
    c = setup(make)
    cid = make.certificate(c.cohort, c.anna).id
    log_in(client, "hr@example.org")
    page = f"/certificates/{cid}"
    shown = refused(client, f"{page}/reissue", {"name": name}, page, code="invalid_name")
    assert "Der Name muss 1 bis 200 Zeichen haben." in shown
    db.session.expire_all()
    assert db.session.get(Certificate, cid).state is CertificateState.VALID
    assert count(db) == 1


def test_only_a_certificate_in_force_of_a_person_on_record_is_reissued(client, make, db):
    c = setup(make)
    revoked = make.certificate(c.cohort, c.anna)
    service.revoke_certificate(Actor.system(), revoked.id, "Irrtum")
    superseded = make.certificate(c.cohort, c.anna)
    service.reissue_certificate(Actor.system(), superseded.id, "Anna Albers-Kühn")
    erased = make.certificate(c.cohort, c.ben)
    erased.name, erased.participant_id = "", None  # as an erasure leaves it
    db.session.commit()
    cases = {
        revoked.id: "already_revoked",
        superseded.id: "superseded",
        erased.id: "erased_person",
    }
    before = count(db)
    log_in(client, "hr@example.org")
    for cid, code in cases.items():
        page = f"/certificates/{cid}"
        shown = refused(client, f"{page}/reissue", {"name": "Neu"}, page, code=code)
        assert "Nur ein gültiges Zertifikat kann neu ausgestellt werden." in shown
    assert count(db) == before
    assert "Neu" not in db.session.scalars(select(Certificate.name)).all()


def test_a_certificate_is_revoked_once(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.anna)
    service.revoke_certificate(Actor.system(), certificate.id, "Irrtümlich ausgestellt")
    db.session.commit()
    cid = certificate.id
    log_in(client, "hr@example.org")
    page = f"/certificates/{cid}"
    shown = refused(
        client, f"{page}/revoke", {"reason": "Noch einmal"}, page, code="already_revoked"
    )
    assert "Dieses Zertifikat ist bereits widerrufen." in shown
    db.session.expire_all()
    assert db.session.get(Certificate, cid).revoked_reason == "Irrtümlich ausgestellt"


def test_a_revocation_reason_over_500_characters_is_refused(client, make, db):
    c = setup(make)
    cid = make.certificate(c.cohort, c.anna).id
    log_in(client, "hr@example.org")
    page = f"/certificates/{cid}"
    refused(client, f"{page}/revoke", {"reason": "x" * 501}, page, code="reason_required")
    db.session.expire_all()
    assert db.session.get(Certificate, cid).revoked_at is None


def test_a_script_on_the_page_gets_the_code_as_json(client, make, db):
    c = setup(make)
    make.certificate(c.cohort, c.anna)
    anna = c.anna.id
    log_in(client, "hr@example.org")
    response = post_form(
        client, c.page, {"participant": anna}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "already_issued"
    assert count(db) == 1


def test_an_erased_persons_certificate_is_verifiable_but_not_printed(client, make, db):
    c = setup(make)
    certificate = make.certificate(c.cohort, c.anna)
    certificate.name, certificate.participant_id = "", None
    db.session.commit()
    cid, code = certificate.id, certificate.code
    log_in(client, "hr@example.org")
    assert client.get(f"/certificates/{cid}.pdf").status_code == 404
    assert client.get(f"/certificates/{cid}").status_code == 200
    assert client.get(f"/verify/{code}").status_code == 200


# The services themselves, as every door calls them.


def test_the_policy_decides_who_issues_through_the_service(make, db):
    c = setup(make)
    make.attended(c.cohort, c.anna)
    stranger = make.user(Role.HR, [make.organisation("Andere GmbH")], email="hr@andere.example")
    with pytest.raises(NotPermitted):
        service.issue_certificate(Actor.of_user(c.trainer), c.id, c.anna.id)
    with pytest.raises(NotPermitted):
        service.issue_eligible(Actor.of_user(c.trainer), c.id)
    with pytest.raises(NotFound):
        service.issue_certificate(Actor.of_user(stranger), c.id, c.anna.id)
    assert count(db) == 0
    issued = service.issue_certificate(Actor.of_user(c.hr), c.id, c.anna.id)
    assert issued.issued_by.id == c.hr.id
    with pytest.raises(NotPermitted):
        service.revoke_certificate(Actor.of_user(c.trainer), issued.id, "Irrtum")
    revoked = service.revoke_certificate(Actor.of_user(c.hr), issued.id, " Irrtum  ")
    assert (revoked.revoked_reason, revoked.revoked_by.id) == ("Irrtum", c.hr.id)


def test_each_refusal_has_its_stable_code(make, db):
    c = setup(make)
    make.attended(c.cohort, c.anna)
    system = Actor.system()

    def code(call, *args) -> str:
        with pytest.raises(DomainError) as caught:
            call(system, *args)
        return code_of(caught.value)

    assert code(service.issue_certificate, c.id, c.ben.id) == "not_eligible"
    first = service.issue_certificate(system, c.id, c.anna.id)
    assert code(service.issue_certificate, c.id, c.anna.id) == "already_issued"
    assert code(service.reissue_certificate, first.id, "") == "invalid_name"
    assert code(service.revoke_certificate, first.id, "") == "reason_required"
    service.revoke_certificate(system, first.id, "Irrtum")
    assert code(service.revoke_certificate, first.id, "Noch einmal") == "already_revoked"
    assert code(service.reissue_certificate, first.id, "Anna") == "already_revoked"
    assert code(service.issue_certificate, c.id, 10**9) == "not_found"


def test_a_certificate_issued_by_someone_else_at_the_same_moment_is_a_stale_edit(
    make, db, monkeypatch
):
    """Both pass the check; the unique index stops the second, reported as a
    stale edit for the commit point to roll back."""
    c = setup(make)
    make.certificate(c.cohort, c.anna)
    monkeypatch.setattr(service, "in_force", lambda cohort: [])  # the first is not seen yet
    with pytest.raises(StaleEdit) as caught:
        service.issue_certificate(Actor.system(), c.id, c.anna.id)
    assert code_of(caught.value) == "stale"
    assert "issued certificates for this cohort just now" in str(caught.value.message)
    db.session.rollback()


def test_the_personal_page_finds_only_the_persons_own_certificate_in_force(make, db):
    c = setup(make)
    mine = make.certificate(c.cohort, c.anna)
    others = make.certificate(c.cohort, c.ben)
    assert service.personal_certificate(c.anna.id, mine.id) is mine
    with pytest.raises(NotFound):
        service.personal_certificate(c.anna.id, others.id)
    with pytest.raises(NotFound):
        service.personal_certificate(c.anna.id, 10**9)
    service.revoke_certificate(Actor.system(), mine.id, "Irrtum")
    with pytest.raises(NotFound):
        service.personal_certificate(c.anna.id, mine.id)
