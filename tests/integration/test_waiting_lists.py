"""Waiting lists through the services the doors use: joining a full cohort's
list, a withdrawal's place offered to the first in line by e-mail (a real
SMTP server), the offer's link accepted or declined, offers expiring, moving
up at once, the list of a cohort that began carried on to the next one, and
a person who leaves (or is erased) leaving every list."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app import queue
from app.extensions import db
from app.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Notification,
    Participant,
    Session,
)
from app.models.registrations import Registration, RegistrationState
from app.services import cohorts, enrolments, privacy, waiting_lists
from app.services.enrolments import EnrolmentError
from app.services.policy import Actor
from app.services.waiting_lists import WaitingListRefused
from tests.smtp import mail_server
from tests.web.helpers import post_form

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


@pytest.fixture
def server(app, db):
    queue.huey.flush()
    with mail_server(app) as running:
        yield running
    queue.huey.flush()


@pytest.fixture
def full(db, make):
    """A cohort of two places, both taken, and three people waiting, in order."""
    org = make.organisation()
    cohort = make.cohort(org, capacity=2, name="Frühjahr")
    enrolled = [make.participant(org, cohort, first_name=n) for n in ("Anna", "Bert")]
    waiting = [make.participant(org, first_name=n) for n in ("Cora", "Dirk", "Emil")]
    for number, person in enumerate(waiting):
        waiting_lists.join(cohort, person, None, NOW + timedelta(minutes=number))
    db.session.commit()
    return cohort, enrolled, waiting


def registration(cohort, person) -> Registration:
    return waiting_lists._registration(cohort, person)


def withdraw(cohort, person) -> None:
    enrolment = enrolments._active(cohort, person)
    enrolments.withdraw_participant(Actor.system(), cohort.id, enrolment.id)


def offers(cohort) -> list[Notification]:
    return list(
        Notification.query.filter_by(kind="offer", cohort_id=cohort.id).order_by(Notification.id)
    )


def again(ids):
    """The cohort and people loaded anew after a request (which ends its session)."""
    cohort_id, people = ids
    return db.session.get(Cohort, cohort_id), [db.session.get(Participant, i) for i in people]


def link_path(notification: Notification) -> str:
    link = notification.payload["link"]
    return re.sub(r"^https?://[^/]+", "", link)


def test_the_list_is_joined_only_when_full_and_in_order(db, make, full):
    cohort, enrolled, waiting = full
    assert [waiting_lists.position_of(registration(cohort, p)) for p in waiting] == [1, 2, 3]
    again = waiting_lists.join(cohort, waiting[0], None, NOW + timedelta(hours=1))
    assert again.registered_at == NOW  # on it already: the place stays
    with pytest.raises(WaitingListRefused, match="enrolled"):
        waiting_lists.join(cohort, enrolled[0], None, NOW)
    roomy = make.cohort(cohort.organisation, capacity=5, name="Herbst")
    with pytest.raises(WaitingListRefused) as refused:
        waiting_lists.join(roomy, waiting[0], None, NOW)
    assert refused.value.code == "places_free"


def test_a_withdrawal_offers_the_place_to_the_first_by_e_mail(app, db, full, server, client):
    cohort, enrolled, waiting = full
    ids = cohort.id, [p.id for p in waiting]
    withdraw(cohort, enrolled[0])
    db.session.commit()
    [offer] = offers(cohort)
    assert offer.participant_id == waiting[0].id
    first = registration(cohort, waiting[0])
    assert first.state is RegistrationState.OFFERED
    assert first.offer_expires_at > datetime.now(UTC) + timedelta(days=2, hours=23)
    assert waiting_lists.position_of(registration(cohort, waiting[1])) == 1

    queue.run_pending()
    [message] = [m for m in server.inbox.messages if m["To"].endswith(f"<{waiting[0].email}>")]
    assert message["Subject"] == "Ein Platz ist für Sie frei: Frühjahr"
    body = message.get_content()
    assert "Bitte nehmen Sie den Platz bis" in body
    [link] = re.findall(r"\S*/offer/\S+", body)
    # Where the registration stands, as every message about it says.
    assert "Den Stand Ihrer Bewerbung sehen Sie jederzeit hier:" in body
    [status] = re.findall(r"\S*/registration/\S+", body)
    # Sent: the outbox holds the links no more, the inbox does.
    db.session.expire_all()
    sent = db.session.get(Notification, offer.id).payload
    assert (sent["link"], sent["status"]) == ("", "")
    assert client.get(re.sub(r"^https?://[^/]+", "", status)).status_code == 200

    # The link: the person, without an account, accepts the place.
    path = re.sub(r"^https?://[^/]+", "", link)
    page = client.get(path)
    assert page.status_code == 200
    assert "Frühjahr" in page.get_data(as_text=True)
    answered = post_form(client, f"{path}/accept", {}, form_url=path)
    assert answered.status_code == 200
    assert "Sie sind in Frühjahr eingeschrieben" in answered.get_data(as_text=True)
    cohort, waiting = again(ids)
    assert enrolments._active(cohort, waiting[0]) is not None
    assert registration(cohort, waiting[0]).state is RegistrationState.ACCEPTED
    # Once only: the link answers no more.
    assert client.get(path).status_code == 404
    assert enrolments.enrolled_count(cohort) == 2


def test_a_declined_offer_goes_to_the_next(db, full, client):
    cohort, enrolled, waiting = full
    withdraw(cohort, enrolled[0])
    db.session.commit()
    path = link_path(offers(cohort)[0])
    ids = cohort.id, [p.id for p in waiting]
    assert post_form(client, f"{path}/decline", {}, form_url=path).status_code == 200
    cohort, waiting = again(ids)
    assert registration(cohort, waiting[0]).state is RegistrationState.OFFER_DECLINED
    assert registration(cohort, waiting[1]).state is RegistrationState.OFFERED
    assert [o.participant_id for o in offers(cohort)] == [waiting[0].id, waiting[1].id]


def test_an_expired_offer_goes_to_the_next_and_cannot_be_accepted(db, full):
    cohort, enrolled, waiting = full
    withdraw(cohort, enrolled[0])
    db.session.commit()
    token_hash_before = registration(cohort, waiting[0]).offer_token_hash
    assert token_hash_before is not None
    later = datetime.now(UTC) + timedelta(days=3, minutes=1)
    waiting_lists.sweep(later)
    db.session.commit()
    assert registration(cohort, waiting[0]).state is RegistrationState.OFFER_EXPIRED
    assert registration(cohort, waiting[0]).offer_token_hash is None
    assert registration(cohort, waiting[1]).state is RegistrationState.OFFERED
    told = [(o.participant_id, o.payload["what"]) for o in offers(cohort)]
    assert told == [(waiting[0].id, "offer"), (waiting[0].id, "expired"), (waiting[1].id, "offer")]
    # Sweeping again changes nothing.
    waiting_lists.sweep(later)
    assert len(offers(cohort)) == 3


def test_an_open_offer_holds_its_place_against_a_direct_enrolment(db, make, full):
    cohort, enrolled, waiting = full
    withdraw(cohort, enrolled[0])
    db.session.commit()
    newcomer = make.participant(cohort.organisation, first_name="Fritz")
    with pytest.raises(EnrolmentError) as refused:
        enrolments.enrol_participant(Actor.system(), cohort.id, newcomer.id)
    assert refused.value.code == "cohort_full"


def test_two_places_freeing_go_to_two_people(db, full):
    cohort, enrolled, waiting = full
    withdraw(cohort, enrolled[0])
    withdraw(cohort, enrolled[1])
    db.session.commit()
    assert [o.participant_id for o in offers(cohort)] == [waiting[0].id, waiting[1].id]
    assert registration(cohort, waiting[2]).state is RegistrationState.WAITING


def test_in_move_up_mode_the_first_is_enrolled_at_once(db, full):
    cohort, enrolled, waiting = full
    cohort.organisation.waiting_list_mode = "move_up"
    db.session.commit()
    withdraw(cohort, enrolled[0])
    db.session.commit()
    assert enrolments._active(cohort, waiting[0]) is not None
    assert registration(cohort, waiting[0]).state is RegistrationState.ACCEPTED
    assert [o.payload["what"] for o in offers(cohort)] == ["moved_up"]


def test_a_raised_capacity_is_given_to_the_list(db, full):
    cohort, _, waiting = full
    changed = cohorts.change_cohort(
        Actor.system(),
        cohort.id,
        name=cohort.name,
        capacity=4,
        venue=cohort.venue,
        online_link=cohort.online_link,
        version=cohort.lock_version,
    )
    assert changed
    db.session.commit()
    assert [o.participant_id for o in offers(cohort)] == [waiting[0].id, waiting[1].id]


def test_withdrawing_leaves_every_list_of_the_curriculum(db, make, full):
    cohort, enrolled, waiting = full
    later = make.cohort(cohort.organisation, capacity=0, name="Herbst", start=date(2027, 9, 6))
    waiting_lists.join(later, enrolled[0], None, NOW)
    db.session.commit()
    withdraw(cohort, enrolled[0])
    db.session.commit()
    assert registration(later, enrolled[0]).state is RegistrationState.WITHDRAWN
    assert waiting_lists.lists_of(enrolled[0]) == []


def test_an_erased_person_leaves_every_list_and_hands_their_offer_on(db, make, full):
    cohort, enrolled, waiting = full
    withdraw(cohort, enrolled[0])
    db.session.commit()
    person_id = waiting[0].id
    privacy._erase(waiting[0], None)
    db.session.commit()
    assert (
        db.session.scalars(
            select(Registration).where(Registration.participant_id == person_id)
        ).all()
        == []
    )
    assert registration(cohort, waiting[1]).state is RegistrationState.OFFERED


def test_nobody_moves_up_after_the_start_and_the_list_goes_to_the_next_cohort(db, make, full):
    cohort, enrolled, waiting = full
    next_one = make.cohort(cohort.organisation, capacity=1, name="Herbst", start=date(2027, 9, 6))
    first = db.session.scalars(
        select(Session).where(Session.cohort_id == cohort.id).order_by(Session.first_day)
    ).first()
    begun_at = datetime.combine(first.first_day, datetime.min.time(), UTC) + timedelta(days=1)
    withdraw(cohort, enrolled[0])  # before the start: offered to the first
    db.session.commit()
    waiting_lists.sweep(begun_at)
    db.session.commit()
    # The open offer ended; the others went to the next cohort, in their order.
    assert registration(cohort, waiting[0]).state is RegistrationState.OFFER_EXPIRED
    assert registration(cohort, waiting[1]).state is RegistrationState.MOVED
    carried = [registration(next_one, p) for p in waiting[1:]]
    assert [r.registered_at for r in carried] == [
        registration(cohort, p).registered_at for p in waiting[1:]
    ]
    # The next cohort has one place: the first of them is offered it.
    assert carried[0].state is RegistrationState.OFFERED
    assert carried[1].state is RegistrationState.WAITING
    assert waiting_lists.position_of(carried[1]) == 1
    told = [(o.participant_id, o.payload["what"]) for o in offers(next_one)]
    assert told == [
        (waiting[1].id, "carried"),
        (waiting[2].id, "carried"),
        (waiting[1].id, "offer"),
    ]
    assert enrolments.enrolled_count(cohort) == 1


def test_an_enrolment_by_staff_takes_the_person_off_the_list(db, full):
    cohort, enrolled, waiting = full
    cohort.capacity = 3
    db.session.commit()
    # A place is free only until the list is looked at: staff enrol the person themselves.
    enrolment = enrolments.enrol(cohort, waiting[2], None)
    assert enrolment.status is EnrolmentStatus.ENROLLED
    assert registration(cohort, waiting[2]).state is RegistrationState.ACCEPTED
    assert [waiting_lists.position_of(registration(cohort, p)) for p in waiting[:2]] == [1, 2]
    assert Enrolment.query.filter_by(cohort_id=cohort.id).count() == 3


def test_someone_enrolled_past_the_list_is_not_offered_a_second_place(db, full):
    cohort, enrolled, waiting = full
    # A file import enrols the first one waiting without asking the list.
    db.session.add(Enrolment(cohort=cohort, participant=waiting[0]))
    cohort.capacity = 3
    db.session.commit()
    withdraw(cohort, enrolled[0])
    db.session.commit()
    assert [o.participant_id for o in offers(cohort)] == [waiting[1].id]


def test_the_sweep_runs_every_quarter_hour_as_the_worker_runs_it(db, full, monkeypatch):
    from app import waiting_list_tasks

    def scheduled(moment: datetime) -> set[str]:
        return {t.name for t in queue.huey.read_periodic(moment.replace(tzinfo=None))}

    for minute in (0, 15, 30, 45):
        assert "waiting_list_sweep" in scheduled(datetime(2030, 6, 5, 10, minute))
    assert "waiting_list_sweep" not in scheduled(datetime(2030, 6, 5, 10, 7))

    cohort, enrolled, waiting = full
    ids = cohort.id, [p.id for p in waiting]
    withdraw(cohort, enrolled[0])
    db.session.commit()
    later = datetime.now(UTC) + timedelta(days=4)
    monkeypatch.setattr(waiting_lists, "now_utc", lambda: later)
    waiting_list_tasks.waiting_list_sweep.call_local()
    cohort, waiting = again(ids)
    assert registration(cohort, waiting[0]).state is RegistrationState.OFFER_EXPIRED
    assert registration(cohort, waiting[1]).state is RegistrationState.OFFERED
