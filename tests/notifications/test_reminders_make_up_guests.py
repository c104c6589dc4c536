"""Reminders before a session reach its make-up guests (people of another
cohort booked into it to make its element up) like its own people: once,
not when they turned reminders off, no longer once the booking is cancelled
or their mark recorded, and from their own organisation, on its schedule,
when they are of another one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app import delivery, queue
from app.models import Cohort, Delivery, Notification, Organisation, Participant, Role, Session
from app.services import attendance, delivery_log, make_ups, reminders, sessions
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.smtp import mail_server

# The host cohort (compact) starts Tue 29.10.2030; its seminar day 2 is on
# Wed 30.10.2030, 09:00-17:00 in Berlin. 7 days before: Wed 23.10.2030 08:00
# summer time, 06:00 UTC; 1 day before: Tue 29.10.2030 08:00 winter time,
# 07:00 UTC; 3 days before: Sun 27.10.2030 08:00 winter time, 07:00 UTC.
HOST_START = date(2030, 10, 29)
SEVEN_BEFORE = datetime(2030, 10, 23, 6, 0, tzinfo=UTC)
ONE_BEFORE = datetime(2030, 10, 29, 7, 0, tzinfo=UTC)
THREE_BEFORE = datetime(2030, 10, 27, 7, 0, tzinfo=UTC)
BOOKED_AT = datetime(2030, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_queue(app):
    queue.huey.flush()
    yield
    queue.huey.flush()


@pytest.fixture
def server(app, db):
    queue.huey.flush()
    with mail_server(app) as running:
        yield running
    queue.huey.flush()


def reminders_to(server, address: str) -> list:
    """What arrived of reminders (the booking's own invitation aside)."""
    return [
        m
        for m in server.inbox.to(address)
        if str(m["Subject"]).strip().startswith(("Erinnerung", "Reminder"))
    ]


def session_of(db, cohort_id: int, key: str) -> Session:
    cohort = db.session.get(Cohort, cohort_id)
    return next(s for s in cohort.sessions if s.element.key == key)


@pytest.fixture
def world(make, db):
    """Erika of Gruppe A (June) makes seminar day 2 up in Gruppe B
    (October, same organisation), where Bea is enrolled."""
    org = make.organisation("Nachhol AG")
    staff = make.user(Role.HR, [org], email="hr@nachhol.example")
    own = make.cohort(org, start=date(2030, 6, 4), name="Gruppe A")
    host = make.cohort(org, start=HOST_START, name="Gruppe B", venue="Haus am See, Raum 4")
    erika = make.participant(
        org, own, first_name="Erika", last_name="Gast", email="erika@nachhol.example"
    )
    make.participant(org, host, first_name="Bea", last_name="Belegt", email="bea@nachhol.example")
    db.session.commit()
    return {
        "org": org.id,
        "actor": Actor.of_user(staff),
        "a": own.id,
        "b": host.id,
        "erika": erika.id,
    }


def book(db, actor, world, host_id: int) -> Session:
    target = session_of(db, host_id, "seminar-2")
    make_ups.book(actor, world["erika"], world["a"], target.id, now=BOOKED_AT)
    db.session.commit()
    return target


def run(db, now: datetime) -> int:
    recorded = reminders.record_due(now)
    db.session.commit()
    return recorded


def reminded(db, participant_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.kind == "reminder", Notification.participant_id == participant_id)
            .order_by(Notification.id)
        )
    )


def test_a_guest_is_reminded_once_as_a_guest_beside_the_cohorts_own_people(db, world):
    target = book(db, world["actor"], world, world["b"])
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 2  # Bea and Erika
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 0
    assert run(db, SEVEN_BEFORE + timedelta(minutes=5)) == 0
    [mine] = reminded(db, world["erika"])
    assert mine.key == f"reminder:{target.id}:r0:7:g{world['erika']}"
    assert (mine.session_id, mine.cohort_id, mine.organisation_id) == (
        target.id,
        world["b"],
        world["org"],
    )
    assert mine.due_at == SEVEN_BEFORE
    assert mine.payload["cohort"] == "Gruppe B"
    assert (mine.payload["for"], mine.payload["own_cohort"]) == ("guest", "Gruppe A")
    # Bea of the cohort keeps her own key.
    keys = {
        n.key
        for n in db.session.scalars(
            select(Notification).where(Notification.session_id == target.id)
        )
        if n.kind == "reminder"
    }
    assert len(keys) == 2
    # The day before: the one of a week before was sent meanwhile (here: it
    # waited too long and went), the next one is recorded once.
    mine.state = Delivery.SENT
    db.session.commit()
    assert run(db, ONE_BEFORE - timedelta(minutes=10)) == 2
    assert run(db, ONE_BEFORE - timedelta(minutes=5)) == 0
    assert [n.payload["moment"] for n in reminded(db, world["erika"])] == ["7", "1"]


def test_a_guest_who_turned_reminders_off_gets_none(db, world):
    db.session.get(Participant, world["erika"]).reminders = False
    db.session.commit()
    book(db, world["actor"], world, world["b"])
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 1  # Bea only
    assert reminded(db, world["erika"]) == []


def test_turning_reminders_off_after_they_were_recorded_drops_the_unsent_one(db, world):
    book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    db.session.get(Participant, world["erika"]).reminders = False
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []


def test_a_cancelled_booking_drops_the_unsent_reminder_and_nothing_is_sent(db, world, server):
    target = book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    assert len(reminded(db, world["erika"])) == 1
    make_ups.cancel(world["actor"], world["erika"], target.id, now=SEVEN_BEFORE)
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))  # the next run drops it
    assert reminded(db, world["erika"]) == []
    delivery.sweep_now(SEVEN_BEFORE)
    assert reminders_to(server, "erika@nachhol.example") == []
    assert len(reminders_to(server, "bea@nachhol.example")) == 1
    # Nor is she reminded a day before.
    run(db, ONE_BEFORE - timedelta(minutes=10))
    assert reminded(db, world["erika"]) == []


def test_cancelling_a_make_up_drops_the_guests_reminder_in_the_same_change(db, world):
    target = book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    assert len(reminded(db, world["erika"])) == 1
    make_ups.cancel(world["actor"], world["erika"], target.id, now=SEVEN_BEFORE)
    # Gone before the periodic run: nothing is left for it to drop.
    assert reminders.refresh_unsent([target.id], SEVEN_BEFORE) == 0
    db.session.commit()
    assert reminded(db, world["erika"]) == []


def test_a_recorded_mark_ends_the_guests_reminders(db, world):
    target = book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    erika = db.session.get(Participant, world["erika"])
    own = db.session.get(Cohort, world["a"])
    # Her mark is there (marks are taken once a session has begun, so this is
    # the record as written, not a tap): the booking is over.
    attendance.set_mark(target, erika, Mark.EXCUSED, None, for_cohort=own)
    db.session.commit()
    assert run(db, SEVEN_BEFORE - timedelta(minutes=5)) == 0
    assert reminded(db, world["erika"]) == []
    assert run(db, ONE_BEFORE - timedelta(minutes=10)) == 1  # Bea only


def test_a_guest_withdrawn_from_their_own_cohort_is_no_longer_reminded(db, world):
    from app.models import Enrolment, EnrolmentStatus

    book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    assert len(reminded(db, world["erika"])) == 1
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == world["a"], Enrolment.participant_id == world["erika"]
        )
    )
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []
    assert run(db, ONE_BEFORE - timedelta(minutes=10)) == 1  # Bea only


def test_a_moved_or_cancelled_host_session_drops_the_guests_old_reminder(db, world):
    target = book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    sessions.cancel_session(target, actor=None, expected_version=target.lock_version)
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []
    assert run(db, ONE_BEFORE - timedelta(minutes=10)) == 0


def test_a_moved_host_session_reminds_the_guest_of_its_new_date_only(db, world, server):
    target = book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    # Seminar day 1 moves a week later, and seminar day 2 with it (to Wed 06.11.2030).
    first = session_of(db, world["b"], "seminar-1")
    sessions.move_session(
        first,
        date(2030, 11, 5),
        None,
        pin=True,
        actor=None,
        today=date(2030, 10, 23),
        expected_version=first.lock_version,
    )
    db.session.commit()
    assert (target.first_day, target.revision) == (date(2030, 11, 6), 1)
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []
    # Wed 30.10.2030 08:00 winter time, a week before the new day.
    new_moment = datetime(2030, 10, 30, 7, 0, tzinfo=UTC)
    run(db, new_moment - timedelta(minutes=10))
    [mine] = reminded(db, world["erika"])
    assert mine.key == f"reminder:{target.id}:r1:7:g{world['erika']}"
    delivery.sweep_now(new_moment)
    [message] = reminders_to(server, "erika@nachhol.example")
    assert "Mi. 06.11.2030" in message["Subject"]


def test_a_guest_enrolled_in_the_host_cohort_meanwhile_is_reminded_once(db, world, make):
    from app.models import Enrolment

    target = book(db, world["actor"], world, world["b"])
    db.session.add(Enrolment(cohort_id=world["b"], participant_id=world["erika"]))
    db.session.commit()
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 2  # Bea and Erika, as enrolled
    [mine] = reminded(db, world["erika"])
    assert mine.key == f"reminder:{target.id}:r0:7:p{world['erika']}"


def test_the_reminder_in_german_names_the_host_cohort_as_the_place(db, world, server):
    book(db, world["actor"], world, world["b"])
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    delivery.sweep_now(SEVEN_BEFORE)
    [message] = reminders_to(server, "erika@nachhol.example")
    assert message["Subject"].strip() == (
        "Erinnerung: Seminartag 2: Der Prozess der Lernbegleitung am Mi. 30.10.2030"
    )
    text = message.get_body(("plain",)).get_content()
    assert "Hallo Erika Gast," in text
    assert "Wann: Mi. 30.10.2030, 09:00–17:00" in text
    assert "Wo: Haus am See, Raum 4" in text
    assert "Gruppe: Gruppe B" in text
    # Where it takes place, and what it counts for.
    assert (
        "Es ist Ihr Nachholtermin in der Gruppe Gruppe B; "
        "er zählt für Ihre eigene Gruppe Gruppe A." in text
    )
    assert "persönlichen Seite abschalten" in text
    assert "Nachhol AG" in text


# --- A guest of another organisation -------------------------------------------


@pytest.fixture
def shared(world, make, db):
    """A partner organisation served by the same consultant, sharing its
    sessions for make-ups with Erika's, with its October cohort as the host;
    it reminds 7 and 1 days before, Erika's organisation 3 days before."""
    org = db.session.get(Organisation, world["org"])
    org.reminder_days = [3]
    org.mail_from = "kurse@nachhol.example"
    other = make.organisation("Partner GmbH")
    other.mail_from = "info@partner.example"
    consultant = make.user(Role.CONSULTANT, [org, other], email="beratung@partner.example")
    host = make.cohort(other, start=HOST_START, name="Partner Oktober")
    make.participant(other, host, first_name="Hanna", last_name="Host", email="h@partner.example")
    org.share_make_ups = other.share_make_ups = True
    db.session.commit()
    return {"other": other.id, "consultant": Actor.of_user(consultant), "host": host.id}


def test_a_guest_of_another_organisation_is_reminded_by_their_own_on_its_schedule(
    db, world, shared, server
):
    target = book(db, shared["consultant"], world, shared["host"])
    # The host's moment: Hanna only; Erika's organisation does not remind 7 days before.
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 1
    assert reminded(db, world["erika"]) == []
    [hanna] = db.session.scalars(select(Notification).where(Notification.kind == "reminder")).all()
    assert (hanna.organisation_id, hanna.cohort_id, hanna.payload["organisation"]) == (
        shared["other"],
        shared["host"],
        "Partner GmbH",
    )
    # Her own organisation's: three days before, at 08:00 where the session is
    # (and Bea's of Gruppe B, of her organisation too).
    assert run(db, THREE_BEFORE - timedelta(minutes=10)) == 2
    assert run(db, THREE_BEFORE - timedelta(minutes=5)) == 0
    [mine] = reminded(db, world["erika"])
    assert mine.key == f"reminder:{target.id}:r0:3:g{world['erika']}"
    assert mine.organisation_id == world["org"]
    assert mine.cohort_id == world["a"]  # in her organisation's log, under her cohort
    assert mine.payload["organisation"] == "Nachhol AG"
    assert mine.payload["from"] == "Nachhol AG <kurse@nachhol.example>"
    assert mine.payload["cohort"] == "Partner Oktober"
    delivery.sweep_now(THREE_BEFORE)
    [message] = reminders_to(server, "erika@nachhol.example")
    assert message["From"] == "Nachhol AG <kurse@nachhol.example>"
    text = message.get_body(("plain",)).get_content()
    assert "In 3 Tagen: Seminartag 2: Der Prozess der Lernbegleitung." in text
    assert "Gruppe: Partner Oktober" in text
    assert "Partner GmbH" not in text
    assert text.rstrip().endswith("Nachhol AG")
    # Her organisation's staff see it in her delivery log; the host's cohort log does not.
    _, log = delivery_log.person_log(world["actor"], world["erika"])
    assert [r.notification.id for r in log.rows if r.notification.kind == "reminder"] == [mine.id]
    assert mine.id not in {
        r.notification.id for r in delivery_log.newest_of_cohort(shared["host"]).rows
    }


def test_new_days_of_the_guests_own_organisation_drop_the_unsent_reminder(db, world, shared):
    book(db, shared["consultant"], world, shared["host"])
    run(db, THREE_BEFORE - timedelta(minutes=10))
    assert len(reminded(db, world["erika"])) == 1
    db.session.get(Organisation, world["org"]).reminder_days = [1]
    db.session.commit()
    run(db, THREE_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []
    # Hanna (the host's day before), Erika and Bea (their organisation's).
    assert run(db, ONE_BEFORE - timedelta(minutes=10)) == 3
    [mine] = reminded(db, world["erika"])
    assert (mine.payload["moment"], mine.organisation_id) == ("1", world["org"])


def test_a_cancelled_booking_in_another_organisation_drops_the_reminder(db, world, shared):
    target = book(db, shared["consultant"], world, shared["host"])
    run(db, THREE_BEFORE - timedelta(minutes=10))
    make_ups.cancel(shared["consultant"], world["erika"], target.id, now=THREE_BEFORE)
    db.session.commit()
    run(db, THREE_BEFORE - timedelta(minutes=5))
    assert reminded(db, world["erika"]) == []


# --- Set-wise ------------------------------------------------------------------


def statements_of_a_run(db, now: datetime) -> int:
    engine = db.session.get_bind()
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        reminders.record_due(now)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    db.session.rollback()
    return sum(1 for s in seen if "attendance_records" in s)


def test_one_question_finds_the_guests_of_all_sessions_due(db, world, make):
    """However many sessions due have guests: the same number of questions
    about guests in a run."""
    org = db.session.get(Organisation, world["org"])
    book(db, world["actor"], world, world["b"])
    one = statements_of_a_run(db, SEVEN_BEFORE - timedelta(minutes=10))
    for number in range(3):
        host = make.cohort(org, start=HOST_START, name=f"Gruppe C{number}")
        guest = make.participant(org, db.session.get(Cohort, world["a"]))
        make_ups.book(
            world["actor"],
            guest.id,
            world["a"],
            session_of(db, host.id, "seminar-2").id,
            now=BOOKED_AT,
        )
    db.session.commit()
    assert statements_of_a_run(db, SEVEN_BEFORE - timedelta(minutes=10)) == one
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 5  # Bea, Erika, three guests
