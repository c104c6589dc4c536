"""The outbox and its delivery through a real SMTP server: recorded with the
change or not at all, sent once, retried while the server is away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app import delivery, queue
from app.models import Delivery, Notification
from app.schema import utcnow
from app.services import notifications
from tests.smtp import mail_server


@pytest.fixture
def server(app, db):
    queue.huey.flush()
    with mail_server(app) as running:
        yield running
    queue.huey.flush()


def note(org, number: int, **extra) -> Notification | None:
    return notifications.record(
        kind="text",
        key=f"test:{number}",
        address=f"person{number}@example.org",
        name=f"Person {number}",
        organisation_id=org.id,
        payload={"subject": f"Nachricht {number}", "body": "Grüße aus Qualiplan"},
        **extra,
    )


def rows(db, state: Delivery | None = None) -> int:
    query = select(func.count()).select_from(Notification)
    if state is not None:
        query = query.where(Notification.state == state)
    return db.session.scalar(query)


def test_a_committed_change_is_delivered_after_its_commit(db, make, server):
    org = make.organisation()
    note(org, 1)
    assert server.inbox.messages == []  # nothing leaves inside the transaction
    db.session.commit()
    assert queue.run_pending() == 1
    [message] = server.inbox.messages
    assert message["Subject"] == "Nachricht 1"
    assert message["To"] == "Person 1 <person1@example.org>"
    assert "Grüße aus Qualiplan" in message.get_content()
    assert rows(db, Delivery.SENT) == 1


def test_a_rolled_back_change_queues_nothing(db, make, server):
    org = make.organisation()
    note(org, 1)
    db.session.flush()
    db.session.rollback()
    assert rows(db) == 0
    assert queue.run_pending() == 0
    note(org, 2)  # the next transaction starts clean
    db.session.commit()
    assert queue.run_pending() == 1
    assert [m["Subject"] for m in server.inbox.messages] == ["Nachricht 2"]


def test_the_same_key_is_recorded_once(db, make, server):
    org = make.organisation()
    assert note(org, 1) is not None
    assert note(org, 1) is None
    db.session.commit()
    assert note(org, 1) is None
    db.session.commit()
    queue.run_pending()
    assert len(server.inbox.messages) == 1


def test_a_second_worker_finds_nothing_to_send(db, make, server):
    org = make.organisation()
    for number in range(3):
        note(org, number)
    db.session.commit()
    ids = list(db.session.scalars(select(Notification.id)))
    first = delivery.deliver_now(ids, utcnow())
    second = delivery.deliver_now(ids, utcnow())
    assert (first.claimed, first.sent, second.claimed) == (3, 3, 0)
    assert len(server.inbox.messages) == 3


def test_a_server_stopped_in_the_middle_of_a_batch_gets_every_message_once(db, make, server):
    org = make.organisation()
    for number in range(20):
        note(org, number)
    db.session.commit()
    ids = sorted(db.session.scalars(select(Notification.id)))
    delivery.deliver_now(ids[:6], utcnow())
    server.stop()
    queue.huey.flush()  # the queue's own message for them: handled by the sweep
    tried = delivery.sweep_now(utcnow())
    assert tried == 14
    assert rows(db, Delivery.QUEUED) == 14
    waiting = db.session.scalars(select(Notification).where(Notification.state == Delivery.QUEUED))
    assert all(n.answer and n.due_at > utcnow() for n in waiting)
    server.start()
    assert delivery.sweep_now(utcnow()) == 0  # not yet: they wait for their next try
    delivery.sweep_now(utcnow() + timedelta(minutes=5))
    assert rows(db, Delivery.SENT) == 20
    assert len(server.inbox.messages) == 20
    assert len(set(server.inbox.ids())) == 20


def test_a_server_shutting_down_inside_one_batch_gets_every_message_once(db, make, server):
    org = make.organisation()
    server.inbox.shut_down_after = 7
    for number in range(20):
        note(org, number)
    db.session.commit()
    queue.run_pending()  # one batch, one connection: the server goes away at the 8th
    assert server.stopped.wait(10)
    assert len(server.inbox.messages) == 7
    assert rows(db, Delivery.SENT) == 7
    assert rows(db, Delivery.QUEUED) == 13
    delivery.sweep_now(utcnow() + timedelta(minutes=5))  # still down: they wait again
    assert rows(db, Delivery.QUEUED) == 13
    server.start()
    delivery.sweep_now(utcnow() + timedelta(hours=2))
    assert rows(db, Delivery.SENT) == 20
    assert sorted(server.inbox.ids()) == sorted(set(server.inbox.ids()))
    assert len(server.inbox.messages) == 20


def test_try_later_answers_wait_and_refusals_fail_with_the_answer(db, make, server):
    org = make.organisation()
    server.inbox.refused.add("person1@example.org")
    server.inbox.busy_after = 1
    for number in range(4):
        note(org, number)
    db.session.commit()
    queue.run_pending()
    states = dict(db.session.execute(select(Notification.address, Notification.state)).all())
    assert states["person0@example.org"] is Delivery.SENT
    assert states["person1@example.org"] is Delivery.FAILED
    assert states["person2@example.org"] is Delivery.QUEUED
    failed = db.session.scalar(select(Notification).where(Notification.state == Delivery.FAILED))
    assert failed.answer.startswith("550")
    waiting = db.session.scalar(
        select(Notification).where(Notification.address == "person2@example.org")
    )
    assert waiting.answer.startswith("451")
    server.inbox.busy_after = None
    delivery.sweep_now(utcnow() + timedelta(minutes=5))
    assert sorted(str(m["To"]) for m in server.inbox.messages) == [
        "Person 0 <person0@example.org>",
        "Person 2 <person2@example.org>",
        "Person 3 <person3@example.org>",
    ]


def test_a_claim_whose_worker_died_is_not_sent_again(db, make, server):
    org = make.organisation()
    sent = note(org, 1)
    db.session.commit()
    sent.state = Delivery.SENDING
    sent.claimed_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    delivery.sweep_now(utcnow())
    db.session.refresh(sent)
    assert sent.state is Delivery.FAILED
    assert sent.answer == delivery.ABANDONED.template
    assert server.inbox.messages == []


def test_without_a_mail_server_messages_fail_with_a_reason(app, db, make):
    org = make.organisation()
    note(org, 1)
    db.session.commit()
    saved = app.config["MAIL_SERVER"]
    app.config["MAIL_SERVER"] = ""
    try:
        queue.run_pending()
    finally:
        app.config["MAIL_SERVER"] = saved
    failed = db.session.scalar(select(Notification))
    assert failed.state is Delivery.FAILED
    assert failed.answer == delivery.NOT_SET_UP.template


def test_many_are_recorded_with_one_look_up_and_each_key_once(db, make, server):
    org = make.organisation()
    note(org, 1)
    db.session.commit()
    items = [
        {
            "kind": "text",
            "key": f"test:{number % 4}",
            "address": f"person{number}@example.org",
            "organisation_id": org.id,
            "payload": {"subject": f"Nachricht {number}", "body": "Hallo"},
        }
        for number in range(8)
    ]
    statements = []
    engine = db.session.get_bind()

    def count(*_):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        recorded = notifications.record_many(items)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert sorted(n.key for n in recorded) == ["test:0", "test:2", "test:3"]
    db.session.commit()
    queue.run_pending()
    assert sorted(m["Subject"] for m in server.inbox.messages) == [
        "Nachricht 0",
        "Nachricht 1",  # the one recorded first, under key test:1
        "Nachricht 2",
        "Nachricht 3",
    ]


def test_a_message_past_its_moment_is_not_sent(db, make, server):
    org = make.organisation()
    notifications.record(
        kind="text",
        key="late",
        address="late@example.org",
        organisation_id=org.id,
        payload={
            "subject": "Morgen",
            "body": "Erinnerung",
            "expires_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        },
    )
    db.session.commit()
    queue.run_pending()
    late = db.session.scalar(select(Notification))
    assert (late.state, late.answer) == (Delivery.FAILED, delivery.TOO_LATE.template)
    assert server.inbox.messages == []


def test_a_text_message_may_carry_a_calendar_file(db, make, server):
    org = make.organisation()
    notifications.record(
        kind="text",
        key="with-file",
        address="file@example.org",
        organisation_id=org.id,
        payload={
            "subject": "Ihre Termine",
            "body": "Im Anhang.",
            "attachment": {
                "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                "filename": "termine.ics",
                "subtype": "calendar",
                "params": {"method": "PUBLISH"},
            },
        },
    )
    db.session.commit()
    queue.run_pending()
    [message] = server.inbox.messages
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_filename() == "termine.ics"
    assert part.get_param("method") == "PUBLISH"


def test_a_savepoint_rolled_back_in_the_same_transaction_keeps_the_rest_announced(
    db, make, server
):
    org = make.organisation()
    note(org, 1)
    with db.session.begin_nested() as preview:  # a preview tries something, then undoes it
        note(org, 2)
        preview.rollback()
    db.session.commit()
    assert queue.run_pending() == 1
    assert [m["Subject"] for m in server.inbox.messages] == ["Nachricht 1"]


def test_a_one_time_link_leaves_the_outbox_once_sent(db, make, server):
    org = make.organisation()
    notifications.record(
        kind="text",
        key="test:link",
        address="person@example.org",
        organisation_id=org.id,
        payload={"subject": "Ihr Platz", "body": "Hier: {link}", "link": "https://x/o/SECRET"},
    )
    note(org, 2, due_at=utcnow() + timedelta(hours=1))  # waits, keeps its payload
    db.session.commit()
    assert queue.run_pending() == 1
    db.session.expire_all()
    sent = db.session.scalar(select(Notification).where(Notification.key == "test:link"))
    assert sent.state is Delivery.SENT
    assert sent.payload == {"subject": "Ihr Platz", "body": "Hier: {link}", "link": ""}
    [message] = server.inbox.messages
    assert message.get_content().strip() == "Hier: https://x/o/SECRET"
    waiting = db.session.scalar(select(Notification).where(Notification.key == "test:2"))
    assert waiting.payload["subject"] == "Nachricht 2"
