"""A bulk enrolment with warnings or more people than places offers its ways
to go on, each saying whom it enrols and whom it puts on the waiting list,
and done all or nothing: only those without a warning, or all the same; those
without a place on the cohort's waiting list (as one person's enrolment into
a full cohort offers), or left out."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Cohort, Enrolment, Participant, User
from app.models.registrations import Registration, RegistrationState
from app.services import bulk
from app.services.errors import InvalidInput
from app.services.policy import Actor
from tests.web.helpers import log_in
from tests.web.test_bulk_actions import choose, enrolled, option_fields, preview, setup


def certify_ben(make, db, org, people) -> None:
    earlier = make.cohort(org, name="Vorjahr", start=date(2027, 5, 3))
    ben = db.session.get(Participant, people[1].id)
    db.session.add(Enrolment(cohort=earlier, participant=ben))
    db.session.commit()
    make.certificate(earlier, ben)


def enrol_all(client, cohort, people):
    return preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )


def waiting(db, cohort) -> list[str]:
    db.session.remove()
    return [
        r.participant.first_name
        for r in db.session.scalars(
            select(Registration)
            .where(
                Registration.cohort_id == cohort.id,
                Registration.state == RegistrationState.WAITING,
            )
            .order_by(Registration.registered_at, Registration.id)
        )
    ]


def options_of(page) -> list[str]:
    return re.findall(r'data-option="([\w-]+)"', page.get_data(as_text=True))


def test_only_those_without_a_warning_are_enrolled(client, make, db):
    org, cohort, people = setup(make)
    certify_ben(make, db, org, people)
    log_in(client, "hr@example.org")
    page = preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )
    text = html.unescape(page.get_data(as_text=True))
    assert options_of(page) == ["unwarned", "all"]
    assert "Nur die 3 Personen ohne Hinweis einschreiben" in text
    assert "1 Person mit Hinweis wird nicht eingeschrieben." in text
    choose(client, page, "unwarned")
    assert enrolled(db, cohort) == {"Anna", "Carla", "Dora"}
    shown = client.get("/participants").get_data(as_text=True)
    assert "3 Personen wurden eingeschrieben." in shown


def test_those_without_a_place_go_on_the_waiting_list(client, make, db):
    _, cohort, people = setup(make, capacity=2)
    log_in(client, "hr@example.org")
    page = preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )
    text = html.unescape(page.get_data(as_text=True))
    assert options_of(page) == ["unwarned-wait", "unwarned"]
    assert "2 Personen einschreiben und 2 Personen auf die Warteliste setzen" in text
    assert "Die Gruppe führt eine Warteliste" in text
    assert "2 Personen kommen in dieser Reihenfolge ans Ende der Warteliste" in text
    # Who goes where, by name: Köhler and Krüger fit, Kühn and Müller wait.
    fields = option_fields(page, "unwarned-wait")
    assert fields["wait"] == f"{people[3].id},{people[0].id}"
    done = choose(client, page, "unwarned-wait")
    assert done.status_code == 303
    assert enrolled(db, cohort) == {"Ben", "Carla"}
    assert waiting(db, cohort) == ["Dora", "Anna"]
    shown = client.get("/participants").get_data(as_text=True)
    assert "2 Personen wurden eingeschrieben." in shown
    assert "2 Personen wurden auf die Warteliste gesetzt." in shown


def test_warnings_and_a_waiting_list_offer_four_ways_each_as_it_goes(client, make, db):
    org, cohort, people = setup(make, capacity=2)
    certify_ben(make, db, org, people)
    log_in(client, "hr@example.org")
    page = preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )
    text = html.unescape(page.get_data(as_text=True))
    assert options_of(page) == ["unwarned-wait", "unwarned", "all-wait", "all"]
    # Without Ben (warned), Krüger and Kühn fit and Müller waits; with him,
    # Köhler and Krüger fit and Kühn and Müller wait.
    assert option_fields(page, "unwarned-wait")["people"] == f"{people[2].id},{people[3].id}"
    assert option_fields(page, "unwarned-wait")["wait"] == str(people[0].id)
    assert "Nur die 2 Personen ohne Hinweis einschreiben und 1 Person auf die Warteliste" in text
    assert "Alle 2 Personen trotzdem einschreiben und 2 Personen auf die Warteliste" in text
    assert option_fields(page, "all")["wait"] == ""
    choose(client, page, "all-wait")
    assert enrolled(db, cohort) == {"Ben", "Carla"}
    assert waiting(db, cohort) == ["Dora", "Anna"]


def test_a_waiting_list_refused_at_the_confirmation_enrols_nobody(client, make, db):
    _, cohort, people = setup(make, capacity=2)
    log_in(client, "hr@example.org")
    page = preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )
    db.session.get(Cohort, cohort.id).waiting_list = False  # changed meanwhile
    db.session.commit()
    refused = choose(client, page, "unwarned-wait")
    assert refused.status_code == 303
    assert enrolled(db, cohort) == set()
    assert waiting(db, cohort) == []
    shown = html.unescape(client.get(refused.headers["Location"]).get_data(as_text=True))
    assert (
        "Niemand wurde eingeschrieben oder auf die Warteliste gesetzt: "
        "die Gruppe „Frühjahr“ führt keine Warteliste" in shown
    )


def test_a_cohort_without_a_waiting_list_offers_the_one_way(client, make, db):
    _, cohort, people = setup(make, capacity=2)
    db.session.get(Cohort, cohort.id).waiting_list = False
    db.session.commit()
    log_in(client, "hr@example.org")
    page = preview(
        client, action="enrol", cohort=str(cohort.id), person=[str(p.id) for p in people]
    )
    text = html.unescape(page.get_data(as_text=True))
    assert options_of(page) == []
    assert "Warteliste" not in text
    assert "2 Personen einschreiben" in text


def test_nobody_is_enrolled_and_put_on_the_list_at_once(make, db):
    _, cohort, people = setup(make, capacity=2)
    user = db.session.scalar(select(User).where(User.email == "hr@example.org"))
    with pytest.raises(InvalidInput):
        bulk.enrol(
            Actor.of_user(user), cohort.id, [people[0].id], acknowledge=False, wait=[people[0].id]
        )
