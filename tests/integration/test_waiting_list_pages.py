"""Staff put a person on a full cohort's waiting list from the refusal of
their enrolment; staff of another organisation find nothing."""

from __future__ import annotations

from app.models import Role
from app.models.registrations import Registration, RegistrationState
from tests.web.helpers import log_in, post_form


def test_a_full_cohort_offers_its_waiting_list_instead(client, db, make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, capacity=1, name="Frühjahr <voll>")
    make.participant(org, cohort, first_name="Anna")
    person = make.participant(org, first_name="Bert")
    person_id, cohort_id = person.id, cohort.id
    log_in(client, "hr@example.org")
    page = f"/participants/{person_id}"
    refused = post_form(client, f"{page}/enrol", {"cohort": cohort_id}, form_url=page)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Frühjahr &lt;voll&gt;" in html
    assert "Auf die Warteliste setzen" in html
    joined = post_form(
        client, f"/participants/{person_id}/waiting-lists/{cohort_id}", {}, form_url=page
    )
    assert joined.status_code == 302
    shown = client.get(joined.headers["Location"]).get_data(as_text=True)
    assert "auf der Warteliste von Frühjahr &lt;voll&gt;, Position 1" in shown
    [registration] = db.session.query(Registration).filter_by(participant_id=person_id).all()
    assert registration.state is RegistrationState.WAITING


def test_staff_of_another_organisation_find_no_list(client, db, make):
    org, other = make.organisation(), make.organisation("Andere GmbH")
    make.user(Role.HR, [other], email="hr@andere.example")
    cohort = make.cohort(org, capacity=0)
    path = f"/participants/{make.participant(org).id}/waiting-lists/{cohort.id}"
    log_in(client, "hr@andere.example")
    response = post_form(client, path, {}, form_url="/")
    assert response.status_code == 404
    assert db.session.query(Registration).count() == 0


def test_without_the_csrf_token_nothing_is_joined(client, db, make):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, capacity=0)
    path = f"/participants/{make.participant(org).id}/waiting-lists/{cohort.id}"
    log_in(client, "hr@example.org")
    response = client.post(path)
    assert response.status_code == 400
    assert db.session.query(Registration).count() == 0


def test_the_personal_page_shows_the_position_and_an_offer(client, db, make):
    from datetime import UTC, datetime

    from app.services import personal_links, waiting_lists
    from app.services.policy import Actor

    org = make.organisation()
    first = make.cohort(org, capacity=0, name="Frühjahr")
    second = make.cohort(org, capacity=0, name="Herbst")
    person = make.participant(org)
    other = make.participant(org)
    now = datetime.now(UTC)
    waiting_lists.join(first, other, None, now)
    waiting_lists.join(first, person, None, now)
    waiting_lists.join(second, person, None, now)
    second.capacity = 1
    waiting_lists.places_freed(second)
    _, token = personal_links.create_link(Actor.system(), person.id)
    db.session.commit()
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Wartelisten" in page
    assert "Frühjahr (Beginn" in page
    assert "Position 2 auf der Warteliste" in page
    assert "Herbst (Beginn" in page
    assert "ein Platz angeboten" in page
