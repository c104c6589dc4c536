"""Changing a cohort's name, capacity, venue and link on its own page."""

from sqlalchemy import select

from app.models import Change, Cohort, CohortState, Organisation, Role
from tests.web.helpers import log_in, post_form
from tests.web.test_cohort_pages import a_monday, planner


def a_cohort(make, db, people=3):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort = make.cohort(org, start=a_monday(4), region="DE-BY", name="Herbst")
    for n in range(people):
        make.participant(org, cohort=cohort, email=f"p{n}@example.org")
    return cohort.id, cohort.lock_version, email


def send(client, cohort_id, version, **fields):
    page = f"/cohorts/{cohort_id}/edit"
    data = {
        "version": str(version),
        "name": "Herbst",
        "capacity": "",
        "venue": "",
        "online_link": "",
    }
    data.update(fields)
    return post_form(client, page, data, headers={"Referer": f"http://localhost{page}"})


def test_change_name_capacity_and_venue(client, make, db):
    cohort_id, version, email = a_cohort(make, db)
    log_in(client, email)
    assert f'href="/cohorts/{cohort_id}/edit"' in client.get(f"/cohorts/{cohort_id}").get_data(
        as_text=True
    )
    response = send(client, cohort_id, version, name="Herbst Nord", capacity="12", venue="Raum 2")
    assert response.status_code == 302
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Die Gruppe wurde geändert." in page
    assert "hat Name, Kapazität, Ort oder Link der Gruppe geändert" in page
    cohort = db.session.get(Cohort, cohort_id)
    assert (cohort.name, cohort.capacity, cohort.venue) == ("Herbst Nord", 12, "Raum 2")
    change = db.session.scalar(select(Change).where(Change.action == "changed"))
    assert change.before == {"name": "Herbst", "capacity": None, "venue": None}


def test_every_problem_stands_at_its_field_and_nothing_is_saved(client, make, db):
    cohort_id, version, email = a_cohort(make, db)
    log_in(client, email)
    response = send(client, cohort_id, version, name="", online_link="kein link", capacity="0")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for field in ("name", "online_link", "capacity"):
        assert f'id="{field}-error"' in page, field
    # The service's rule, at its field: fewer places than people enrolled.
    response = send(client, cohort_id, version, capacity="2")
    assert response.status_code == 400
    assert "3 Personen sind eingeschrieben; die Kapazität kann nicht kleiner sein" in (
        response.get_data(as_text=True)
    )
    assert db.session.get(Cohort, cohort_id).capacity is None


def test_a_stale_form_and_a_closed_cohort_are_refused(client, make, db):
    cohort_id, version, email = a_cohort(make, db)
    log_in(client, email)
    send(client, cohort_id, version, name="Erst")
    response = send(client, cohort_id, version, name="Zweit")
    assert response.status_code == 303
    assert db.session.get(Cohort, cohort_id).name == "Erst"
    cohort = db.session.get(Cohort, cohort_id)
    cohort.state = CohortState.COMPLETED
    db.session.commit()
    response = send(client, cohort_id, cohort.lock_version, name="Dritt")
    assert response.status_code == 303
    assert "refused-cohort_closed" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)


def test_hr_cannot_change_a_cohort(client, make, db):
    cohort_id, _, _ = a_cohort(make, db)
    org = db.session.get(Cohort, cohort_id).organisation
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    assert client.get(f"/cohorts/{cohort_id}/edit").status_code == 403
