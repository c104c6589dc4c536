"""Make-ups booked ahead in another cohort's session, and the at-risk list,
through the services every door calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import (
    AttendanceRecord,
    Cohort,
    Enrolment,
    Notification,
    Organisation,
    Participant,
    Role,
    Session,
    SessionStatus,
    User,
)
from app.services import at_risk, attendance, make_ups
from app.services.errors import DomainError, NotFound
from app.services.policy import Actor
from cohorts.eligibility import Mark, decide

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def session_of(cohort_id: int, key: str) -> Session:
    from app.extensions import db

    cohort = db.session.get(Cohort, cohort_id)
    return next(s for s in cohort.sessions if s.element.key == key)


@pytest.fixture
def world(make, db):
    """Cohort A (seminar days on 1 and 2 March) where Erika missed seminar
    day 2; cohort B (May) and C (June) of the same curriculum, B with two
    places of which one is taken."""
    org = make.organisation("Nachhol AG")
    staff = make.user(Role.HR, [org], email="hr@nachhol.example")
    first = make.cohort(org, start=date(2027, 3, 1), name="Gruppe A")
    second = make.cohort(org, start=date(2027, 5, 3), name="Gruppe B", capacity=2)
    third = make.cohort(org, start=date(2027, 6, 7), name="Gruppe C")
    erika = make.participant(org, first, first_name="Erika", last_name="Muster")
    max_ = make.participant(org, first, first_name="Max", last_name="Muster")
    make.participant(org, second, first_name="Bea", last_name="Belegt")
    for person in (erika, max_):
        attendance.set_mark(session_of(first.id, "seminar-1"), person, Mark.PRESENT, None)
    attendance.set_mark(session_of(first.id, "seminar-2"), erika, Mark.ABSENT, None)
    attendance.set_mark(session_of(first.id, "seminar-2"), max_, Mark.PRESENT, None)
    db.session.commit()
    return {
        "org": org,
        "actor": Actor.of_user(staff),
        "a": first.id,
        "b": second.id,
        "c": third.id,
        "erika": erika.id,
        "max": max_.id,
    }


def test_the_at_risk_list_names_the_missed_element_and_the_sessions_that_save_it(world):
    found = at_risk.of_cohort(world["actor"], world["a"], now=NOW)
    assert [e.participant.id for e in found.entries] == [world["erika"]]
    entry = found.entries[0]
    assert [str(r) for r in entry.reasons] == [
        "Seminar day 2: the companion process: absent on 2027-03-02; "
        "no later session of it in the cohort"
    ]
    (missed,) = entry.missed
    assert missed.key == "seminar-2"
    assert missed.booking is None
    offered = [(o.cohort_name, o.free) for o in missed.offers]
    assert offered == [("Gruppe B", 1), ("Gruppe C", None)]
    assert found.can_book
    # The organisation's list says the same.
    whole = at_risk.of_organisations(world["actor"], now=NOW)
    assert [(e.cohort.id, e.participant.id) for e in whole.entries] == [
        (world["a"], world["erika"])
    ]


def test_booking_records_the_make_up_invites_and_names_it_in_the_reasons(world, db):
    target = session_of(world["b"], "seminar-2")
    record = make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    assert (record.session_id, record.for_cohort_id, record.mark) == (
        target.id,
        world["a"],
        Mark.NOT_RECORDED,
    )
    told = db.session.scalars(
        select(Notification).where(Notification.participant_id == world["erika"])
    ).all()
    assert [(n.kind, n.session_id) for n in told] == [("invitation", target.id)]
    assert told[0].payload["cohort"] == "Gruppe B"
    # The at-risk list: saved, with the booking instead of offers.
    entry = at_risk.of_cohort(world["actor"], world["a"], now=NOW).entries[0]
    assert entry.saved
    assert entry.missed[0].booking.record_id == record.id
    # The eligibility reasons name it.
    cohort = db.session.get(Cohort, world["a"])
    board = attendance.grid(cohort)
    records = attendance.attendance_by_person(cohort, board)[world["erika"]]
    booked = make_ups.booked_of(cohort.id, NOW)
    from dataclasses import replace

    records = {
        key: replace(r, booked=booked.get((world["erika"], key))) for key, r in records.items()
    }
    reasons = [str(r) for r in decide(cohort.version.model, records).reasons]
    assert (
        "missing: Seminar day 2: the companion process (make-up booked: 2027-05-04, Gruppe B)"
        in reasons
    )
    # The host's trainer sees the guest on the day and records them.
    assert [g.participant_id for g in attendance.guests(target)] == [world["erika"]]
    # The place is taken: B is full now for anyone else.
    assert make_ups.taken(target.cohort, target) == 2


def refusal(call) -> str:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.code


def test_refusals_say_why_and_change_nothing(world, db, make):
    actor, erika = world["actor"], world["erika"]
    b2 = session_of(world["b"], "seminar-2")
    a2 = session_of(world["a"], "seminar-2")
    c2 = session_of(world["c"], "seminar-2")
    b1 = session_of(world["b"], "seminar-1")
    assert refusal(lambda: make_ups.book(actor, erika, world["a"], a2.id, now=NOW)) == "own_cohort"
    assert (
        refusal(lambda: make_ups.book(actor, erika, world["b"], c2.id, now=NOW)) == "not_enrolled"
    )
    assert (
        refusal(lambda: make_ups.book(actor, erika, world["a"], b1.id, now=NOW))
        == "already_attended"
    )
    late = datetime(2027, 5, 4, 10, 0, tzinfo=UTC)
    assert (
        refusal(lambda: make_ups.book(actor, erika, world["a"], b2.id, now=late))
        == "session_begun"
    )
    make_ups.book(actor, erika, world["a"], b2.id, now=NOW)
    db.session.commit()
    assert (
        refusal(lambda: make_ups.book(actor, erika, world["a"], c2.id, now=NOW))
        == "already_booked"
    )
    assert (
        refusal(lambda: make_ups.book(actor, erika, world["a"], b2.id, now=NOW))
        == "already_booked"
    )
    # B's last place went to Erika: full for Max's colleague.
    other = make.participant(world["org"], db.session.get(Cohort, world["a"]), first_name="Ola")
    attendance.set_mark(a2, other, Mark.EXCUSED, None)
    db.session.commit()
    assert (
        refusal(lambda: make_ups.book(actor, other.id, world["a"], b2.id, now=NOW))
        == "session_full"
    )
    c2.status = SessionStatus.CANCELLED
    db.session.commit()
    assert (
        refusal(lambda: make_ups.book(actor, other.id, world["a"], c2.id, now=NOW))
        == "session_cancelled"
    )
    records = db.session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.participant_id == other.id)
    ).all()
    assert [r.session_id for r in records] == [a2.id]
    # A full session is not offered.
    entry = next(
        e
        for e in at_risk.of_cohort(actor, world["a"], now=NOW).entries
        if e.participant.id == other.id
    )
    assert entry.missed[0].offers == []


def test_another_organisation_does_not_see_or_book(world, make, db):
    stranger_org = make.organisation("Fremd GmbH")
    stranger = Actor.of_user(make.user(Role.ADMIN, [stranger_org]))
    b2 = session_of(world["b"], "seminar-2")
    with pytest.raises(NotFound):
        make_ups.book(stranger, world["erika"], world["a"], b2.id, now=NOW)
    with pytest.raises(NotFound):
        at_risk.of_cohort(stranger, world["a"], now=NOW)
    assert at_risk.of_organisations(stranger, now=NOW).entries == []
    # A cohort of another organisation is never offered as a make-up.
    make.cohort(stranger_org, start=date(2027, 4, 5), name="Fremde Gruppe")
    offers = at_risk.of_cohort(world["actor"], world["a"], now=NOW).entries[0].missed[0].offers
    assert "Fremde Gruppe" not in [o.cohort_name for o in offers]


def test_cancelling_a_booking_frees_the_place_and_tells_the_person(world, db):
    b2 = session_of(world["b"], "seminar-2")
    record = make_ups.book(world["actor"], world["erika"], world["a"], b2.id, now=NOW)
    db.session.commit()
    booking = make_ups.cancel(world["actor"], world["erika"], b2.id, now=NOW)
    db.session.commit()
    assert booking.first_day == date(2027, 5, 4)
    assert db.session.get(AttendanceRecord, record.id) is None
    kinds = db.session.scalars(
        select(Notification.kind)
        .where(Notification.participant_id == world["erika"])
        .order_by(Notification.id)
    ).all()
    assert kinds == ["invitation", "cancellation"]
    assert make_ups.taken(b2.cohort, b2) == 1
    with pytest.raises(NotFound):
        make_ups.cancel(world["actor"], world["erika"], b2.id, now=NOW)
    # Booked again: a new invitation, not swallowed as sent before.
    make_ups.book(world["actor"], world["erika"], world["a"], b2.id, now=NOW)
    db.session.commit()
    assert (
        db.session.scalar(
            select(db.func.count(Notification.id)).where(
                Notification.participant_id == world["erika"], Notification.kind == "invitation"
            )
        )
        == 2
    )


def test_a_mark_of_the_own_cohort_cannot_be_cancelled_as_a_make_up(world, db):
    own = db.session.scalar(
        select(AttendanceRecord).where(AttendanceRecord.participant_id == world["erika"])
    )
    assert (
        refusal(lambda: make_ups.cancel(world["actor"], world["erika"], own.session_id, now=NOW))
        == "not_a_booking"
    )


def test_a_person_without_address_is_booked_without_a_message(world, db):
    person = db.session.get(Participant, world["erika"])
    person.email = ""
    db.session.commit()
    b2 = session_of(world["b"], "seminar-2")
    make_ups.book(world["actor"], world["erika"], world["a"], b2.id, now=NOW)
    db.session.commit()
    assert (
        db.session.scalar(
            select(db.func.count(Notification.id)).where(
                Notification.participant_id == world["erika"]
            )
        )
        == 0
    )


@pytest.fixture
def shared(world, make, db):
    """Another organisation served by the same consultant, with a cohort of
    the same curriculum in April."""
    org = db.session.get(Organisation, world["org"].id)
    other = make.organisation("Partner GmbH")
    consultant = make.user(Role.CONSULTANT, [org, other], email="beratung@partner.example")
    partner = make.cohort(other, start=date(2027, 4, 5), name="Partner April")
    return {
        "other": other.id,
        "consultant": Actor.of_user(consultant),
        "partner": partner.id,
    }


def share(db, *organisation_ids):
    for organisation_id in organisation_ids:
        db.session.get(Organisation, organisation_id).share_make_ups = True
    db.session.commit()


def offered(actor, world):
    entry = at_risk.of_cohort(actor, world["a"], now=NOW).entries[0]
    return [o.cohort_name for o in entry.missed[0].offers]


def test_sessions_of_the_consultants_other_organisation_when_both_share(world, shared, db):
    consultant = shared["consultant"]
    target = session_of(shared["partner"], "seminar-2")
    # Neither shares: not offered, and booking it is not found.
    assert "Partner April" not in offered(consultant, world)
    with pytest.raises(NotFound):
        make_ups.book(consultant, world["erika"], world["a"], target.id, now=NOW)
    # Only one shares: still not.
    share(db, shared["other"])
    assert "Partner April" not in offered(consultant, world)
    # Both share: offered first (April) to the consultant, who books it.
    share(db, world["org"].id)
    assert offered(consultant, world) == ["Partner April", "Gruppe B", "Gruppe C"]
    record = make_ups.book(consultant, world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    assert record.session.cohort.organisation_id == shared["other"]
    entry = at_risk.of_cohort(world["actor"], world["a"], now=NOW).entries[0]
    assert entry.missed[0].booking.cohort_name == "Partner April"


def test_shared_sessions_are_not_offered_to_who_works_in_one_organisation_only(world, shared, db):
    share(db, shared["other"], world["org"].id)
    # HR of the person's organisation does not see the partner's cohorts.
    assert offered(world["actor"], world) == ["Gruppe B", "Gruppe C"]
    target = session_of(shared["partner"], "seminar-2")
    with pytest.raises(NotFound):
        make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)


def test_an_inactive_consultant_links_no_organisations(world, shared, db):
    share(db, shared["other"], world["org"].id)
    user = db.session.get(User, shared["consultant"].user.id)
    user.active = False
    db.session.commit()
    assert make_ups.sharing([world["org"].id]) == {world["org"].id: {world["org"].id}}


def _on_the_day(session) -> datetime:
    from datetime import time

    return datetime.combine(session.first_day, time(11, 0), tzinfo=UTC)


def test_the_host_records_a_guest_booked_from_a_sharing_organisation(world, shared, make, db):
    """The host's own guest search finds only its organisation's people; a
    booked guest is recorded all the same (the booking was checked)."""
    share(db, shared["other"], world["org"].id)
    target = session_of(shared["partner"], "seminar-2")
    booked = make_ups.book(shared["consultant"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    host = make.user(
        Role.ADMIN, [db.session.get(Organisation, shared["other"])], email="admin@partner.example"
    )
    recorded = attendance.record_make_up(
        Actor.of_user(host),
        shared["partner"],
        target.id,
        world["erika"],
        world["a"],
        now=_on_the_day(target),
    )
    db.session.commit()
    assert recorded.id == booked.id
    assert db.session.get(AttendanceRecord, booked.id).mark is Mark.PRESENT


def test_someone_neither_booked_nor_of_the_organisation_is_no_guest(world, shared, make, db):
    target = session_of(shared["partner"], "seminar-2")
    host = make.user(
        Role.ADMIN, [db.session.get(Organisation, shared["other"])], email="admin@partner.example"
    )
    with pytest.raises(DomainError) as refused:
        attendance.record_make_up(
            Actor.of_user(host),
            shared["partner"],
            target.id,
            world["erika"],
            world["a"],
            now=_on_the_day(target),
        )
    assert refused.value.code == "not_a_guest"


def test_the_overview_names_the_first_people_and_counts_the_rest(world, db):
    attendance.set_mark(
        session_of(world["a"], "seminar-2"),
        db.session.get(Participant, world["max"]),
        Mark.ABSENT,
        None,
    )
    db.session.commit()
    cut = at_risk.of_organisations(world["actor"], now=NOW, limit=1)
    assert [e.participant.id for e in cut.entries] == [world["erika"]]
    assert (cut.total, cut.cut) == (2, True)
    assert [(c.id, n) for c, n in cut.counted()] == [(world["a"], 2)]
    whole = at_risk.of_organisations(world["actor"], now=NOW, limit=None)
    assert (len(whole.entries), whole.cut) == (2, False)
    # The cohort's own page lists everyone.
    assert len(at_risk.of_cohort(world["actor"], world["a"], now=NOW).entries) == 2


def test_the_overview_leaves_out_cohorts_long_over_and_far_ahead(world, db):
    months_later = NOW + timedelta(days=200)  # Gruppe A's last session is in spring
    assert at_risk.of_organisations(world["actor"], now=months_later).entries == []
    long_before = NOW - timedelta(days=60)  # Gruppe A starts in March
    assert at_risk.of_organisations(world["actor"], now=long_before).entries == []


def test_a_make_up_in_a_sharing_organisation_is_told_by_the_persons_own(world, shared, db):
    """The invitation and its cancellation come from the person's own
    organisation (sender, organizer, signature, its delivery log); they name
    the host cohort as the place."""
    from app import notices

    own = db.session.get(Organisation, world["org"].id)
    own.mail_from = "kurse@nachhol.example"
    db.session.get(Organisation, shared["other"]).mail_from = "kurse@partner.example"
    share(db, shared["other"], world["org"].id)
    target = session_of(shared["partner"], "seminar-2")
    make_ups.book(shared["consultant"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    make_ups.cancel(shared["consultant"], world["erika"], target.id, now=NOW)
    db.session.commit()
    told = db.session.scalars(
        select(Notification)
        .where(Notification.participant_id == world["erika"])
        .order_by(Notification.id)
    ).all()
    assert [n.kind for n in told] == ["invitation", "cancellation"]
    for notification in told:
        assert notification.organisation_id == world["org"].id
        assert notification.cohort_id == shared["partner"]
        payload = notification.payload
        assert payload["organisation"] == "Nachhol AG"
        assert payload["cohort"] == "Partner April"
        assert payload["organizer"] == {
            "name": "Nachhol AG",
            "address": "kurse@nachhol.example",
        }
        assert payload["from"] == "Nachhol AG <kurse@nachhol.example>"
        message = notices.render(notification.kind, notification.payload, notification.language)
        text = message.get_body(("plain",)).get_content()
        assert "Partner April" in message["Subject"]
        assert "Nachhol AG" in text
        assert "Partner GmbH" not in text
    # The person's organisation's staff, who work only there, send a failed one again.
    from app.models.notifications import Delivery
    from app.services import delivery_log

    told[0].state = Delivery.FAILED
    db.session.commit()
    again = delivery_log.send_again(world["actor"], told[0].id)
    assert again.organisation_id == world["org"].id


def test_a_guest_of_another_organisation_hears_of_a_cancelled_host_session_from_their_own(
    world, shared, db
):
    """The host cohort's people hear from the host; the guest from their
    own organisation, which holds the message in its delivery log."""
    from app.services import announcements

    share(db, shared["other"], world["org"].id)
    target = session_of(shared["partner"], "seminar-2")
    make_ups.book(shared["consultant"], world["erika"], world["a"], target.id, now=NOW)
    host = db.session.get(Cohort, shared["partner"])
    db.session.add(
        Participant(
            organisation_id=shared["other"],
            first_name="Hanna",
            last_name="Host",
            email="hanna@partner.example",
        )
    )
    db.session.flush()
    hanna = db.session.scalar(select(Participant).where(Participant.first_name == "Hanna"))
    db.session.add(Enrolment(cohort_id=host.id, participant_id=hanna.id))
    db.session.commit()
    announcements.cancelled(host, [session_of(shared["partner"], "seminar-2")])
    db.session.commit()
    told = {
        n.participant_id: n
        for n in db.session.scalars(
            select(Notification).where(
                Notification.kind == "cancellation", Notification.cohort_id == host.id
            )
        )
    }
    assert told[world["erika"]].organisation_id == world["org"].id
    assert told[world["erika"]].payload["organisation"] == "Nachhol AG"
    assert told[world["erika"]].payload["cohort"] == "Partner April"
    assert told[hanna.id].organisation_id == shared["other"]
    assert told[hanna.id].payload["organisation"] == "Partner GmbH"


def test_withdrawing_from_the_own_cohort_ends_the_make_ups_booked_for_it(world, db):
    """A make-up counts for a cohort: withdrawn from it, the person holds no
    place in the host session any more, and hears that it is cancelled."""
    from app.services import enrolments

    target = session_of(world["b"], "seminar-2")
    make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.cohort_id == world["a"], Enrolment.participant_id == world["erika"]
        )
    )
    enrolments.withdraw_participant(world["actor"], world["a"], enrolment.id)
    db.session.commit()
    assert attendance.current_mark(target.id, world["erika"]) is None
    host = db.session.get(Cohort, world["b"])
    assert make_ups.taken(host, db.session.get(Session, target.id)) == 1  # Bea alone
    told = db.session.scalars(
        select(Notification.kind).where(
            Notification.participant_id == world["erika"],
            Notification.session_id == target.id,
        )
    ).all()
    assert told == ["invitation", "cancellation"]
