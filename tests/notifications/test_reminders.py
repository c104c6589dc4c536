"""Reminders before sessions: recorded by the periodic task at 08:00 in the
cohort's time zone that many days before, once however often the task runs,
never for what is cancelled or for people who turned them off, dropped when
the session moves, and delivered through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app import delivery, periodic, queue
from app.models import Delivery, Enrolment, EnrolmentStatus, Notification, Role
from app.services import reminders, sessions
from tests.smtp import mail_server

# The compact cohort starting Tue 29.10.2030 (two days after the clocks go
# back in Berlin): seminar day 1 then, 09:00–17:00, and seminar day 2 on Wed
# 30.10.2030. (Years ahead, so that the real clock never reaches them.)
START = date(2030, 10, 29)
# 7 days before: Tue 22.10.2030 08:00 summer time is 06:00 UTC; 1 day before:
# Mon 28.10.2030 08:00 winter time is 07:00 UTC.
SEVEN_BEFORE = datetime(2030, 10, 22, 6, 0, tzinfo=UTC)
ONE_BEFORE = datetime(2030, 10, 28, 7, 0, tzinfo=UTC)


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


@pytest.fixture
def cohort(make):
    org = make.organisation()
    trainer = make.user(Role.TRAINER, [org], email="tina@example.org", name="Tina Trainer")
    trainer.language = "en"
    cohort = make.cohort(
        org, start=START, trainers=[trainer], venue="Bildungszentrum Nord, Raum 2"
    )
    make.participant(
        org, cohort, first_name="Erika", last_name="Muster", email="erika@example.org"
    )
    return cohort


def reminders_sent(server) -> list:
    """What arrived of reminders (the move's own change notices aside)."""
    return [
        m
        for m in server.inbox.messages
        if str(m["Subject"]).startswith(("Erinnerung", "Reminder"))
    ]


def queued(db, **where) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.kind == "reminder")
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query.order_by(Notification.id)))


def run(db, now: datetime) -> int:
    """The periodic task's work at `now`, committed as the task commits it."""
    recorded = reminders.record_due(now)
    db.session.commit()
    return recorded


def test_reminders_are_due_at_eight_in_the_cohorts_zone_on_both_sides_of_the_clock_change(
    db, cohort
):
    first = cohort.sessions[0]
    assert run(db, SEVEN_BEFORE - timedelta(minutes=30)) == 0  # not yet in the window
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 2  # Erika and Tina
    week = queued(db, session_id=first.id)
    assert {n.due_at for n in week} == {SEVEN_BEFORE}
    assert {n.key for n in week} == {
        f"reminder:{first.id}:r0:7:p{cohort_participant(db, cohort)}",
        f"reminder:{first.id}:r0:7:u{first.trainers[0].id}",
    }
    assert run(db, ONE_BEFORE - timedelta(minutes=5)) == 2
    day = [n for n in queued(db, session_id=first.id) if n.due_at != SEVEN_BEFORE]
    assert {n.due_at for n in day} == {ONE_BEFORE}  # 08:00 in winter time, one hour later in UTC


def test_a_cohort_elsewhere_is_reminded_at_eight_where_it_is(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2030, 11, 5), timezone="America/New_York")
    make.participant(org, cohort)
    first = cohort.sessions[0]
    # Tue 29.10.2030 08:00 in New York is still summer time there (UTC-4).
    due = datetime(2030, 10, 29, 12, 0, tzinfo=UTC)
    assert [m.at for m in reminders.moments(first, org) if m.label == "7"] == [due]
    assert run(db, due - timedelta(minutes=1)) == 1
    assert [n.due_at for n in queued(db, session_id=first.id)] == [due]


def cohort_participant(db, cohort) -> int:
    return db.session.scalar(
        select(Enrolment.participant_id).where(Enrolment.cohort_id == cohort.id)
    )


def test_running_the_task_twice_or_in_overlapping_windows_records_each_reminder_once(db, cohort):
    assert run(db, SEVEN_BEFORE - timedelta(minutes=19)) == 2
    assert run(db, SEVEN_BEFORE - timedelta(minutes=19)) == 0
    assert run(db, SEVEN_BEFORE - timedelta(minutes=4)) == 0
    assert run(db, SEVEN_BEFORE + timedelta(minutes=11)) == 0
    assert len(queued(db)) == 2


def test_the_organisations_days_decide_and_a_past_moment_is_not_caught_up(db, cohort):
    org = cohort.organisation
    org.reminder_days = [3]
    db.session.commit()
    three = datetime(2030, 10, 26, 6, 0, tzinfo=UTC)  # Sat 26.10.2030 08:00 summer time
    assert run(db, SEVEN_BEFORE) == 0
    # A worker that was stopped: hours after the moment nothing is recorded any more.
    assert run(db, three + reminders.LATE + timedelta(minutes=1)) == 0
    assert run(db, three + timedelta(hours=2)) == 2  # still the same morning: late, not lost
    assert {n.due_at for n in queued(db)} == {three}


def test_an_unsent_reminder_whose_moment_is_long_past_is_dropped(db, cohort):
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    # The worker stopped before sending them, and comes back two days later.
    assert reminders.refresh_unsent(None, SEVEN_BEFORE + timedelta(days=2)) == 2
    db.session.commit()
    assert queued(db) == []


def test_nothing_for_cancelled_sessions_or_cohorts_or_people_who_turned_reminders_off(
    db, make, cohort
):
    first, second = cohort.sessions[0], cohort.sessions[1]
    sessions.cancel_session(first, actor=None, expected_version=first.lock_version)
    quiet = make.participant(cohort.organisation, cohort, reminders=False)
    db.session.commit()
    assert run(db, SEVEN_BEFORE - timedelta(minutes=10)) == 0  # only the cancelled one is due
    # Seminar day 2, Wed 30.10.2030: 7 days before is Wed 23.10.2030, 06:00 UTC.
    assert run(db, SEVEN_BEFORE + timedelta(days=1) - timedelta(minutes=10)) == 2
    assert all(n.session_id == second.id for n in queued(db))
    assert quiet.id not in {n.participant_id for n in queued(db)}
    cohort.cancel()
    db.session.commit()
    assert run(db, ONE_BEFORE + timedelta(days=1) - timedelta(minutes=10)) == 0
    assert queued(db, state=Delivery.QUEUED) == []  # the cancelled cohort's unsent ones went


def test_a_withdrawn_participant_gets_no_reminder_that_was_waiting(db, cohort, server):
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    delivery.sweep_now(SEVEN_BEFORE)
    assert [str(m["To"]) for m in server.inbox.messages] == ["Tina Trainer <tina@example.org>"]


def test_a_moved_session_never_gets_a_reminder_with_its_old_date(db, cohort, server):
    first = cohort.sessions[0]
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    assert len(queued(db, state=Delivery.QUEUED)) == 2
    # Moved a week later after its reminders were recorded, before they went out.
    sessions.move_session(
        first,
        date(2030, 11, 5),
        None,
        pin=True,
        actor=None,
        today=date(2030, 10, 22),
        expected_version=first.lock_version,
    )
    db.session.commit()
    assert first.revision == 1
    run(db, SEVEN_BEFORE - timedelta(minutes=5))  # the next run drops the old revision's
    assert queued(db) == []
    delivery.sweep_now(SEVEN_BEFORE)
    assert reminders_sent(server) == []
    # The new date is reminded of in its time: Tue 29.10.2030 08:00 winter time.
    new_moment = datetime(2030, 10, 29, 7, 0, tzinfo=UTC)
    assert run(db, new_moment - timedelta(minutes=10)) == 2
    assert {n.key.split(":")[2] for n in queued(db, session_id=first.id)} == {"r1"}
    delivery.sweep_now(new_moment)
    erika, tina = sorted(reminders_sent(server), key=lambda m: str(m["To"]))
    assert "Di. 05.11.2030" in erika["Subject"]
    assert "Tue 5 Nov 2030" in tina["Subject"]


def test_the_change_itself_drops_the_old_revision_in_its_own_transaction(db, cohort):
    first = cohort.sessions[0]
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    sessions.cancel_session(first, actor=None, expected_version=first.lock_version)
    reminders.refresh_unsent([first.id])  # what the change calls (app.services.announcements)
    assert (
        db.session.scalars(select(Notification.id).where(Notification.kind == "reminder")).all()
        == []
    )
    db.session.rollback()  # the change did not happen: nor did the drop
    assert len(queued(db, state=Delivery.QUEUED)) == 2
    sessions.cancel_session(first, actor=None, expected_version=first.lock_version)
    db.session.commit()
    assert queued(db) == []


def test_reminders_arrive_through_the_mail_server_in_each_persons_language(db, cohort, server):
    cohort.organisation.mail_from = "kurse@muster.example"
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    assert queue.run_pending() == 0  # due at their moment, not before
    assert delivery.sweep_now(SEVEN_BEFORE - timedelta(minutes=1)) == 0
    assert delivery.sweep_now(SEVEN_BEFORE) == 2
    assert delivery.sweep_now(SEVEN_BEFORE + timedelta(minutes=1)) == 0
    [erika] = server.inbox.to("erika@example.org")
    assert erika["From"] == "Muster AG <kurse@muster.example>"
    assert erika["Subject"] == (
        "Erinnerung: Seminartag 1: Rolle, Lernformate und Lerntheorie am Di. 29.10.2030"
    )
    text = erika.get_body(("plain",)).get_content()
    assert "Hallo Erika Muster," in text
    assert "In 7 Tagen: Seminartag 1: Rolle, Lernformate und Lerntheorie." in text
    assert "Wann: Di. 29.10.2030, 09:00–17:00" in text
    assert "Wo: Bildungszentrum Nord, Raum 2" in text
    assert "Gruppe: Gruppe 1" in text
    assert "persönlichen Seite abschalten" in text
    html = erika.get_body(("html",)).get_content()
    assert "Wann: Di. 29.10.2030, 09:00–17:00" in html
    [tina] = server.inbox.to("tina@example.org")
    assert tina["Subject"] == (
        "Reminder: Seminar day 1: role, learning formats and learning theory on Tue 29 Oct 2030"
    )
    tina_text = tina.get_body(("plain",)).get_content()
    assert "You are a trainer of this session." in tina_text
    assert "When: Tue 29 Oct 2030, 09:00–17:00" in tina_text
    assert all(n.state is Delivery.SENT for n in queued(db))


def test_an_online_session_names_its_link_and_html_is_escaped(db, make, server):
    org = make.organisation()
    cohort = make.cohort(
        org,
        start=START,
        name="Gruppe <script>",
        online_link="https://meet.example.org/abc?x=1&y=2",
        delivery=None,
    )
    first = cohort.sessions[0]
    first.mode = "online"
    make.participant(org, cohort, email="o@example.org")
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    delivery.sweep_now(SEVEN_BEFORE)
    [message] = server.inbox.messages
    text = message.get_body(("plain",)).get_content()
    assert "Online: https://meet.example.org/abc?x=1&y=2" in text
    assert "Gruppe: Gruppe <script>" in text
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "Gruppe &lt;script&gt;" in html
    assert '<a href="https://meet.example.org/abc?x=1&amp;y=2">' in html


def test_self_study_phases_are_reminded_of_when_they_start_and_two_days_before_they_end(
    db, make, server
):
    org = make.organisation()
    cohort = make.cohort(org, key="blended", start=START)
    make.participant(org, cohort, email="s@example.org", language="en")
    phase = next(s for s in cohort.sessions if s.mode == "self_paced")
    # Theory phase 1: Wed 30.10.2030 – Tue 12.11.2030; 08:00 there is 07:00 UTC.
    assert (phase.first_day, phase.last_day) == (date(2030, 10, 30), date(2030, 11, 12))
    starts, ends = (
        datetime(2030, 10, 30, 7, 0, tzinfo=UTC),
        datetime(2030, 11, 10, 7, 0, tzinfo=UTC),
    )
    assert [(m.label, m.at) for m in reminders.moments(phase, org)] == [
        ("start", starts),
        ("end", ends),
    ]
    assert run(db, starts - timedelta(minutes=10)) == 1
    delivery.sweep_now(starts)
    assert run(db, ends - timedelta(minutes=10)) == 1
    delivery.sweep_now(ends)
    subjects = sorted(str(m["Subject"]) for m in server.inbox.messages)
    assert subjects == [
        "Self-study phase begins: Theory phase 1: learning formats and learning theory (videos)",
        "Self-study phase ends on Tue 12 Nov 2030: Theory phase 1: learning formats and "
        "learning theory (videos)",
    ]
    org.study_reminders = False
    db.session.commit()
    assert reminders.moments(phase, org) == []


def _scheduled(moment: datetime) -> set[str]:
    """The periodic tasks the queue's scheduler starts at `moment` (it
    hands over naive UTC moments)."""
    return {task.name for task in queue.huey.read_periodic(moment.replace(tzinfo=None))}


def test_the_periodic_work_is_registered_with_the_queue_on_its_schedule(app):
    ours = {"periodic_reminders", "weekly_digest", "daily_retention"}
    assert ours <= {task.name for task in queue.huey._registry.periodic_tasks}
    # Reminders every 15 minutes.
    for minute in (0, 15, 30, 45):
        assert "periodic_reminders" in _scheduled(datetime(2030, 6, 5, 10, minute, tzinfo=UTC))
    assert "periodic_reminders" not in _scheduled(datetime(2030, 6, 5, 10, 7, tzinfo=UTC))
    # The digest on Mondays at 07:00 in Berlin: 05:00 UTC in summer, 06:00 UTC in winter.
    summer_monday, winter_monday = datetime(2030, 6, 3, 5, 0), datetime(2030, 12, 2, 6, 0)
    assert "weekly_digest" in _scheduled(summer_monday)
    assert "weekly_digest" in _scheduled(winter_monday)
    assert "weekly_digest" not in _scheduled(datetime(2030, 6, 3, 6, 0))
    assert "weekly_digest" not in _scheduled(datetime(2030, 6, 4, 5, 0))  # a Tuesday
    # The retention run daily at 03:15 in Berlin.
    assert "daily_retention" in _scheduled(datetime(2030, 6, 4, 1, 15))
    assert "daily_retention" in _scheduled(datetime(2030, 12, 4, 2, 15))
    assert "daily_retention" not in _scheduled(datetime(2030, 12, 4, 1, 15))


def test_the_periodic_task_records_and_commits_as_the_worker_runs_it(app, db, cohort, monkeypatch):
    monkeypatch.setattr(periodic, "utcnow", lambda: SEVEN_BEFORE - timedelta(minutes=10))
    periodic.periodic_reminders.call_local()
    assert len(queued(db, state=Delivery.QUEUED)) == 2


def test_new_reminder_days_drop_the_unsent_reminders_of_the_old_ones(db, cohort):
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    cohort.organisation.reminder_days = [1]
    db.session.commit()
    run(db, SEVEN_BEFORE - timedelta(minutes=5))
    assert queued(db) == []


def test_a_reminder_the_mail_server_asked_to_send_later_stays(db, cohort, server):
    run(db, SEVEN_BEFORE - timedelta(minutes=10))
    for notification in queued(db):  # recorded then, as the task would have
        notification.created_at = SEVEN_BEFORE - timedelta(minutes=10)
    db.session.commit()
    server.stop()
    delivery.sweep_now(SEVEN_BEFORE)  # nobody answers: both wait for their next try
    waiting = queued(db, state=Delivery.QUEUED)
    assert len(waiting) == 2
    assert all(n.due_at > SEVEN_BEFORE for n in waiting)
    server.start()
    run(db, SEVEN_BEFORE + timedelta(minutes=5))
    assert len(queued(db, state=Delivery.QUEUED)) == 2  # not taken for outdated
    delivery.sweep_now(SEVEN_BEFORE + timedelta(minutes=5))
    assert len(reminders_sent(server)) == 2


def test_reminders_the_worker_could_not_send_in_time_are_not_sent_later(db, cohort, server):
    cohort.organisation.reminder_days = [0]  # on the morning of the session, at 08:00
    db.session.commit()
    run(db, datetime(2030, 10, 29, 6, 50, tzinfo=UTC))
    # The worker was stopped until the session had begun (Tue 29.10.2030 09:00 in
    # Berlin), less than three hours after the reminder's moment.
    delivery.sweep_now(datetime(2030, 10, 29, 8, 30, tzinfo=UTC))
    assert reminders_sent(server) == []
    failed = queued(db)
    assert [n.state for n in failed] == [Delivery.FAILED, Delivery.FAILED]
    assert all(n.answer == delivery.TOO_LATE.template for n in failed)
