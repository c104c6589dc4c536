"""The employee withdraws from their status page, through the service the
page uses: before HR's decision (the application ends, the manager's link
stops working), on the waiting list (an offer held goes on), once enrolled
(the freed place goes to the list as when staff withdraw someone, in the
organisation's mode), and the refusals. Every message to the person holds
a working status link; only its hash is stored."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.filters import change_text
from app.models import Change, Enrolment, EnrolmentStatus, Notification, Participant, Role
from app.models.registrations import Registration, RegistrationState
from app.models.tokens import token_hash
from app.services import enrolments, registrations
from app.services.errors import NotFound
from app.services.policy import Actor
from app.services.registrations import Application, RegistrationRefused

S = RegistrationState
NOW = datetime.now(UTC)


@pytest.fixture
def world(db, make):
    org = make.organisation()
    hr = make.user(Role.HR, [org], email="hr@example.org")
    cohort = make.cohort(org, name="Frühjahr", start=date.today() + timedelta(days=60))
    registrations.change_cohort_registration(
        Actor.system(), cohort.id, open_=True, closes_on=None, today=date.today()
    )
    address = registrations.renew_address(Actor.system(), org.id)
    db.session.commit()
    return org, hr, cohort, address


def messages(email: str = "erika@example.org", what: str | None = None) -> list[Notification]:
    return [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.kind == "registration"
        and n.address == email
        and (what is None or n.payload["what"] == what)
    ]


def token_in(link: str) -> str:
    return re.sub(r"^.*/", "", link)


def status_token(email: str = "erika@example.org") -> str:
    """The status link of the newest message to the person: a registration
    step's or the waiting list's (each renews it)."""
    links = [
        n.payload["link"]["status"] if n.kind == "registration" else n.payload["status"]
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.kind in ("registration", "offer") and n.address == email
    ]
    return token_in(links[-1])


def registered(world, email="erika@example.org") -> Registration:
    _, _, cohort, address = world
    application = Application(
        cohort_id=cohort.id,
        first_name="Erika",
        last_name=email.split("@")[0].title(),
        email=email,
        department="",
        manager_name="Max Chef",
        manager_email="chef@example.org",
    )
    registrations.register(address, application, NOW)
    db.session.commit()
    return db.session.scalar(
        select(Registration).join(Participant).where(Participant.email == email)
    )


def confirmed(world, email="erika@example.org") -> Registration:
    registration = registered(world, email)
    link = messages(email, "confirm")[-1].payload["link"]["confirm"]
    registrations.confirm_email(token_in(link), NOW)
    db.session.commit()
    return registration


def through_manager(world, email="erika@example.org") -> Registration:
    registration = confirmed(world, email)
    manager = [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.payload.get("what") == "manager"
    ][-1]
    registrations.manager_confirms(token_in(manager.payload["link"]), 180, NOW)
    db.session.commit()
    return registration


def accepted(world, email="erika@example.org") -> Registration:
    _, hr, cohort, _ = world
    registration = through_manager(world, email)
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    db.session.commit()
    return registration


def history_texts(app, cohort) -> list[str]:
    with app.test_request_context():
        return [
            change_text(c)
            for c in db.session.scalars(
                select(Change).where(Change.cohort_id == cohort.id).order_by(Change.id)
            )
        ]


def test_before_hr_decides_the_application_ends_and_the_manager_link_with_it(world, app):
    _, hr, cohort, _ = world
    registration = confirmed(world)
    manager_hash = registration.manager_token_hash
    assert manager_hash is not None
    token = status_token()
    assert registrations.withdrawal(registration).what == "application"

    registrations.withdraw(token, "application", NOW)
    db.session.commit()
    assert registration.state is S.WITHDRAWN
    assert registration.manager_token_hash is None
    manager = [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.payload.get("what") == "manager"
    ][-1]
    assert registrations.manager_request_of(token_in(manager.payload["link"])) is None
    # The confirmation holds the link the person used, which keeps working.
    [told] = messages(what="withdrawn")
    assert token_in(told.payload["link"]["status"]) == token
    assert registrations.status_of(token) is registration
    # HR can no longer decide; the history says what happened.
    with pytest.raises(RegistrationRefused) as refused:
        registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert refused.value.code == "withdrawn"
    overview = registrations.of_cohort(Actor.of_user(hr), cohort.id, date.today())
    assert registration in overview.decided
    assert registration not in overview.pending
    [change] = db.session.scalars(
        select(Change).where(Change.subject == "registration", Change.action == "withdrawn")
    ).all()
    assert change.user_id is None
    assert change.after["ended"] == "application"
    assert "Erika Erika hat die Bewerbung zurückgezogen" in history_texts(app, cohort)


def test_a_second_withdrawal_and_a_wrong_link_are_refused(world):
    registration = registered(world)
    token = status_token()
    registrations.withdraw(token, "application", NOW)
    db.session.commit()
    with pytest.raises(RegistrationRefused) as refused:
        registrations.withdraw(token, "application", NOW)
    assert refused.value.code == "ended_already"
    with pytest.raises(NotFound):
        registrations.withdraw("not-a-token", "application", NOW)
    assert len(messages(what="withdrawn")) == 1
    assert registration.state is S.WITHDRAWN


def test_a_withdrawal_confirmed_for_the_application_is_refused_once_hr_accepted(world):
    _, hr, cohort, _ = world
    registration = through_manager(world)
    token = status_token()
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    db.session.commit()
    # HR's message carries a new link; the person's page was the old one.
    with pytest.raises(NotFound):
        registrations.withdraw(token, "application", NOW)
    with pytest.raises(RegistrationRefused) as refused:
        registrations.withdraw(status_token(), "application", NOW)
    assert refused.value.code == "changed_meanwhile"
    assert registration.state is S.ACCEPTED


def test_registering_again_after_a_withdrawal_works(world):
    registration = registered(world)
    registrations.withdraw(status_token(), "application", NOW)
    db.session.commit()
    again = registered(world)
    assert again is registration
    assert again.state is S.REGISTERED
    assert messages(what="confirm")[-1].payload["link"]["confirm"]


def _waiting_person(world, make, email):
    org, hr, cohort, _ = world
    registration = through_manager(world, email)
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    db.session.commit()
    return registration


def _full(world, make):
    org, _, cohort, _ = world
    cohort.capacity = 1
    db.session.commit()


@pytest.mark.parametrize("mode", ["offer", "move_up"])
def test_withdrawing_from_the_cohort_moves_the_waiting_list_up(world, make, mode):
    org, hr, cohort, _ = world
    registrations.change_waiting_lists(Actor.system(), org.id, mode, 3, False)
    _full(world, make)
    mine = accepted(world)
    assert mine.state is S.ACCEPTED
    first = _waiting_person(world, make, "first@example.org")
    second = _waiting_person(world, make, "second@example.org")
    assert (first.state, second.state) == (S.WAITING, S.WAITING)
    possible = registrations.withdrawal(mine)
    assert (possible.what, possible.waiting) == ("cohort", 2)

    registrations.withdraw(status_token(), "cohort", NOW)
    db.session.commit()
    assert mine.state is S.WITHDRAWN
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.participant_id == mine.participant_id)
    )
    assert enrolment.status is EnrolmentStatus.WITHDRAWN
    db.session.refresh(first)
    db.session.refresh(second)
    if mode == "offer":
        assert (first.state, second.state) == (S.OFFERED, S.WAITING)
    else:
        assert (first.state, second.state) == (S.ACCEPTED, S.WAITING)
    assert messages(what="left_cohort")
    assert any("ausgetragen" in text for text in history_texts_of(cohort))


def history_texts_of(cohort):
    from flask import current_app

    return history_texts(current_app, cohort)


def test_leaving_the_waiting_list_passes_an_offer_on(world, make):
    org, hr, cohort, _ = world
    _full(world, make)
    accepted(world, "placed@example.org")
    first = _waiting_person(world, make, "erika@example.org")
    second = _waiting_person(world, make, "second@example.org")
    # A place frees: the first in line is offered it.
    holder = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    )
    enrolments.withdraw_participant(Actor.system(), cohort.id, holder.id)
    db.session.commit()
    assert first.state is S.OFFERED
    assert registrations.withdrawal(first).what == "list"

    registrations.withdraw(status_token(), "list", NOW)
    db.session.commit()
    db.session.refresh(second)
    assert first.state is S.WITHDRAWN
    assert first.offer_token_hash is None
    assert second.state is S.OFFERED
    assert messages(what="left_list")


def test_leaving_the_list_while_waiting(world, make):
    _full(world, make)
    accepted(world, "placed@example.org")
    mine = _waiting_person(world, make, "erika@example.org")
    assert mine.state is S.WAITING
    with pytest.raises(RegistrationRefused) as refused:
        registrations.withdraw(status_token(), "cohort", NOW)
    assert refused.value.code == "changed_meanwhile"
    registrations.withdraw(status_token(), "list", NOW)
    db.session.commit()
    assert mine.state is S.WITHDRAWN


def test_a_cohort_that_has_begun_is_left_through_hr(world, make):
    _, _, cohort, _ = world
    mine = accepted(world)
    later = NOW + timedelta(days=cohort.start_date.toordinal() - date.today().toordinal() + 1)
    possible = registrations.withdrawal(mine, later)
    assert possible.what is None
    assert possible.begun
    with pytest.raises(RegistrationRefused) as refused:
        registrations.withdraw(status_token(), "cohort", later)
    assert refused.value.code == "cohort_begun"
    assert mine.state is S.ACCEPTED


def test_every_message_to_the_person_holds_a_working_status_link(world):
    _, hr, cohort, _ = world
    registration = accepted(world)
    told = messages()
    assert [m.payload["what"] for m in told] == ["confirm", "manager_confirmed", "accepted"]
    for message in told:
        assert "/registration/" in message.payload["link"]["status"]
    # Only the newest one works, and only its hash is stored.
    newest = status_token()
    assert registrations.status_of(newest) is registration
    assert registration.status_token_hash == token_hash(newest)
    assert newest not in str(registration.status_token_hash)
    for message in told[:-1]:
        assert registrations.status_of(token_in(message.payload["link"]["status"])) is None
    # The manager's message holds no status link.
    manager = [
        n for n in db.session.scalars(select(Notification)) if n.address == "chef@example.org"
    ]
    assert manager
    assert all("status" not in str(n.payload.get("link")) for n in manager)
