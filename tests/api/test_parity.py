"""One rule, whatever the door: the same request by the same person on the
same record gives the same outcome through the pages and through the API —
done, or refused with the same code — and a refusal leaves the data exactly
as it was.

Each case is run once per door on fresh data, against one expected outcome,
so that neither door can drift from the other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import (
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    Enrolment,
    EnrolmentStatus,
)
from app.models.registrations import Registration
from tests.web.helpers import csrf_token, log_in

API = "/api/v1"
EMAILS = {
    "hr": "hr@eigene.example",
    "trainer": "trainer@eigene.example",
    "consultant": "berater@eigene.example",
    "admin": "admin@eigene.example",
    "stranger": "admin@fremde.example",
}
FORM_PAGE = "/participants"  # any page with a form gives the session's CSRF token
_DATA_CODE = re.compile(r'data-code="([a-z_]+)"')


@dataclass(frozen=True)
class Case:
    """A request as both doors take it: `web(ids)` and `api(ids)` give
    (method, url, body); `expected` is "done" or the refusal's code."""

    name: str
    who: str
    web: Any
    api: Any
    expected: str


def _mark(cohort, session, person, mark, minutes=None):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        url = f"/cohorts/{ids[cohort]}/attendance/{ids[session]}/{ids[person]}"
        typed = {} if minutes is None else {"minutes": str(minutes)}
        return "POST", url, {"mark": mark, **typed}

    def api(ids):  # type: ignore[no-untyped-def]
        url = f"{API}/cohorts/{ids[cohort]}/attendance/{ids[session]}/{ids[person]}"
        given = {} if minutes is None else {"minutes_missed": minutes}
        return "PUT", url, {"mark": mark, **given}

    return web, api


def _enrol(cohort, person):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        return "POST", f"/participants/{ids[person]}/enrol", {"cohort": ids[cohort]}

    def api(ids):  # type: ignore[no-untyped-def]
        return "POST", f"{API}/cohorts/{ids[cohort]}/enrolments", {"participant_id": ids[person]}

    return web, api


def _issue(person):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        return "POST", f"/cohorts/{ids['held']}/certificates", {"participant": ids[person]}

    def api(ids):  # type: ignore[no-untyped-def]
        return "POST", f"{API}/cohorts/{ids['held']}/certificates", {"participant_id": ids[person]}

    return web, api


def _revoke(reason):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        return "POST", f"/certificates/{ids['certificate']}/revoke", {"reason": reason}

    def api(ids):  # type: ignore[no-untyped-def]
        return "POST", f"{API}/certificates/{ids['certificate']}/revoke", {"reason": reason}

    return web, api


def _decide(action, registration, body=None):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        url = f"/cohorts/{ids[registration + '_cohort']}/registrations/{action}"
        return "POST", url, {"registration": ids[registration], **(body or {})}

    def api(ids):  # type: ignore[no-untyped-def]
        return "POST", f"{API}/registrations/{ids[registration]}/{action}", body or {}

    return web, api


def _book(person, session):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        url = f"/participants/{ids[person]}/make-ups"
        return "POST", url, {"cohort": ids["cohort"], "session": ids[session]}

    def api(ids):  # type: ignore[no-untyped-def]
        url = f"{API}/participants/{ids[person]}/make-ups"
        return "POST", url, {"cohort_id": ids["cohort"], "session_id": ids[session]}

    return web, api


def _cancel(person, session):  # type: ignore[no-untyped-def]
    def web(ids):  # type: ignore[no-untyped-def]
        return "POST", f"/participants/{ids[person]}/make-ups/{ids[session]}/cancel", {}

    def api(ids):  # type: ignore[no-untyped-def]
        return "DELETE", f"{API}/participants/{ids[person]}/make-ups/{ids[session]}", None

    return web, api


CASES = [
    # Attendance
    Case(
        "mark a session that took place",
        "trainer",
        *_mark("held", "timed", "mia", "present"),
        "done",
    ),
    Case(
        "mark a session that has not begun",
        "trainer",
        *_mark("cohort", "session", "anna", "present"),
        "session_not_begun",
    ),
    Case(
        "mark with a role that takes none",
        "hr",
        *_mark("held", "timed", "mia", "present"),
        "forbidden",
    ),
    Case(
        "mark in another organisation",
        "stranger",
        *_mark("held", "timed", "mia", "present"),
        "not_found",
    ),
    Case(
        "mark someone enrolled after the session",
        "trainer",
        *_mark("held", "timed", "lena", "present"),
        "enrolled_after_session",
    ),
    Case(
        "mark a session as a self-study phase",
        "trainer",
        *_mark("held", "timed", "mia", "done"),
        "mark_not_for_session",
    ),
    Case(
        "mark someone not enrolled",
        "trainer",
        *_mark("held", "timed", "ben", "present"),
        "not_enrolled",
    ),
    Case(
        "mark partly without minutes",
        "trainer",
        *_mark("held", "timed", "mia", "partly"),
        "done",
    ),
    Case(
        "mark partly with 0 minutes",
        "trainer",
        *_mark("held", "timed", "mia", "partly", 0),
        "invalid_minutes",
    ),
    # Enrolments
    Case("enrol someone", "hr", *_enrol("cohort", "ben"), "done"),
    Case("enrol into a full cohort", "hr", *_enrol("full", "ben"), "cohort_full"),
    Case(
        "enrol someone certified for the curriculum",
        "hr",
        *_enrol("cohort", "hanna"),
        "already_certified",
    ),
    Case(
        "enrol someone of another organisation", "stranger", *_enrol("cohort", "ben"), "not_found"
    ),
    # Certificates
    Case("issue for someone eligible", "hr", *_issue("ida"), "done"),
    Case("issue with a role that issues none", "trainer", *_issue("ida"), "forbidden"),
    Case("issue for someone not eligible", "hr", *_issue("lena"), "not_eligible"),
    Case("issue a second certificate", "hr", *_issue("hanna"), "already_issued"),
    Case("revoke with a reason", "hr", *_revoke("Falsches Programm"), "done"),
    Case("revoke without a reason", "hr", *_revoke(""), "reason_required"),
    Case("revoke with a role that revokes none", "consultant", *_revoke("Irrtum"), "forbidden"),
    # Registrations
    Case("accept a registration", "hr", *_decide("accept", "olga"), "done"),
    Case(
        "accept into a full cohort without a waiting list",
        "hr",
        *_decide("accept", "rita"),
        "cohort_full",
    ),
    Case(
        "accept with a role that decides none", "trainer", *_decide("accept", "olga"), "forbidden"
    ),
    Case("accept in another organisation", "stranger", *_decide("accept", "olga"), "not_found"),
    Case(
        "decline with a reason",
        "hr",
        *_decide("decline", "olga", {"reason": "Kein Budget"}),
        "done",
    ),
    # Make-ups
    Case("book a make-up", "hr", *_book("anna", "host_session"), "done"),
    Case("book the same element twice", "hr", *_book("cora", "host_session"), "already_booked"),
    Case("book into a full session", "hr", *_book("anna", "tiny_session"), "session_full"),
    Case("book in another organisation", "stranger", *_book("anna", "host_session"), "not_found"),
    Case("cancel a make-up", "hr", *_cancel("cora", "host_session"), "done"),
    Case("cancel what is no make-up", "hr", *_cancel("ida", "timed"), "not_a_booking"),
]


@pytest.fixture
def ids(world, held, make, db):
    """Every record a case names, by the name it uses."""
    from app.models import Cohort, Organisation, Session
    from app.models.registrations import RegistrationState
    from app.services import make_ups
    from app.services.policy import Actor

    organisation = db.session.get(Organisation, world["organisation"])
    full = make.cohort(organisation, name="Voll", capacity=1)
    make.participant(organisation, cohort=full, first_name="Fritz", last_name="Früh")
    first = db.session.scalar(
        select(Session).where(Session.cohort_id == world["cohort"]).order_by(Session.first_day)
    )
    # Registrations waiting for HR: Olga's for the world's cohort, Rita's
    # for one that is full and keeps no waiting list.
    no_list = make.cohort(organisation, name="Ohne Liste", capacity=1)
    no_list.waiting_list = False
    make.participant(organisation, cohort=no_list, first_name="Paula", last_name="Platz")
    waiting = {}
    for name, cohort_id in (("olga", world["cohort"]), ("rita", no_list.id)):
        person = make.participant(organisation, first_name=name.title(), last_name="Wartend")
        registration = Registration(
            organisation_id=organisation.id,
            cohort_id=cohort_id,
            participant_id=person.id,
            state=RegistrationState.MANAGER_CONFIRMED,
            weekly_minutes=180,
        )
        db.session.add(registration)
        db.session.flush()
        waiting |= {name: registration.id, f"{name}_cohort": cohort_id}
    # Make-ups for the world's cohort: in the host's seminar day 2 (Cora has
    # one booked there), or in a cohort whose one place is taken.
    host = make.cohort(organisation, name="Gastgeber", start=date(2027, 5, 3))
    tiny = make.cohort(organisation, name="Klein", start=date(2027, 6, 7), capacity=1)
    make.participant(organisation, cohort=tiny, first_name="Kai", last_name="Klein")
    cora = make.participant(
        organisation,
        cohort=db.session.get(Cohort, world["cohort"]),
        first_name="Cora",
        last_name="Gebucht",
    )
    host_session = next(s.id for s in host.sessions if s.element.key == "seminar-2")
    tiny_session = next(s.id for s in tiny.sessions if s.element.key == "seminar-2")
    make_ups.book(Actor.system(), cora.id, world["cohort"], host_session)
    db.session.commit()
    return {
        **world,
        "held": held["cohort"],
        "timed": held["timed"],
        "session": first.id,
        "full": full.id,
        **{name: held[name] for name in ("hanna", "ida", "mia", "lena", "certificate")},
        **waiting,
        "cora": cora.id,
        "host_session": host_session,
        "tiny_session": tiny_session,
    }


def _state(db) -> tuple[object, ...]:
    """What any of the cases could change."""
    return (
        db.session.scalar(select(func.count(AttendanceChange.id))),
        db.session.scalar(
            select(func.count(Enrolment.id)).where(Enrolment.status == EnrolmentStatus.ENROLLED)
        ),
        db.session.scalar(select(func.count(Certificate.id))),
        db.session.scalar(select(func.count(Certificate.id)).where(Certificate.revoked_at.is_not(None))),
        db.session.scalar(select(func.count(AttendanceRecord.id))),
        tuple(db.session.execute(select(Registration.id, Registration.state).order_by("id"))),
    )  # fmt: skip


def _through_the_pages(client, who: str, request) -> str:  # type: ignore[no-untyped-def]
    method, url, body = request
    log_in(client, EMAILS[who])
    token = csrf_token(client, FORM_PAGE)
    response = client.open(
        url,
        method=method,
        data={"csrf_token": token, **body},
        headers={"Referer": f"http://localhost{FORM_PAGE}"},
    )
    if response.status_code in (403, 404):
        return {403: "forbidden", 404: "not_found"}[response.status_code]
    with client.session_transaction() as session:
        categories = [category for category, _ in session.get("_flashes", [])]
    refused = [c.split("refused-", 1)[1] for c in categories if "refused-" in c]
    if refused:
        return refused[0]
    # A warning that asks to confirm shows its page with the reason's code.
    found = _DATA_CODE.search(response.get_data(as_text=True))
    if found:
        return found.group(1)
    if response.status_code < 400 and "error" not in categories:
        return "done"
    return f"status {response.status_code}"


def _through_the_api(client, tokens, who: str, request) -> str:  # type: ignore[no-untyped-def]
    method, url, body = request
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    response = client.open(url, method=method, headers=headers, json=body)
    if response.status_code < 300:
        return "done"
    return response.json["error"]["code"]


@pytest.mark.parametrize("door", ["pages", "api"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_both_doors_give_the_same_outcome(client, db, ids, case, door):
    before = _state(db)
    if door == "pages":
        outcome = _through_the_pages(client, case.who, case.web(ids))
    else:
        outcome = _through_the_api(client, ids["tokens"], case.who, case.api(ids))
    assert outcome == case.expected
    db.session.expire_all()
    if case.expected == "done":
        assert _state(db) != before
    else:
        assert _state(db) == before


def test_both_doors_refuse_a_taken_e_mail_address_with_the_same_reason(client, world, db):
    """Adding a person: the page shows the reason at the field, the API its
    code; nobody is added."""
    body = {"first_name": "Zweite", "last_name": "Anna", "email": "", "department": ""}
    from app.models import Participant

    taken = db.session.get(Participant, world["anna"]).email
    count = db.session.scalar(select(func.count(Participant.id)))
    log_in(client, EMAILS["hr"])
    token = csrf_token(client, "/participants/new")
    page = client.post(
        "/participants/new?lang=en",
        data={
            "csrf_token": token,
            **body,
            "email": taken,
            "organisation": world["organisation"],
        },
    )
    assert page.status_code == 400
    api = client.post(
        f"{API}/participants",
        headers={"Authorization": f"Bearer {world['tokens']['hr']}"},
        json={**body, "email": taken},
    )
    assert api.status_code == 409
    assert api.json["error"]["code"] == "email_taken"
    # At the field the page need not repeat the address the field holds.
    assert "This e-mail address is taken already." in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Participant.id))) == count
