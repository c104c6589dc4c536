"""Registering for a cohort through the service the pages use: the
organisation's address, the e-mail confirmation, the manager's answer and
HR's decision, each refusal (an expired or used link, a closed cohort,
another organisation, a manager who refuses), invitations, and a full
cohort's waiting list."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Change, Enrolment, EnrolmentStatus, Notification, Participant, Role
from app.models.registrations import Registration, RegistrationState
from app.services import enrolments, registrations, waiting_lists
from app.services.errors import InvalidInput, NotFound, NotPermitted
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


def application(cohort, email="erika@example.org", **more) -> Application:
    values = {
        "cohort_id": cohort.id,
        "first_name": "Erika",
        "last_name": "Muster",
        "email": email,
        "department": "Pflege",
        "manager_name": "Max Chef",
        "manager_email": "chef@example.org",
    }
    return Application(**(values | more))


def messages(what: str) -> list[Notification]:
    return [
        n
        for n in db.session.scalars(select(Notification).order_by(Notification.id))
        if n.kind == "registration" and n.payload["what"] == what
    ]


def token_in(link: str) -> str:
    return re.sub(r"^.*/", "", link)


def registered(world, email="erika@example.org", now=None) -> Registration:
    _, _, cohort, address = world
    registrations.register(address, application(cohort, email=email), now or NOW)
    db.session.flush()
    return db.session.scalar(
        select(Registration)
        .join(Participant)
        .where(Participant.email == email, Registration.cohort_id == cohort.id)
    )


def confirm_token(email="erika@example.org") -> str:
    [message] = [m for m in messages("confirm") if m.address == email][-1:]
    return token_in(message.payload["link"]["confirm"])


def manager_token() -> str:
    return token_in(messages("manager")[-1].payload["link"])


def through_manager(world, email="erika@example.org", minutes=180) -> Registration:
    registration = registered(world, email)
    registrations.confirm_email(confirm_token(email), NOW)
    registrations.manager_confirms(manager_token(), minutes, NOW)
    return registration


def test_the_whole_way_to_a_place(world):
    org, hr, cohort, address = world
    assert registrations.open_cohorts(org, date.today()) == [cohort]
    registration = registered(world)
    assert registration.state is S.REGISTERED
    person = registration.participant
    assert (person.first_name, person.department, person.email) == (
        "Erika",
        "Pflege",
        "erika@example.org",
    )
    [confirm] = messages("confirm")
    assert confirm.address == "erika@example.org"
    status = token_in(confirm.payload["link"]["status"])
    assert registrations.status_of(status) is registration
    # Only hashes are stored.
    assert confirm_token() not in (registration.email_token_hash or "")

    registrations.confirm_email(confirm_token(), NOW)
    assert registration.state is S.EMAIL_CONFIRMED
    assert registration.waits_for_manager
    [to_manager] = messages("manager")
    assert to_manager.address == "chef@example.org"
    assert to_manager.payload["employee"] == "Erika Muster"

    registrations.manager_confirms(manager_token(), 150, NOW)
    assert registration.state is S.MANAGER_CONFIRMED
    assert registration.weekly_minutes == 150
    assert messages("manager_confirmed")

    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert registration.state is S.ACCEPTED
    assert registration.decided_by == hr
    assert registration.decided_at == NOW
    assert enrolments._active(cohort, person) is not None
    assert messages("accepted")
    # The enrolment's own invitations are recorded too.
    assert db.session.scalar(
        select(Notification).where(
            Notification.kind != "registration", Notification.participant_id == person.id
        )
    )
    actions = [
        c.action
        for c in db.session.scalars(
            select(Change).where(Change.subject == "registration").order_by(Change.id)
        )
    ]
    assert actions == ["registered", "email_confirmed", "manager_confirmed", "accepted"]
    assert registrations.status_of(status).state is S.ACCEPTED


def test_links_work_once_and_expire(world):
    registration = registered(world)
    token = confirm_token()
    with pytest.raises(NotFound):
        registrations.confirm_email(token, NOW + timedelta(days=4))  # expired
    registrations.confirm_email(token, NOW)
    with pytest.raises(NotFound):
        registrations.confirm_email(token, NOW)  # used
    manager = manager_token()
    assert registrations.manager_request_of(manager, NOW + timedelta(days=15)) is None
    registrations.manager_confirms(manager, 120, NOW)
    with pytest.raises(NotFound):
        registrations.manager_refuses(manager, "", NOW)
    assert registration.state is S.MANAGER_CONFIRMED
    assert registrations.confirmation_of("x" * 101) is None
    assert registrations.status_of("") is None


def test_the_weekly_time_is_at_least_two_hours_and_at_most_twenty_four(world):
    registration = registered(world)
    registrations.confirm_email(confirm_token(), NOW)
    for minutes in (119, 24 * 60 + 1, 0):
        with pytest.raises(InvalidInput) as refused:
            registrations.manager_confirms(manager_token(), minutes, NOW)
        assert refused.value.field == "weekly_hours"
    assert registration.state is S.EMAIL_CONFIRMED
    registrations.manager_confirms(manager_token(), 24 * 60, NOW)
    assert registration.weekly_minutes == 1440


def test_a_manager_who_refuses_ends_the_registration(world):
    _, hr, cohort, _ = world
    registration = registered(world)
    registrations.confirm_email(confirm_token(), NOW)
    registrations.manager_refuses(manager_token(), "Projekt läuft", NOW)
    assert registration.state is S.MANAGER_DECLINED
    [told] = messages("manager_declined")
    assert told.payload["reason"] == "Projekt läuft"
    with pytest.raises(RegistrationRefused):
        registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)


def test_hr_waits_for_the_manager_unless_the_step_is_off(world):
    org, hr, cohort, _ = world
    registration = registered(world)
    with pytest.raises(RegistrationRefused) as refused:
        registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert refused.value.code == "email_not_confirmed"
    registrations.confirm_email(confirm_token(), NOW)
    with pytest.raises(RegistrationRefused) as refused:
        registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert refused.value.code == "waiting_for_manager"
    registrations.change_manager_step(Actor.of_user(hr), org.id, False)
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert registration.state is S.ACCEPTED


def test_without_the_manager_step_no_manager_is_asked(world):
    org, hr, cohort, address = world
    registrations.change_manager_step(Actor.of_user(hr), org.id, False)
    registrations.register(address, application(cohort, manager_email="", manager_name=""), NOW)
    registrations.confirm_email(confirm_token(), NOW)
    assert messages("manager") == []
    [registration] = db.session.scalars(select(Registration)).all()
    assert registration.decidable(org.manager_step)


def test_hr_declines_with_a_reason(world):
    _, hr, cohort, _ = world
    registration = through_manager(world)
    with pytest.raises(InvalidInput) as refused:
        registrations.decline(Actor.of_user(hr), cohort.id, registration.id, "  ", NOW)
    assert refused.value.field == "reason"
    registrations.decline(Actor.of_user(hr), cohort.id, registration.id, "Kein Bedarf", NOW)
    assert registration.state is S.DECLINED
    assert registration.decline_reason == "Kein Bedarf"
    assert messages("declined")[0].payload["reason"] == "Kein Bedarf"
    with pytest.raises(RegistrationRefused):
        registrations.decline(Actor.of_user(hr), cohort.id, registration.id, "noch mal", NOW)


def test_only_hr_and_admins_of_the_organisation_decide(world, make):
    org, _, cohort, _ = world
    registration = through_manager(world)
    trainer = make.user(Role.TRAINER, [org], email="trainer@example.org")
    with pytest.raises(NotPermitted):
        registrations.accept(Actor.of_user(trainer), cohort.id, registration.id, now=NOW)
    other = make.organisation("Andere GmbH")
    stranger = make.user(Role.HR, [other], email="hr@andere.example")
    with pytest.raises(NotFound):
        registrations.accept(Actor.of_user(stranger), cohort.id, registration.id, now=NOW)
    with pytest.raises(NotFound):
        registrations.of_cohort(Actor.of_user(stranger), cohort.id, date.today())
    with pytest.raises(NotFound):
        registrations.renew_address(Actor.of_user(stranger), org.id)
    assert registration.state is S.MANAGER_CONFIRMED


def test_a_closed_or_foreign_cohort_takes_no_registration(world, make):
    org, _, cohort, address = world
    other = make.organisation("Andere GmbH")
    foreign = make.cohort(other, name="Fremd", start=date.today() + timedelta(days=30))
    foreign.registration_open = True
    with pytest.raises(InvalidInput) as refused:
        registrations.register(address, application(foreign), NOW)
    assert refused.value.code == "registration_closed"
    closed = make.cohort(org, name="Geschlossen", start=date.today() + timedelta(days=30))
    with pytest.raises(InvalidInput):
        registrations.register(address, application(closed), NOW)
    cohort.registration_closes_on = date.today() - timedelta(days=1)
    assert registrations.open_cohorts(org, date.today()) == []
    with pytest.raises(InvalidInput):
        registrations.register(address, application(cohort), NOW)
    with pytest.raises(NotFound):
        registrations.register("not-an-address", application(cohort), NOW)
    assert db.session.scalars(select(Registration)).all() == []


def test_a_renewed_address_ends_the_old_one(world):
    org, hr, _, address = world
    assert registrations.organisation_of_address(address) is org
    fresh = registrations.renew_address(Actor.of_user(hr), org.id)
    assert registrations.organisation_of_address(address) is None
    assert registrations.organisation_of_address(fresh) is org
    registrations.close_address(Actor.of_user(hr), org.id)
    assert registrations.organisation_of_address(fresh) is None


def test_the_closing_date_lies_before_the_start(world):
    _, _, cohort, _ = world
    with pytest.raises(InvalidInput) as refused:
        registrations.change_cohort_registration(
            Actor.system(), cohort.id, open_=True, closes_on=cohort.start_date, today=date.today()
        )
    assert refused.value.field == "registration_closes_on"


def test_registering_twice_says_nothing_about_who_is_known(world, make):
    org, _, cohort, address = world
    known = make.participant(org, email="known@example.org", first_name="Kurt")
    registrations.register(address, application(cohort, email="known@example.org"), NOW)
    # A known person is found, not copied, nor their record changed.
    assert db.session.scalars(
        select(Participant).where(Participant.email == "known@example.org")
    ).all() == [known]
    assert known.first_name == "Kurt"
    registrations.confirm_email(confirm_token("known@example.org"), NOW)
    # Registered again: the same answer (no error); the address is told.
    registrations.register(address, application(cohort, email="KNOWN@example.org"), NOW)
    assert [m.address for m in messages("already")] == ["known@example.org"]
    assert len(db.session.scalars(select(Registration)).all()) == 1


def test_hr_invites_someone_it_picked(world, make):
    org, hr, cohort, _ = world
    person = make.participant(
        org,
        email="picked@example.org",
        manager_name="Mia Leitung",
        manager_email="mia@example.org",
    )
    registration = registrations.invite(Actor.of_user(hr), cohort.id, person.id, NOW)
    assert registration.invited
    assert registration.state is S.REGISTERED
    [invitation] = messages("invitation")
    assert invitation.address == "picked@example.org"
    token = token_in(invitation.payload["link"]["confirm"])
    assert registrations.confirmation_of(token, NOW + timedelta(days=13)) is registration
    registrations.confirm_email(
        token, NOW, manager_name="Mia Leitung", manager_email="mia.neu@example.org"
    )
    assert registration.manager_email == "mia.neu@example.org"
    assert messages("manager")[0].address == "mia.neu@example.org"
    with pytest.raises(RegistrationRefused):
        registrations.invite(Actor.of_user(hr), cohort.id, person.id, NOW)


def test_a_full_cohort_puts_the_accepted_on_its_waiting_list(world, make):
    org, hr, cohort, _ = world
    cohort.capacity = 1
    make.participant(org, cohort, first_name="Anna")
    registration = through_manager(world)
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert registration.state is S.WAITING
    assert waiting_lists.position_of(registration) == 1
    assert messages("waiting")[0].payload["position"] == 1
    # A withdrawal offers the place to the first in line.
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED
        )
    )
    enrolments.withdraw_participant(Actor.system(), cohort.id, enrolment.id)
    db.session.refresh(registration)
    assert registration.state is S.OFFERED


def test_a_warning_is_asked_before_accepting(world, make):
    org, hr, cohort, _ = world
    registration = through_manager(world)
    person = registration.participant
    other = make.cohort(org, name="Herbst", start=date.today() + timedelta(days=90))
    db.session.add(Enrolment(cohort=other, participant=person))
    db.session.flush()
    with pytest.raises(enrolments.EnrolmentError) as refused:
        registrations.accept(Actor.of_user(hr), cohort.id, registration.id, now=NOW)
    assert refused.value.code == "enrolled_elsewhere"
    assert registration.state is S.MANAGER_CONFIRMED
    registrations.accept(Actor.of_user(hr), cohort.id, registration.id, acknowledge=True, now=NOW)
    assert registration.state is S.ACCEPTED
