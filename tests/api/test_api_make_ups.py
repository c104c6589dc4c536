"""Make-ups through the API, as an HR system uses them: who can no longer
reach the certificate in their own cohort, why (codes and words), the
sessions that would save it, and booking or cancelling a make-up under the
pages' rules and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import AttendanceRecord, Cohort, Enrolment, Notification, Organisation, Session
from app.services import attendance
from cohorts.eligibility import Mark

API = "/api/v1"
TODAY = datetime.now(UTC).date()


def session_of(db, cohort_id: int, key: str) -> int:
    cohort = db.session.get(Cohort, cohort_id)
    return next(s.id for s in cohort.sessions if s.element.key == key)


@pytest.fixture
def absent(make, db, world):
    """Cohort A of the world's organisation began weeks ago; Erika and Max
    were absent on its seminar day 2. Cohort B (two places, one taken) and
    C (no capacity) start later."""
    org = db.session.get(Organisation, world["organisation"])
    first = make.cohort(org, start=TODAY - timedelta(days=40), name="Gruppe A")
    second = make.cohort(org, start=TODAY + timedelta(days=30), name="Gruppe B", capacity=2)
    third = make.cohort(org, start=TODAY + timedelta(days=60), name="Gruppe C")
    erika = make.participant(org, first, first_name="Erika", last_name="Fehltag")
    max_ = make.participant(org, first, first_name="Max", last_name="Gefehlt")
    make.participant(org, first, first_name="Nina", last_name="Da")
    make.participant(org, second, first_name="Bea", last_name="Belegt")
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.cohort_id == first.id)):
        enrolment.enrolled_at = datetime.now(UTC) - timedelta(days=50)  # before it began
    missed = db.session.get(Session, session_of(db, first.id, "seminar-2"))
    for person in (erika, max_):
        attendance.set_mark(missed, person, Mark.ABSENT, None)
    db.session.commit()
    return {
        "a": first.id,
        "b": second.id,
        "c": third.id,
        "erika": erika.id,
        "max": max_.id,
        "a_session": missed.id,
        "b_session": session_of(db, second.id, "seminar-2"),
        "c_session": session_of(db, third.id, "seminar-2"),
    }


def records(db) -> int:
    return db.session.scalar(select(func.count(AttendanceRecord.id)))


def test_the_cohorts_people_at_risk_with_reasons_in_codes_and_words(call, db, world, absent):
    found = call("GET", f"{API}/cohorts/{absent['a']}/at-risk")
    assert found.status_code == 200, found.json
    assert found.json["total"] == 2
    erika, max_ = found.json["items"]
    assert erika["participant"]["name"] == "Erika Fehltag"
    assert max_["participant"]["name"] == "Max Gefehlt"
    assert (erika["cohort_id"], erika["cohort_name"], erika["saved"]) == (
        absent["a"],
        "Gruppe A",
        False,
    )
    (reason,) = erika["reasons"]
    assert (reason["code"], reason["elements"], reason["needed"], reason["booked"]) == (
        "element",
        ["seminar-2"],
        1,
        [],
    )
    assert reason["saved"] is False
    assert "abwesend am" in reason["text_de"]
    assert "kein späterer Termin davon in der Gruppe" in reason["text_de"]
    assert "absent on" in reason["text_en"]
    (missed,) = erika["missed"]
    assert (missed["element_key"], missed["title_de"], missed["title_en"]) == (
        "seminar-2",
        "Seminartag 2: Der Prozess der Lernbegleitung",
        "Seminar day 2: the companion process",
    )
    assert missed["booking"] is None
    offered = [(o["cohort_name"], o["free"], o["session_id"]) for o in missed["offers"]]
    # By day: B, C, and the world's cohort (three places, Anna in one).
    assert offered == [
        ("Gruppe B", 1, absent["b_session"]),
        ("Gruppe C", None, absent["c_session"]),
        ("Gruppe 1", 2, session_of(db, world["cohort"], "seminar-2")),
    ]
    first = missed["offers"][0]
    assert (first["cohort_id"], first["element_key"], first["timezone"]) == (
        absent["b"],
        "seminar-2",
        "Europe/Berlin",
    )
    assert first["first_day"] <= first["last_day"]
    # In pages, by name.
    second = call("GET", f"{API}/cohorts/{absent['a']}/at-risk?per_page=1&page=2").json
    assert [e["participant"]["id"] for e in second["items"]] == [absent["max"]]
    assert second["total"] == 2
    # Nobody is at risk in a cohort that has not begun.
    assert call("GET", f"{API}/cohorts/{absent['b']}/at-risk").json["items"] == []
    # The person's own list.
    own = call("GET", f"{API}/participants/{absent['erika']}/at-risk")
    assert own.status_code == 200
    assert [(e["cohort_id"], e["participant"]["id"]) for e in own.json] == [
        (absent["a"], absent["erika"])
    ]
    # Anna's cohort starts next year.
    assert call("GET", f"{API}/participants/{world['anna']}/at-risk").json == []


def test_booking_a_make_up_saves_the_person_and_cancelling_it_gives_the_offers_back(
    call, db, absent
):
    url = f"{API}/participants/{absent['erika']}/make-ups"
    booked = call("POST", url, json={"cohort_id": absent["a"], "session_id": absent["b_session"]})
    assert booked.status_code == 201, booked.json
    booking = booked.json
    assert booking == {
        "id": booking["id"],
        "participant_id": absent["erika"],
        "cohort_id": absent["a"],
        "session_id": absent["b_session"],
        "host_cohort_name": "Gruppe B",
        "element_key": "seminar-2",
        "first_day": db.session.get(Session, absent["b_session"]).first_day.isoformat(),
        "awaiting_mark": False,
    }
    record = db.session.get(AttendanceRecord, booking["id"])
    assert (record.for_cohort_id, record.mark) == (absent["a"], Mark.NOT_RECORDED)
    invitation = db.session.scalar(
        select(Notification).where(
            Notification.participant_id == absent["erika"], Notification.kind == "invitation"
        )
    )
    assert invitation.session_id == absent["b_session"]
    # The list says she is saved, with the booking instead of offers.
    erika = call("GET", f"{API}/participants/{absent['erika']}/at-risk").json[0]
    assert erika["saved"] is True
    assert erika["reasons"][0]["booked"] == ["seminar-2"]
    (missed,) = erika["missed"]
    assert missed["booking"]["id"] == booking["id"]
    assert missed["offers"] == []
    # Cancelled: the record goes, the offers come back.
    before = records(db)
    cancelled = call("DELETE", f"{url}/{absent['b_session']}")
    assert cancelled.status_code == 204
    assert records(db) == before - 1
    erika = call("GET", f"{API}/participants/{absent['erika']}/at-risk").json[0]
    assert erika["missed"][0]["booking"] is None
    assert len(erika["missed"][0]["offers"]) == 3
    gone = call("DELETE", f"{url}/{absent['b_session']}")
    assert gone.status_code == 404


def test_refused_bookings_name_their_rule_and_change_nothing(call, db, absent):
    erika = f"{API}/participants/{absent['erika']}/make-ups"
    first = call("POST", erika, json={"cohort_id": absent["a"], "session_id": absent["b_session"]})
    assert first.status_code == 201
    before = records(db)
    cases = [
        (erika, absent["b_session"], "already_booked"),  # the same session again
        (erika, absent["c_session"], "already_booked"),  # the same element elsewhere
        (erika, absent["a_session"], "own_cohort"),
        # Bea and Erika hold B's two places.
        (f"{API}/participants/{absent['max']}/make-ups", absent["b_session"], "session_full"),
    ]
    for url, session_id, code in cases:
        refused = call("POST", url, json={"cohort_id": absent["a"], "session_id": session_id})
        assert refused.status_code == 409, (code, refused.json)
        assert refused.json["error"]["code"] == code
    # The session of the own cohort is no make-up to cancel.
    refused = call(
        "DELETE", f"{API}/participants/{absent['erika']}/make-ups/{absent['a_session']}"
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "not_a_booking"
    assert records(db) == before


def test_wrong_requests_name_their_fields_and_others_find_nothing(call, db, world, absent):
    before = records(db)
    url = f"{API}/participants/{absent['erika']}/make-ups"
    invalid = call("POST", url, json={"cohort_id": "A", "session_id": 0})
    assert invalid.status_code == 422
    assert set(invalid.json["error"]["details"]["json"]) == {"cohort_id", "session_id"}
    unknown = call("POST", url, json={"cohort_id": absent["a"], "session_id": 2**31 - 2})
    assert unknown.status_code == 404
    # Another organisation's session cannot be booked, nor is it seen to exist.
    foreign = call(
        "POST", url, json={"cohort_id": absent["a"], "session_id": world["foreign_session"]}
    )
    assert foreign.status_code == 404
    body = {"cohort_id": absent["a"], "session_id": absent["b_session"]}
    for method, address, sent in (
        ("GET", f"{API}/cohorts/{absent['a']}/at-risk", None),
        ("GET", f"{API}/participants/{absent['erika']}/at-risk", None),
        ("POST", url, body),
        ("DELETE", f"{url}/{absent['b_session']}", None),
    ):
        response = call(method, address, "stranger", json=sent)
        assert response.status_code == 404, (method, address)
        assert response.json["error"]["code"] == "not_found"
    assert records(db) == before


def test_a_make_up_whose_session_has_begun_waits_for_its_mark(call, db, absent):
    """Booked, and the host's session took place yesterday without the
    guest's mark: the booking stays, saves nothing yet, blocks another one
    and can be cancelled."""
    url = f"{API}/participants/{absent['erika']}/make-ups"
    booked = call("POST", url, json={"cohort_id": absent["a"], "session_id": absent["b_session"]})
    assert booked.status_code == 201
    session = db.session.get(Session, absent["b_session"])
    shift = session.first_day - (TODAY - timedelta(days=1))
    session.first_day -= shift
    session.last_day -= shift
    if session.starts_at is not None:
        session.starts_at -= shift
        session.ends_at -= shift
    db.session.commit()
    erika = call("GET", f"{API}/participants/{absent['erika']}/at-risk").json[0]
    assert erika["saved"] is False
    (reason,) = erika["reasons"]
    assert (reason["booked"], reason["awaiting"], reason["saved"]) == ([], ["seminar-2"], False)
    (missed,) = erika["missed"]
    assert missed["booking"]["id"] == booked.json["id"]
    assert missed["booking"]["awaiting_mark"] is True
    assert missed["offers"] == []
    again = call("POST", url, json={"cohort_id": absent["a"], "session_id": absent["c_session"]})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_booked"
    assert call("DELETE", f"{url}/{absent['b_session']}").status_code == 204
