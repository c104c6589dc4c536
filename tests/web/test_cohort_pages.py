from datetime import date

from sqlalchemy import func, select

from app.models import Cohort, Organisation, Role, Session
from tests.web.helpers import log_in, post_form


def planner(make, role=Role.TRAINER):
    """An organisation's id and the e-mail of a user of `role` in it."""
    org = make.organisation("Muster AG")
    user = make.user(role, [org], email=f"{role.value}@example.org", name="Petra Plan")
    return org.id, user.email


def cohort_form(org_id, version_id, **changes):
    data = {
        "organisation": str(org_id),
        "version": str(version_id),
        "name": "Frühjahr 2027",
        "start": "2027-05-26",
        "region": "DE-BW",
        "timezone": "Europe/Berlin",
        "delivery": "in_person",
        "venue": "Schulungszentrum, Raum 1",
        "online_link": "",
        "capacity": "20",
        "closures": "",
    }
    data.update(changes)
    return data


def test_plan_a_cohort_in_the_browser(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    response = post_form(client, "/cohorts/new", cohort_form(org, version), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Die Gruppe wurde geplant." in page
    # Fronleichnam 2027 in DE-BW lies between the two seminar days: the note says so.
    assert "Do. 27.05.2027 ist ein Feiertag (Fronleichnam)" in page
    assert "Mi. 26.05.2027" in page
    assert "Fr. 28.05.2027" in page
    assert "hat die Gruppe geplant" in page
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Frühjahr 2027"))
    assert [s.first_day for s in cohort.sessions][:2] == [date(2027, 5, 26), date(2027, 5, 28)]


def test_bad_input_is_named_and_nothing_is_saved(client, make, db):
    org, email = planner(make)
    version = make.version("compact").id
    log_in(client, email)
    for changes, expected in (
        ({"region": "DE-XX"}, "unbekannte Region „DE-XX“"),
        ({"timezone": "Berlin"}, "unbekannte Zeitzone „Berlin“"),
        ({"closures": "2027-13-01"}, "„2027-13-01“ ist kein Kalenderdatum"),
        ({"name": ""}, "Dieses Feld wird benötigt."),
        ({"start": "26.05.2027"}, "Kein gültiges Datum."),
    ):
        response = post_form(client, "/cohorts/new", cohort_form(org, version, **changes))
        assert response.status_code == 400, changes
        page = response.get_data(as_text=True)
        assert "Es wurde nichts gespeichert." in page
        assert expected in page, (changes, expected)
    assert db.session.scalar(select(func.count(Cohort.id))) == 0
    assert db.session.scalar(select(func.count(Session.id))) == 0


def test_hr_cannot_plan_cohorts(client, make):
    _, email = planner(make, Role.HR)
    log_in(client, email)
    assert client.get("/cohorts/new").status_code == 403


def test_a_curriculum_of_another_organisation_is_refused(client, make, db):
    from app.models import CurriculumRecord
    from app.services.standards import add_version
    from curricula.shipped import shipped, shipped_sources

    org, email = planner(make)
    stranger = make.organisation("Fremde GmbH")
    record = CurriculumRecord(key="private", organisation=stranger, title_de="P", title_en="P")
    db.session.add(record)
    version = add_version(record, shipped()["compact"], shipped_sources()["compact"])
    db.session.commit()
    version_id = version.id
    log_in(client, email)
    response = post_form(client, "/cohorts/new", cohort_form(org, version_id))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_the_cohort_page_shows_schedule_and_marks_conflicts(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    other = make.organisation("Andere AG")
    trainer = make.user(Role.TRAINER, [org, other], name="Maria Berg")
    cohort = make.cohort(org, start=date(2027, 3, 1), region="DE-BY", trainers=[trainer])
    # A double booking made behind Qualiplan's back (an import, say) is shown.
    second = make.cohort(other, start=date(2027, 3, 8), region="DE-BY", trainers=[trainer])
    second.sessions[0].starts_at = cohort.sessions[0].starts_at
    second.sessions[0].ends_at = cohort.sessions[0].ends_at
    db.session.commit()
    cohort_id = cohort.id
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Mo. 01.03.2027" in page
    assert "09:00–17:00" in page
    assert 'class=" conflict"' in page
    assert "Maria Berg wäre an zwei Orten zugleich" in page


def test_cohort_states_move_forward_only(client, make, db):
    org_id, email = planner(make)
    org = db.session.get(Organisation, org_id)
    cohort_id = make.cohort(org).id
    log_in(client, email)
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Gruppe starten" in page
    assert "Gruppe abschließen" not in page
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/state",
        {"state": "running"},
        form_url=f"/cohorts/{cohort_id}",
        follow_redirects=True,
    )
    assert "Die Gruppe ist jetzt laufend." in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/cohorts/{cohort_id}/state",
        {"state": "planned"},
        form_url=f"/cohorts/{cohort_id}",
        follow_redirects=True,
    )
    assert "Dieser Statuswechsel ist nicht möglich." in response.get_data(as_text=True)
    assert db.session.get(Cohort, cohort_id).state.value == "running"
    assert "hat den Status von geplant auf laufend geändert" in response.get_data(as_text=True)
