"""Someone who makes a session up in another cohort is invited to it as a
make-up, told when it moves like everyone in it, and told when the booking
is cancelled."""

from __future__ import annotations

from datetime import date

import icalendar
from sqlalchemy import select

from app import notices
from app.models import AttendanceRecord, Notification, Organisation, Participant, Session
from app.services import announcements
from cohorts.eligibility import Mark
from tests.notifications.test_announcements import _empty_queue, move, recorded, setup  # noqa: F401
from tests.web.helpers import log_in


def guest_in(make, db, world, key="video-2"):
    """Gina, of an earlier cohort of the curriculum, booked into the host's session."""
    org = db.session.get(Organisation, world.org)
    own = make.cohort(org, key="blended", start=date(2026, 9, 7), name="Frühjahr")
    gina = make.participant(
        org, own, first_name="Gina", last_name="Gast", email="gina@example.org"
    )
    session = db.session.get(Session, world.sessions[key])
    db.session.add(
        AttendanceRecord(
            session_id=session.id,
            participant_id=gina.id,
            for_cohort_id=own.id,
            mark=Mark.NOT_RECORDED,
        )
    )
    db.session.commit()
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    return gina.id, session.id


def test_a_guest_is_told_when_the_session_they_make_up_moves(client, make, db):
    world = setup(make, db)
    gina, session = guest_in(make, db, world)
    log_in(client, world.planner)
    assert move(client, db, world).status_code == 302
    told = [n for n in recorded(db) if n.participant_id == gina]
    assert [(n.kind, n.session_id, n.payload["change"]["what"]) for n in told] == [
        ("invitation", session, "moved")
    ]


def test_a_make_up_is_invited_as_one_and_its_cancellation_says_so(make, db):
    world = setup(make, db)
    gina_id, session_id = guest_in(make, db, world)
    gina, session = db.session.get(Participant, gina_id), db.session.get(Session, session_id)
    announcements.make_up_booked(session, gina, ":make-up:1:a")
    db.session.commit()
    [invited] = recorded(db)
    assert (invited.kind, invited.participant_id) == ("invitation", gina_id)
    message = notices.render(invited.kind, invited.payload, invited.language)
    assert message["Subject"].startswith("Nachholtermin: ")
    assert message["Subject"].endswith(" – Herbst")
    text = message.get_body(("plain",)).get_content()
    assert "in der Gruppe „Herbst“ nach; der Termin zählt für Ihre eigene Gruppe" in text

    announcements.make_up_cancelled(session, gina, ":make-up:1:a")
    db.session.commit()
    cancelled = db.session.scalar(select(Notification).where(Notification.kind == "cancellation"))
    message = notices.render(cancelled.kind, cancelled.payload, cancelled.language)
    assert message["Subject"].startswith("Nachholtermin abgesagt: ")
    [calendar] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    parsed = icalendar.Calendar.from_ical(calendar.get_payload(decode=True))
    assert parsed["METHOD"] == "CANCEL"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == db.session.get(Session, session_id).uid
