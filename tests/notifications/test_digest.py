"""The trainers' weekly digest: their sessions of the next two weeks and what
needs them (a session without a trainer, attendance not taken, a tandem that
lost someone), once a week, delivered through a real SMTP server as plain
text and escaped HTML."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app import queue
from app.models import Enrolment, EnrolmentStatus, Notification, Role
from app.services import attendance, digest
from cohorts.eligibility import Mark
from tests.smtp import mail_server

# Monday 03.06.2030, 07:00 in Berlin (summer time). Years ahead, so that the
# real clock never reaches the dates.
MONDAY = datetime(2030, 6, 3, 5, 0, tzinfo=UTC)


@pytest.fixture
def server(app, db):
    queue.huey.flush()
    with mail_server(app) as running:
        yield running
    queue.huey.flush()


@pytest.fixture
def world(make, db):
    org = make.organisation()
    tina = make.user(Role.TRAINER, [org], email="tina@example.org", name="Tina Trainer")
    tom = make.user(Role.TRAINER, [org], email="tom@example.org", name="Tom Ohne")
    tom.digest = False
    # Coming: seminar days Tue 04.06. and Wed 05.06.2030.
    coming = make.cohort(
        org, start=date(2030, 6, 4), trainers=[tina, tom], name="Gruppe <A>", venue="Haus Nord"
    )
    # Tina's cohort whose second seminar day has nobody to train it.
    unstaffed = make.cohort(org, start=date(2030, 6, 18), trainers=[tina], name="Gruppe B")
    unstaffed.sessions[1].trainers = []
    # Over: seminar days Mon 27.05. and Tue 28.05.2030.
    past = make.cohort(org, start=date(2030, 5, 27), trainers=[tina], name="Gruppe C")
    one = make.participant(past.organisation, past, first_name="Paul", last_name="Eins")
    make.participant(past.organisation, past, first_name="Paula", last_name="Zwei")
    three = make.participant(past.organisation, past, first_name="Pia", last_name="Drei")
    attendance.set_mark(past.sessions[0], one, Mark.PRESENT, None)
    attendance.set_mark(past.sessions[0], three, Mark.PRESENT, None)
    make.tandem(past, [db.session.get(type(one), one.id + 1), three])
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.participant_id == three.id))
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    return tina, tom, coming, unstaffed, past


def digests(db) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.kind == "digest")))


def test_a_trainer_gets_their_fortnight_and_what_needs_them(db, world, server):
    tina, *_ = world
    assert digest.record_week(MONDAY) == 1  # Tom turned it off
    db.session.commit()
    queue.run_pending()
    [message] = server.inbox.messages
    assert message["To"] == "Tina Trainer <tina@example.org>"
    assert message["Subject"] == "Ihre Wochenübersicht ab Mo. 03.06.2030"
    text = message.get_body(("plain",)).get_content()
    assert "Hallo Tina Trainer," in text
    assert "Ihre Termine vom Mo. 03.06.2030 bis So. 16.06.2030:" in text
    assert (
        "- Di. 04.06.2030, 09:00–17:00: Seminartag 1: Rolle, Lernformate und Lerntheorie "
        "– Gruppe <A>, Haus Nord"
    ) in text
    assert "- Mi. 05.06.2030, 09:00–17:00: Seminartag 2" in text
    assert "Gruppe B" not in text.split("Was auf Sie wartet:")[0]  # not theirs yet
    needs = text.split("Was auf Sie wartet:")[1]
    unstaffed = needs.split("Termine ohne Trainer:in:")[1].split("Anwesenheit")[0]
    assert (
        "- Mi. 19.06.2030, 09:00–17:00: Seminartag 2: Der Prozess der Lernbegleitung – Gruppe B"
        in unstaffed
    )
    assert "Seminartag 1" not in unstaffed
    taken = needs.split("Anwesenheit noch offen:")[1].split("Tandems")[0]
    # Day 1: Paula has no mark (Pia's counts no more, she was withdrawn); day 2: nobody's.
    assert "- Mo. 27.05.2030, 09:00–17:00: Seminartag 1" in taken
    assert "Gruppe C: offen bei 1 Person" in taken
    assert "Gruppe C: offen bei 2 Personen" in taken
    assert "Gruppe C: Pia Drei ausgetragen; im Tandem bleibt: Paula Zwei" in needs
    html = message.get_body(("html",)).get_content()
    assert "Gruppe <A>" not in html
    assert "Gruppe &lt;A&gt;" in html
    assert "<h2>Anwesenheit noch offen:</h2>" in html
    [recorded] = digests(db)
    assert recorded.key == f"digest:{tina.id}:2030-W23"
    assert recorded.user_id == tina.id


def test_the_digest_goes_once_a_week(db, world):
    assert digest.record_week(MONDAY) == 1
    db.session.commit()
    assert digest.record_week(MONDAY + timedelta(minutes=1)) == 0  # a second run, or worker
    db.session.commit()
    assert digest.record_week(MONDAY + timedelta(days=7)) == 1  # next week's
    db.session.commit()
    assert [n.key.rsplit(":", 1)[1] for n in digests(db)] == ["2030-W23", "2030-W24"]


def test_nobody_gets_an_empty_digest_and_an_english_one_is_in_english(db, make, server):
    org = make.organisation()
    idle = make.user(Role.TRAINER, [org], email="idle@example.org", name="Ida Idle")
    later = make.cohort(org, start=date(2030, 9, 3), trainers=[idle])
    assert later.sessions
    assert digest.record_week(MONDAY) == 0  # sessions only months away, nothing open
    busy = make.user(Role.TRAINER, [org], email="ben@example.org", name="Ben Busy")
    busy.language = "en"
    make.cohort(org, start=date(2030, 6, 11), trainers=[busy], name="Group D")
    assert digest.record_week(MONDAY) == 1
    db.session.commit()
    queue.run_pending()
    [message] = server.inbox.messages
    assert message["Subject"] == "Your weekly overview from Mon 3 Jun 2030"
    text = message.get_body(("plain",)).get_content()
    assert "Your sessions from Mon 3 Jun 2030 to Sun 16 Jun 2030:" in text
    assert "Tue 11 Jun 2030, 09:00–17:00: Seminar day 1" in text
    assert "Nothing needs you this week." in text


def test_an_inactive_trainer_gets_no_digest(db, world):
    tina, *_ = world
    tina.active = False
    db.session.commit()
    assert digest.record_week(MONDAY) == 0
