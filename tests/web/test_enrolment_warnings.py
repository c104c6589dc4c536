"""Enrolling someone who is qualified already, or busy in another cohort of
the same curriculum, is refused with the reason until it is confirmed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.models import (
    Certificate,
    Cohort,
    CohortState,
    CurriculumRecord,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Role,
    User,
)
from app.services import enrolments
from app.services.enrolments import EnrolmentError
from app.services.policy import Actor
from tests.web.helpers import csrf_token, log_in


def setup(make, db, *, certified=False, enrolled_in_first=False, key="compact"):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    first = make.cohort(org, name="Gruppe Frühjahr", start=date(2027, 3, 1))
    second = make.cohort(org, key=key, name="Gruppe Herbst", start=date(2027, 9, 6))
    anna = make.participant(
        org,
        cohort=first if (certified or enrolled_in_first) else None,
        first_name="Anna",
        last_name="Berg",
    )
    certificate = make.certificate(first, anna) if certified else None
    db.session.commit()
    return {
        "org": org.id,
        "first": first.id,
        "second": second.id,
        "anna": anna.id,
        "certificate": certificate.id if certificate else None,
    }


def enrol(client, ids, cohort_id, **extra):
    page = f"/participants/{ids['anna']}"
    return client.post(
        f"{page}/enrol?lang=en",
        data={"csrf_token": csrf_token(client, page), "cohort": str(cohort_id), **extra},
    )


def enrolment(db, ids, cohort_id):
    db.session.expire_all()
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.participant_id == ids["anna"], Enrolment.cohort_id == cohort_id
        )
    )


def test_someone_holding_a_certificate_for_the_curriculum_is_enrolled_only_when_confirmed(
    client, make, db
):
    ids = setup(make, db, certified=True)
    # Her first cohort is done; the certificate stays in force.
    db.session.get(Cohort, ids["first"]).state = CohortState.COMPLETED
    db.session.commit()
    log_in(client, "hr@example.org")
    refused = enrol(client, ids, ids["second"])
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert 'data-code="already_certified"' in text
    assert "Anna Berg already holds a certificate in force for this curriculum" in text
    assert "cohort &#39;Gruppe Frühjahr&#39;" in text
    assert 'name="acknowledge"' in text  # the way to enrol all the same
    assert enrolment(db, ids, ids["second"]) is None

    done = enrol(client, ids, ids["second"], acknowledge="y")
    assert done.status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_a_revoked_certificate_does_not_stand_in_the_way(client, make, db):
    ids = setup(make, db, certified=True)
    db.session.get(Cohort, ids["first"]).state = CohortState.COMPLETED
    db.session.get(Certificate, ids["certificate"]).revoked_at = datetime.now(UTC)
    db.session.commit()
    log_in(client, "hr@example.org")
    assert enrol(client, ids, ids["second"]).status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_someone_enrolled_in_another_open_cohort_of_the_curriculum_is_asked_about(
    client, make, db
):
    ids = setup(make, db, enrolled_in_first=True)
    log_in(client, "hr@example.org")
    refused = enrol(client, ids, ids["second"])
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert 'data-code="enrolled_elsewhere"' in text
    assert "Anna Berg is enrolled in the cohort &#39;Gruppe Frühjahr&#39;" in text
    assert enrolment(db, ids, ids["second"]) is None
    assert enrol(client, ids, ids["second"], acknowledge="y").status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_another_curriculum_asks_nothing(client, make, db):
    ids = setup(make, db, enrolled_in_first=True, key="blended")
    log_in(client, "hr@example.org")
    assert enrol(client, ids, ids["second"]).status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_a_cancelled_cohort_of_the_curriculum_asks_nothing(client, make, db):
    ids = setup(make, db, enrolled_in_first=True)
    db.session.get(Cohort, ids["first"]).state = CohortState.CANCELLED
    db.session.commit()
    log_in(client, "hr@example.org")
    assert enrol(client, ids, ids["second"]).status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_the_service_refuses_with_a_code_every_door_can_pass_on(make, db):
    ids = setup(make, db, enrolled_in_first=True)
    hr = Actor.of_user(db.session.scalar(select(User).where(User.email == "hr@example.org")))
    with pytest.raises(EnrolmentError) as refused:
        enrolments.enrol_participant(hr, ids["second"], ids["anna"])
    assert refused.value.code == "enrolled_elsewhere"
    assert refused.value.status == 409
    done = enrolments.enrol_participant(hr, ids["second"], ids["anna"], acknowledge=True)
    assert done.status is EnrolmentStatus.ENROLLED
    # Enrolled there already: the same enrolment, nothing to confirm.
    assert enrolments.enrol_participant(hr, ids["second"], ids["anna"]) is done


def test_a_fork_and_its_standard_are_the_same_curriculum(db, make):
    org: Organisation = make.organisation()
    compact = make.version("compact").curriculum
    blended = make.version("blended").curriculum
    fork = CurriculumRecord(
        key="compact-muster",
        organisation_id=org.id,
        upstream_id=compact.id,
        title_de="Kompakt (Muster)",
        title_en="Compact (Muster)",
    )
    db.session.add(fork)
    db.session.flush()
    assert enrolments.same_curriculum(fork) == enrolments.same_curriculum(compact)
    assert fork.id in enrolments.same_curriculum(compact)
    assert blended.id not in enrolments.same_curriculum(compact)


def test_a_closed_cohort_is_refused_whatever_is_confirmed(client, make, db):
    ids = setup(make, db)
    db.session.get(Cohort, ids["second"]).state = CohortState.COMPLETED
    db.session.commit()
    log_in(client, "hr@example.org")
    page = f"/participants/{ids['anna']}"
    refused = client.post(
        f"{page}/enrol",
        data={"csrf_token": csrf_token(client, page), "cohort": str(ids["second"])},
        headers={"Referer": f"http://localhost{page}"},
    )
    # Not offered on the page any more: the form refuses the choice.
    assert refused.status_code in (302, 303)
    assert enrolment(db, ids, ids["second"]) is None
    hr = Actor.of_user(db.session.scalar(select(User).where(User.email == "hr@example.org")))
    with pytest.raises(EnrolmentError) as closed:
        enrolments.enrol_participant(hr, ids["second"], ids["anna"], acknowledge=True)
    assert closed.value.code == "cohort_closed"


def test_a_full_cohort_is_refused_on_the_page_with_its_code(client, make, db):
    ids = setup(make, db)
    cohort = db.session.get(Cohort, ids["second"])
    cohort.capacity = 1
    cohort.waiting_list = False  # with a list, the page offers a place on it instead
    make.participant(db.session.get(Organisation, ids["org"]), cohort=cohort)
    log_in(client, "hr@example.org")
    page = f"/participants/{ids['anna']}"
    refused = client.post(
        f"{page}/enrol",
        data={"csrf_token": csrf_token(client, page), "cohort": str(ids["second"])},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert refused.status_code == 303
    assert refused.headers["Location"] == page
    assert "refused-cohort_full" in client.get(page).get_data(as_text=True)
    assert enrolment(db, ids, ids["second"]) is None


def test_someone_whose_manager_is_in_the_cohort_is_asked_about(client, make, db):
    ids = setup(make, db)
    org = db.session.get(Organisation, ids["org"])
    second = db.session.get(Cohort, ids["second"])
    make.participant(
        org, cohort=second, first_name="Jörg", last_name="Yılmaz", email="Joerg@Example.org"
    )
    db.session.get(Participant, ids["anna"]).manager_email = " joerg@example.org"
    db.session.commit()
    log_in(client, "hr@example.org")
    refused = enrol(client, ids, ids["second"])
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert 'data-code="with_manager"' in text
    assert "Anna Berg would be in this cohort with their manager Jörg Yılmaz" in text
    assert enrolment(db, ids, ids["second"]) is None
    assert enrol(client, ids, ids["second"], acknowledge="y").status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED


def test_a_manager_of_someone_in_the_cohort_is_asked_about_in_german(client, make, db):
    ids = setup(make, db)
    org = db.session.get(Organisation, ids["org"])
    second = db.session.get(Cohort, ids["second"])
    make.participant(
        org, cohort=second, first_name="Ömer", last_name="Çelik", manager_email="person-a@x.org"
    )
    db.session.get(Participant, ids["anna"]).email = "Person-A@x.org"
    db.session.commit()
    hr = Actor.of_user(db.session.scalar(select(User).where(User.email == "hr@example.org")))
    with pytest.raises(EnrolmentError) as refused:
        enrolments.enrol_participant(hr, ids["second"], ids["anna"])
    assert refused.value.code == "with_manager"
    log_in(client, "hr@example.org")
    page = f"/participants/{ids['anna']}"
    answer = client.post(
        f"{page}/enrol?lang=de",
        data={"csrf_token": csrf_token(client, page), "cohort": str(ids["second"])},
    )
    assert "Anna Berg ist Führungskraft von Ömer Çelik" in answer.get_data(as_text=True)


def test_colleagues_without_a_manager_line_are_not_asked_about(client, make, db):
    ids = setup(make, db)
    org = db.session.get(Organisation, ids["org"])
    second = db.session.get(Cohort, ids["second"])
    # Same manager: colleagues, not a manager line.
    make.participant(org, cohort=second, manager_email="boss@example.org")
    db.session.get(Participant, ids["anna"]).manager_email = "boss@example.org"
    db.session.commit()
    log_in(client, "hr@example.org")
    assert enrol(client, ids, ids["second"]).status_code == 302
    assert enrolment(db, ids, ids["second"]).status is EnrolmentStatus.ENROLLED
