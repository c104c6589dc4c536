"""A person's data as a file, erasure, and the retention period."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from app.models import (
    AccessToken,
    AttendanceRecord,
    Certificate,
    Change,
    Cohort,
    CohortState,
    Organisation,
    Participant,
    Purpose,
    Role,
    TandemMember,
)
from app.services import privacy, tandems, tokens
from tests.web.helpers import csrf_token, log_in, post_form


def setup(make, db, keep_certificates=True):
    org = make.organisation()
    org.keep_certificates_after_erasure = keep_certificates
    make.user(Role.ADMIN, [org], email="admin@example.org", name="Ada Admin")
    make.user(Role.HR, [org], email="hr@example.org")
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BW")
    anna = make.participant(
        org, cohort=cohort, first_name="Anna", last_name="Jürgens", email="anna@example.org"
    )
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Bauer")
    tandems.propose(cohort, None, expected_version=cohort.lock_version)
    tandems.confirm(cohort, None, expected_version=cohort.lock_version)
    certificate = make.certificate(cohort, anna)
    token = tokens.issue(Purpose.PERSONAL_PAGE, anna.id, org.id, None)
    db.session.commit()
    return {
        "org": org.id,
        "cohort": cohort.id,
        "anna": anna.id,
        "ben": ben.id,
        "code": certificate.code,
        "token": token,
    }


def test_hr_downloads_everything_stored_about_a_person(client, make, db):
    ids = setup(make, db)
    log_in(client, "hr@example.org")
    response = client.get(f"/participants/{ids['anna']}/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["person"]["last_name"] == "Jürgens"
    assert data["person"]["email"] == "anna@example.org"
    assert [e["status"] for e in data["enrolments"]] == ["enrolled"]
    assert len(data["attendance"]) == 3
    assert data["attendance"][0]["mark"] == "present"
    assert data["attendance"][0]["changes"][0]["after"] == "present"
    assert data["tandems"][0]["with"] == ["Ben Bauer"]
    assert [link["purpose"] for link in data["links"]] == ["personal_page"]
    assert data["certificates"][0]["code"] == ids["code"]


def test_trainers_do_not_export_and_only_admins_erase(client, make, db):
    ids = setup(make, db)
    log_in(client, "trainer@example.org")
    assert client.get(f"/participants/{ids['anna']}/export.json").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "hr@example.org")
    page = f"/participants/{ids['anna']}"
    refused = post_form(client, f"{page}/erase", {"confirm": "Anna Jürgens"}, form_url=page)
    assert refused.status_code == 403
    assert db.session.get(Participant, ids["anna"]) is not None


def test_erasure_needs_the_name_typed_and_removes_everything(client, make, db):
    ids = setup(make, db)
    log_in(client, "admin@example.org")
    page = f"/participants/{ids['anna']}"
    wrong = post_form(
        client,
        f"{page}/erase",
        {"confirm": "Anna"},
        form_url=page,
        headers={"Referer": f"http://localhost{page}"},
    )
    assert wrong.status_code == 303
    assert "refused-name_mismatch" in client.get(page).get_data(as_text=True)
    assert db.session.get(Participant, ids["anna"]) is not None

    done = post_form(
        client,
        f"{page}/erase",
        {"confirm": " Anna  Jürgens "},
        form_url=page,
        follow_redirects=True,
    )
    assert "1 ohne Namen behalten, 0 gelöscht" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Participant, ids["anna"]) is None
    anna = ids["anna"]
    for model, column in (
        (AttendanceRecord, AttendanceRecord.participant_id),
        (TandemMember, TandemMember.participant_id),
        (AccessToken, AccessToken.subject_id),
    ):
        assert db.session.scalar(select(func.count()).where(column == anna)) == 0, model
    # Nothing in the history names her any more; that she was erased, by whom, does.
    history = db.session.scalars(select(Change)).all()
    assert not any("Anna Jürgens" in json.dumps([c.before, c.after]) for c in history)
    erased = [c for c in history if c.action == "erased"]
    assert [(c.subject_id, c.user.name) for c in erased] == [(anna, "Ada Admin")]
    assert client.get(f"/p/{ids['token']}").status_code == 404

    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    checked = client.get(f"/verify/{ids['code']}")
    assert checked.status_code == 200
    text = checked.get_data(as_text=True)
    assert "[gelöscht]" in text
    assert "Jürgens" not in text


def test_without_keeping_certificates_they_go_with_the_person(client, make, db):
    ids = setup(make, db, keep_certificates=False)
    log_in(client, "admin@example.org")
    page = f"/participants/{ids['anna']}"
    post_form(client, f"{page}/erase", {"confirm": "Anna Jürgens"}, form_url=page)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Certificate.id))) == 0
    assert client.get(f"/verify/{ids['code']}").status_code == 404


def test_admins_set_the_retention_period(client, make, db):
    ids = setup(make, db)
    log_in(client, "admin@example.org")
    url = f"/organisations/{ids['org']}/privacy"
    version = str(db.session.get(Organisation, ids["org"]).lock_version)
    bad = post_form(client, url, {"attendance_retention_years": "0", "version": version})
    assert bad.status_code == 400
    assert "1 und 30" in bad.get_data(as_text=True)
    post_form(client, url, {"attendance_retention_years": "3", "version": version})
    db.session.expire_all()
    org = db.session.get(Organisation, ids["org"])
    assert org.attendance_retention_years == 3
    assert org.keep_certificates_after_erasure is False  # the box was left unticked


def test_retention_deletes_attendance_of_cohorts_past_the_period_once(client, make, db):
    ids = setup(make, db)
    org, cohort = db.session.get(Organisation, ids["org"]), db.session.get(Cohort, ids["cohort"])
    org.attendance_retention_years = 2
    cohort.state = CohortState.COMPLETED
    db.session.commit()
    last_day = max(s.last_day for s in cohort.sessions)
    assert privacy.apply_retention(last_day.replace(year=last_day.year + 2).replace(day=1)) == []
    deleted = privacy.apply_retention(last_day.replace(year=last_day.year + 2))
    db.session.commit()
    assert [(d.cohort.id, d.records) for d in deleted] == [(ids["cohort"], 3)]
    assert db.session.scalar(select(func.count(AttendanceRecord.id))) == 0
    assert db.session.scalar(select(func.count(Certificate.id))) == 1  # the evidence stays
    assert privacy.apply_retention(date(2040, 1, 1)) == []  # nothing twice
    log_in(client, "hr@example.org")
    page = client.get(f"/cohorts/{ids['cohort']}/attendance").get_data(as_text=True)
    assert "Aufbewahrungsfrist" in page


def test_settings_changed_by_someone_else_meanwhile_are_not_overwritten(client, make, db):
    ids = setup(make, db)
    log_in(client, "admin@example.org")
    url = f"/organisations/{ids['org']}/privacy"
    version = str(db.session.get(Organisation, ids["org"]).lock_version)
    assert (
        post_form(client, url, {"attendance_retention_years": "3", "version": version}).status_code
        == 302
    )
    stale = post_form(
        client,
        url,
        {"attendance_retention_years": "7", "version": version},
        headers={"Referer": f"http://localhost{url}"},
    )
    assert stale.status_code == 303
    assert "refused-stale" in client.get(url).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Organisation, ids["org"]).attendance_retention_years == 3


def test_only_admins_see_the_settings(client, make, db):
    ids = setup(make, db)
    log_in(client, "hr@example.org")
    assert client.get(f"/organisations/{ids['org']}/privacy").status_code == 403
