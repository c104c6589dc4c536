"""HR's side of registering through the API, as an HR system uses it: the
cohort's registrations in the order of the page, accepting (with the
enrolment's warnings and the waiting list), declining with a reason and
inviting, under the page's roles and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Notification,
    Organisation,
    Participant,
    User,
)
from app.models.registrations import Registration, RegistrationState
from app.services import registrations
from app.services.policy import Actor

API = "/api/v1"
S = RegistrationState
NOW = datetime.now(UTC)


def told(db, person_id: int) -> list[dict]:
    """The registration messages to the person."""
    return [
        n.payload
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.participant_id == person_id, Notification.kind == "registration")
            .order_by(Notification.id)
        )
    ]


def registration(db, cohort_id: int, person: Participant, state: S, **fields) -> int:
    record = Registration(
        organisation_id=person.organisation_id,
        cohort_id=cohort_id,
        participant_id=person.id,
        state=state,
        **fields,
    )
    db.session.add(record)
    db.session.commit()
    return record.id


@pytest.fixture
def ours(db, world):
    return db.session.get(Organisation, world["organisation"])


@pytest.fixture
def asked(db, make, world, ours):
    """Carla waits for HR (her manager granted three hours a week)."""
    carla = make.participant(ours, first_name="Carla", last_name="Clausen")
    return {
        "carla": carla.id,
        "registration": registration(
            db,
            world["cohort"],
            carla,
            S.MANAGER_CONFIRMED,
            manager_name="Max Chef",
            manager_email="max@eigene.example",
            weekly_minutes=180,
            manager_answered_at=NOW - timedelta(days=1),
            registered_at=NOW - timedelta(days=3),
        ),
    }


def enrolled(db, cohort_id: int, person_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort_id,
                Enrolment.participant_id == person_id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
        )
        == 1
    )


def state_of(db, registration_id: int) -> S:
    db.session.expire_all()
    return db.session.get(Registration, registration_id).state


def test_the_list_is_in_the_pages_order_with_what_the_page_shows(call, db, make, world, ours):
    cohort = world["cohort"]
    hr = db.session.scalar(select(User).where(User.email == "hr@eigene.example"))
    people = {
        name: make.participant(ours, first_name=name, last_name="Muster")
        for name in ("Eva", "Paul", "Wanda", "Otto", "Dana")
    }
    ids = {
        "Eva": registration(
            db, cohort, people["Eva"], S.REGISTERED, registered_at=NOW - timedelta(days=5)
        ),
        "Paul": registration(
            db,
            cohort,
            people["Paul"],
            S.MANAGER_CONFIRMED,
            weekly_minutes=150,
            manager_answered_at=NOW - timedelta(days=1),
            registered_at=NOW - timedelta(days=4),
        ),
        "Wanda": registration(
            db, cohort, people["Wanda"], S.WAITING, registered_at=NOW - timedelta(days=2)
        ),
        "Otto": registration(
            db,
            cohort,
            people["Otto"],
            S.OFFERED,
            registered_at=NOW - timedelta(days=3),
            offered_at=NOW,
            offer_expires_at=NOW + timedelta(days=3),
        ),
        "Dana": registration(
            db,
            cohort,
            people["Dana"],
            S.DECLINED,
            decline_reason="Kein Budget",
            decided_at=NOW - timedelta(hours=2),
            decided_by_id=hr.id,
            changed_at=NOW - timedelta(hours=2),
        ),
    }
    listing = call("GET", f"{API}/cohorts/{cohort}/registrations")
    assert listing.status_code == 200
    items = listing.json["items"]
    # Waiting for a decision, the waiting list (offers first), decided.
    assert [i["id"] for i in items] == [ids[n] for n in ("Eva", "Paul", "Otto", "Wanda", "Dana")]
    assert listing.json["total"] == 5
    eva, paul, otto, wanda, dana = items
    assert eva["participant"] == {
        "id": people["Eva"].id,
        "name": "Eva Muster",
        "email": people["Eva"].email,
    }
    assert (eva["state"], eva["decidable"], eva["weekly_minutes"]) == ("registered", False, None)
    assert (paul["state"], paul["decidable"], paul["weekly_minutes"]) == (
        "manager_confirmed",
        True,
        150,
    )
    assert paul["manager_answered_at"] is not None
    assert (otto["state"], otto["position"]) == ("offered", None)
    assert otto["offer_expires_at"] is not None
    assert (wanda["state"], wanda["position"]) == ("waiting", 1)
    assert (dana["state"], dana["decline_reason"], dana["decided_by"]) == (
        "declined",
        "Kein Budget",
        hr.name,
    )
    assert dana["decided_at"] is not None
    # In pages, as the other lists.
    second = call("GET", f"{API}/cohorts/{cohort}/registrations?per_page=2&page=2").json
    assert [i["id"] for i in second["items"]] == [ids["Otto"], ids["Wanda"]]
    assert (second["total"], second["page"], second["per_page"]) == (5, 2, 2)
    # Every role of the organisation sees the list, as on the page; nobody else.
    assert call("GET", f"{API}/cohorts/{cohort}/registrations", "trainer").status_code == 200
    foreign = call("GET", f"{API}/cohorts/{cohort}/registrations", "stranger")
    assert foreign.status_code == 404
    assert foreign.json["error"]["code"] == "not_found"


def test_hr_accepts_and_the_person_is_enrolled(call, db, world, asked):
    url = f"{API}/registrations/{asked['registration']}/accept"
    accepted = call("POST", url, json={})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["state"] == "accepted"
    assert accepted.json["decided_by"] is not None
    assert enrolled(db, world["cohort"], asked["carla"])
    assert [m["what"] for m in told(db, asked["carla"])] == ["accepted"]
    again = call("POST", url, json={})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "decided_already"


def test_roles_that_do_not_decide_are_refused_and_nothing_changes(call, db, asked, world):
    for who in ("trainer", "consultant"):
        for action, body in (("accept", {}), ("decline", {"reason": "Nein"})):
            url = f"{API}/registrations/{asked['registration']}/{action}"
            refused = call("POST", url, who, json=body)
            assert refused.status_code == 403, (who, action)
            assert refused.json["error"]["code"] == "forbidden"
    assert call("POST", f"{API}/registrations/{asked['registration']}/accept", "admin").json[
        "state"
    ] == ("accepted")
    for action, body in (("accept", {}), ("decline", {"reason": "x"})):
        url = f"{API}/registrations/{asked['registration']}/{action}"
        assert call("POST", url, "stranger", json=body).status_code == 404


def test_an_unconfirmed_address_is_not_accepted(call, db, make, world, ours):
    person = make.participant(ours, first_name="Udo")
    unconfirmed = registration(db, world["cohort"], person, S.REGISTERED)
    refused = call("POST", f"{API}/registrations/{unconfirmed}/accept", json={})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "email_not_confirmed"
    assert state_of(db, unconfirmed) is S.REGISTERED


def test_warnings_are_named_and_accepting_all_the_same_takes_the_acknowledgment(
    call, db, world, held
):
    """Hanna holds a certificate of the curriculum and is enrolled in last
    year's cohort, which is still open: two warnings."""
    hanna = db.session.get(Participant, held["hanna"])
    registration_id = registration(
        db, world["cohort"], hanna, S.MANAGER_CONFIRMED, weekly_minutes=120
    )
    url = f"{API}/registrations/{registration_id}/accept"
    warned = call("POST", url, json={"acknowledge": False})
    assert warned.status_code == 409
    error = warned.json["error"]
    assert error["code"] == "already_certified"
    assert [w["code"] for w in error["details"]["warnings"]] == [
        "already_certified",
        "enrolled_elsewhere",
    ]
    assert all(w["message"] for w in error["details"]["warnings"])
    assert state_of(db, registration_id) is S.MANAGER_CONFIRMED
    assert not enrolled(db, world["cohort"], held["hanna"])
    accepted = call("POST", url, json={"acknowledge": True})
    assert accepted.status_code == 200
    assert accepted.json["state"] == "accepted"
    assert enrolled(db, world["cohort"], held["hanna"])


def test_a_full_cohort_takes_the_person_onto_its_waiting_list_or_refuses(
    call, db, make, world, ours, asked
):
    cohort = db.session.get(Cohort, world["cohort"])
    for name in ("Fritz", "Gina"):  # with Anna: the three places taken
        make.participant(ours, cohort=cohort, first_name=name)
    url = f"{API}/registrations/{asked['registration']}/accept"
    waiting = call("POST", url, json={})
    assert waiting.status_code == 200
    assert (waiting.json["state"], waiting.json["position"]) == ("waiting", 1)
    assert not enrolled(db, world["cohort"], asked["carla"])

    cohort = db.session.get(Cohort, world["cohort"])
    cohort.waiting_list = False
    person = make.participant(ours, first_name="Hugo")
    no_list = registration(db, world["cohort"], person, S.MANAGER_CONFIRMED, weekly_minutes=120)
    refused = call("POST", f"{API}/registrations/{no_list}/accept", json={})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "cohort_full"
    assert state_of(db, no_list) is S.MANAGER_CONFIRMED


def test_declining_takes_a_reason_named_at_its_field(call, db, asked):
    url = f"{API}/registrations/{asked['registration']}/decline"
    for body in ({}, {"reason": ""}, {"reason": " \n "}, {"reason": "x" * 1001}):
        refused = call("POST", url, json=body)
        assert refused.status_code == 422, body
        assert "reason" in refused.json["error"]["details"]["json"], body
    assert state_of(db, asked["registration"]) is S.MANAGER_CONFIRMED
    declined = call("POST", url, json={"reason": "Kein Platz im Budget"})
    assert declined.status_code == 200
    assert (declined.json["state"], declined.json["decline_reason"]) == (
        "declined",
        "Kein Platz im Budget",
    )
    assert [(m["what"], m["reason"]) for m in told(db, asked["carla"])] == [
        ("declined", "Kein Platz im Budget")
    ]
    again = call("POST", url, json={"reason": "Doppelt"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "decided_already"


def test_hr_invites_someone_to_a_cohort_open_for_registration(call, db, make, world, ours):
    url = f"{API}/cohorts/{world['cohort']}/invitations"
    closed = call("POST", url, json={"participant_id": world["ben"]})
    assert closed.status_code == 409
    assert closed.json["error"]["code"] == "registration_closed"
    registrations.change_cohort_registration(
        Actor.system(), world["cohort"], open_=True, closes_on=None, today=date.today()
    )
    db.session.commit()
    assert call("POST", url, "trainer", json={"participant_id": world["ben"]}).status_code == 403
    invited = call("POST", url, json={"participant_id": world["ben"]})
    assert invited.status_code == 201, invited.json
    assert (invited.json["state"], invited.json["invited"]) == ("registered", True)
    assert invited.json["participant"]["id"] == world["ben"]
    assert [m["what"] for m in told(db, world["ben"])] == ["invitation"]
    twice = call("POST", url, json={"participant_id": world["ben"]})
    assert twice.status_code == 409
    assert twice.json["error"]["code"] == "registered_already"
    # Anna is enrolled already.
    enrolled_already = call("POST", url, json={"participant_id": world["anna"]})
    assert enrolled_already.json["error"]["code"] == "registered_already"
    # Someone without an e-mail address: named at the request's field.
    nobody = make.participant(ours, first_name="Ohne", email="")
    refused = call("POST", url, json={"participant_id": nobody.id})
    assert refused.status_code == 422
    assert "participant_id" in refused.json["error"]["details"]
    foreign = call("POST", url, json={"participant_id": world["stranger"]})
    assert foreign.status_code == 404
    count = db.session.scalar(select(func.count(Registration.id)))
    assert count == 1


def test_the_list_asks_the_same_for_few_and_many(call, db, make, world):
    from app.extensions import db as _db
    from tests.web.test_query_counts import counting

    hr = db.session.scalar(select(User).where(User.email == "hr@eigene.example"))
    counts = {}
    for number, people in enumerate((4, 40)):
        ours = db.session.get(Organisation, world["organisation"])
        cohort = make.cohort(ours, name=f"Liste {number}", capacity=2)
        for n in range(people):
            person = make.participant(ours, first_name=f"P{n}")
            state = (S.REGISTERED, S.MANAGER_CONFIRMED, S.WAITING, S.DECLINED)[n % 4]
            extra = {"decided_by_id": hr.id, "decline_reason": "Nein"} if n % 4 == 3 else {}
            registration(
                db, cohort.id, person, state, registered_at=NOW + timedelta(seconds=n), **extra
            )
        url = f"{API}/cohorts/{cohort.id}/registrations?per_page=200"
        call("GET", url)
        with counting(_db.engine) as statements:
            listing = call("GET", url)
        assert listing.json["total"] == people
        counts[people] = len(statements)
    assert counts[4] == counts[40], counts
