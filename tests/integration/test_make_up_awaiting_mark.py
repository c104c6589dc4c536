"""A make-up whose session has begun while the host's trainer has not recorded
the guest's mark yet: it stays booked, waiting for the mark. It saves
nothing yet, no other make-up of the element is offered or booked, and the
reasons say so ("make-up on …: attendance not recorded yet"). Present makes
the element made up; absent puts the person at risk again with offers.
Through the services every door calls, and on the pages (German)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.i18n import Translator
from app.models import (
    AttendanceRecord,
    Cohort,
    CohortState,
    Enrolment,
    Notification,
    Participant,
    Role,
)
from app.services import at_risk, attendance, make_ups
from app.services.errors import DomainError
from app.services.policy import Actor
from cohorts.eligibility import Mark
from tests.integration.test_make_ups import NOW, session_of, world  # noqa: F401 -- fixture
from tests.web.helpers import csrf_token, log_in

# Gruppe B's seminar day 2, where Erika makes it up, is on 4 May 2027.
ON_THE_DAY = datetime(2027, 5, 4, 10, 0, tzinfo=UTC)
DAY_AFTER = datetime(2027, 5, 5, 9, 0, tzinfo=UTC)
WAITING = "make-up on 2027-05-04 in Gruppe B: attendance not recorded yet"


def booked(world, db):  # noqa: F811
    target = session_of(world["b"], "seminar-2")
    record = make_ups.book(world["actor"], world["erika"], world["a"], target.id, now=NOW)
    db.session.commit()
    return target.id, record.id


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value


def test_a_booking_whose_session_has_begun_is_returned_waiting_for_its_mark(world, db):  # noqa: F811
    session_id, record_id = booked(world, db)
    [before] = make_ups.bookings_for([world["a"]], NOW)
    assert (before.record_id, before.awaiting_mark) == (record_id, False)
    for moment in (ON_THE_DAY, DAY_AFTER):
        [waiting] = make_ups.bookings_for([world["a"]], moment)
        assert (waiting.record_id, waiting.session_id, waiting.awaiting_mark) == (
            record_id,
            session_id,
            True,
        )
        booked_of = make_ups.booked_of(world["a"], moment)
        assert booked_of[(world["erika"], "seminar-2")].awaiting_mark


def test_the_at_risk_list_names_it_and_offers_nothing_else_for_it(world, db):  # noqa: F811
    booked(world, db)
    entry = at_risk.of_cohort(world["actor"], world["a"], now=DAY_AFTER).entries[0]
    assert entry.participant.id == world["erika"]
    assert not entry.saved
    assert entry.risk.awaiting == ("seminar-2",)
    assert [str(r) for r in entry.reasons] == [
        "Seminar day 2: the companion process: absent on 2027-03-02; "
        f"no later session of it in the cohort ({WAITING})"
    ]
    (missed,) = entry.missed
    assert missed.booking is not None
    assert missed.booking.awaiting_mark
    assert missed.offers == []
    # The person's own list says the same.
    mine = at_risk.of_participant(world["actor"], world["erika"], now=DAY_AFTER).entries
    assert [str(r) for r in mine[0].reasons] == [str(r) for r in entry.reasons]


def test_no_second_make_up_is_booked_while_one_waits_for_its_mark(world, db):  # noqa: F811
    booked(world, db)
    c2 = session_of(world["c"], "seminar-2")
    refused = refusal(
        lambda: make_ups.book(world["actor"], world["erika"], world["a"], c2.id, now=DAY_AFTER)
    )
    assert refused.code == "already_booked"
    assert "waits for its attendance to be recorded there" in str(refused.message)
    db.session.rollback()
    count = db.session.scalar(
        select(db.func.count(AttendanceRecord.id)).where(
            AttendanceRecord.participant_id == world["erika"]
        )
    )
    assert count == 3  # two marks in Gruppe A and the booking


def test_present_there_makes_it_up_and_absent_puts_the_person_at_risk_again(world, db):  # noqa: F811
    session_id, record_id = booked(world, db)
    record = db.session.get(AttendanceRecord, record_id)
    record.mark = Mark.ABSENT
    db.session.commit()
    assert make_ups.bookings_for([world["a"]], DAY_AFTER) == []
    entry = at_risk.of_cohort(world["actor"], world["a"], now=DAY_AFTER).entries[0]
    assert entry.risk.awaiting == ()
    assert entry.missed[0].booking is None
    assert [o.cohort_name for o in entry.missed[0].offers] == ["Gruppe C"]
    # Recorded present after all: made up, no longer at risk.
    record = db.session.get(AttendanceRecord, record_id)
    record.mark = Mark.PRESENT
    db.session.commit()
    assert at_risk.of_cohort(world["actor"], world["a"], now=DAY_AFTER).entries == []


def test_a_make_up_waiting_for_its_mark_can_be_cancelled_without_a_message(world, db):  # noqa: F811
    session_id, record_id = booked(world, db)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    booking = make_ups.cancel(world["actor"], world["erika"], session_id, now=DAY_AFTER)
    db.session.commit()
    assert (booking.record_id, booking.awaiting_mark) == (record_id, True)
    assert db.session.get(AttendanceRecord, record_id) is None
    # The session is over: nothing is taken back from the person's calendar.
    assert db.session.scalars(select(Notification)).all() == []
    entry = at_risk.of_cohort(world["actor"], world["a"], now=DAY_AFTER).entries[0]
    assert [o.cohort_name for o in entry.missed[0].offers] == ["Gruppe C"]


def test_cancelled_on_the_day_the_person_is_told(world, db):  # noqa: F811
    session_id, _ = booked(world, db)
    make_ups.cancel(world["actor"], world["erika"], session_id, now=ON_THE_DAY)
    db.session.commit()
    kinds = db.session.scalars(
        select(Notification.kind)
        .where(Notification.participant_id == world["erika"])
        .order_by(Notification.id)
    ).all()
    assert kinds == ["invitation", "cancellation"]


def test_a_recorded_make_up_or_a_completed_host_cannot_be_cancelled(world, db):  # noqa: F811
    session_id, record_id = booked(world, db)
    host = db.session.get(Cohort, world["b"])
    host.state = CohortState.COMPLETED
    db.session.commit()
    # Still waiting for its mark (an admin may reopen the host cohort) ...
    [waiting] = make_ups.bookings_for([world["a"]], DAY_AFTER)
    assert waiting.awaiting_mark
    # ... but the completed cohort's attendance does not change.
    refused = refusal(
        lambda: make_ups.cancel(world["actor"], world["erika"], session_id, now=DAY_AFTER)
    )
    assert refused.code == "cohort_completed"
    db.session.rollback()
    assert db.session.get(AttendanceRecord, record_id) is not None
    host = db.session.get(Cohort, world["b"])
    host.state = CohortState.RUNNING
    db.session.get(AttendanceRecord, record_id).mark = Mark.PRESENT
    db.session.commit()
    refused = refusal(
        lambda: make_ups.cancel(world["actor"], world["erika"], session_id, now=DAY_AFTER)
    )
    assert refused.code == "not_a_booking"


def test_a_cancelled_host_cohort_holds_no_booking(world, db):  # noqa: F811
    booked(world, db)
    db.session.get(Cohort, world["b"]).state = CohortState.CANCELLED
    db.session.commit()
    assert make_ups.bookings_for([world["a"]], DAY_AFTER) == []


# --- On the pages, as time really passes ------------------------------------------

TODAY = datetime.now(UTC).date()


@pytest.fixture
def past(make, db):
    """Gruppe A began three months ago, Erika was absent on seminar day 2
    and booked a make-up in Gruppe B's seminar day 2 a month ago, which
    nobody has recorded yet."""
    org = make.organisation("Nachhol AG")
    make.user(Role.HR, [org], email="hr@nachhol.example")
    own = make.cohort(org, start=TODAY - timedelta(days=90), name="Gruppe A")
    host = make.cohort(org, start=TODAY - timedelta(days=30), name="Gruppe B")
    make.cohort(org, start=TODAY + timedelta(days=30), name="Gruppe C")
    erika = make.participant(org, own, first_name="Erika", last_name="Muster")
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.participant_id == erika.id))
    enrolment.enrolled_at = datetime.now(UTC) - timedelta(days=100)
    for session in own.sessions:
        mark = Mark.ABSENT if session.element.key == "seminar-2" else Mark.PRESENT
        attendance.set_mark(session, erika, mark, None)
    target = session_of(host.id, "seminar-2")
    before = datetime.combine(target.first_day - timedelta(days=3), time(9), tzinfo=UTC)
    make_ups.book(
        Actor.of_user(make.user(Role.ADMIN, [org])), erika.id, own.id, target.id, now=before
    )
    db.session.commit()
    return {"a": own.id, "b": host.id, "erika": erika.id, "day": target.first_day}


def test_the_pages_say_the_make_up_waits_for_its_mark(client, db, past):
    log_in(client, "hr@nachhol.example")
    day = Translator("de").date(past["day"])  # with the weekday: Di. 03.11.2026
    waiting = f"(Nachholtermin am {day} in Gruppe B: Anwesenheit noch nicht erfasst)"
    person = client.get(f"/participants/{past['erika']}?lang=de").get_data(as_text=True)
    section = person.split('id="make-ups"', 1)[1].split("</section>", 1)[0]
    assert waiting in section
    assert "durch gebuchte Nachholtermine gerettet" not in section
    assert "Gruppe C" not in section  # no offer while it waits
    cohort = client.get(f"/cohorts/{past['a']}?lang=de").get_data(as_text=True)
    assert waiting in cohort.split('id="at-risk"', 1)[1].split("</section>", 1)[0]
    # The certificate page's eligibility reasons say the same.
    certificates = client.get(f"/cohorts/{past['a']}/certificates?lang=de")
    assert waiting in certificates.get_data(as_text=True)


def test_cancelled_on_the_page_the_offers_come_back(client, db, past):
    log_in(client, "hr@nachhol.example")
    page = f"/participants/{past['erika']}?lang=de"
    session_id = session_of(past["b"], "seminar-2").id
    answer = client.post(
        f"/participants/{past['erika']}/make-ups/{session_id}/cancel",
        data={"csrf_token": csrf_token(client, page), "back": "person"},
    )
    assert answer.status_code == 302
    text = client.get(page).get_data(as_text=True)
    assert "Anwesenheit noch nicht erfasst" not in text
    assert "Gruppe C" in text.split('id="make-ups"', 1)[1].split("</section>", 1)[0]
    assert db.session.get(Participant, past["erika"]) is not None


def test_the_persons_feed_keeps_the_make_up_on_its_own_past_day(db, past):
    import icalendar

    from app.services.calendars import participant_feed, render

    person = db.session.get(Participant, past["erika"])
    target = session_of(past["b"], "seminar-2")
    tr = Translator("de")
    now = datetime.now(UTC)
    feed = participant_feed(person, tr, now, timedelta(days=30))
    parsed = icalendar.Calendar.from_ical(render(feed, tr, refresh=False).content)
    [event] = [e for e in parsed.walk("VEVENT") if str(e["UID"]) == target.uid]
    start = event["DTSTART"].dt
    assert (start.date() if isinstance(start, datetime) else start) == past["day"]
    assert past["day"] < now.date()


def test_on_the_day_itself_a_begun_make_up_waits_for_its_mark_too(world, db):  # noqa: F811
    # The session began this morning: the booking is waiting for its mark
    # although its day is today, in the at-risk list as in the reasons.
    booked(world, db)
    entry = at_risk.of_cohort(world["actor"], world["a"], now=ON_THE_DAY).entries[0]
    assert not entry.saved
    assert entry.risk.awaiting == ("seminar-2",)
    assert WAITING in str(entry.reasons[0])
