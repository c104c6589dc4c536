"""The delivery log for staff: per cohort and per person, in words and
German dates, filtered by state and in pages, only for staff of the
organisation; a failed message is sent again once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import queue
from app.extensions import db
from app.models import Delivery, Notification, Role
from app.services import notifications
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in


@dataclass(frozen=True)
class Person:
    """What a test needs of a participant, read before any request (a
    request ends the test's database session)."""

    id: int
    email: str
    name: str
    organisation_id: int


@dataclass(frozen=True)
class Group:
    id: int


def note(person: Person, number: int, *, cohort=None, state=Delivery.QUEUED, **fields):
    """One message to `person`, recorded as a producer would, then put into
    `state` as the worker leaves it."""
    recorded = notifications.record(
        kind=fields.pop("kind", "text"),
        key=f"log-test:{person.id}:{number}",
        address=person.email,
        name=person.name,
        organisation_id=person.organisation_id,
        cohort_id=cohort.id if cohort is not None else None,
        participant_id=person.id,
        payload={"subject": f"Nachricht {number}", "body": "Hallo"},
    )
    assert recorded is not None
    recorded.state = state
    for name, value in fields.items():
        setattr(recorded, name, value)
    db.session.flush()
    return Sent(recorded.id, recorded.key, dict(recorded.payload))


@dataclass(frozen=True)
class Sent:
    id: int
    key: str
    payload: dict


@pytest.fixture
def setting(make, db):
    queue.huey.flush()
    org = make.organisation("Eigene GmbH")
    other = make.organisation("Fremde AG")
    make.user(Role.CONSULTANT, [org], email="staff@example.org")
    make.user(Role.ADMIN, [other], email="outsider@example.org")
    cohort = make.cohort(org, name="Gruppe Nord")
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Brandt")
    db.session.commit()
    yield {
        "org": org.id,
        "cohort": Group(cohort.id),
        "anna": Person(anna.id, anna.email, anna.name, org.id),
        "ben": Person(ben.id, ben.email, ben.name, org.id),
    }
    queue.huey.flush()


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr id="notification-\d+".*?</tr>', page, re.S)


def test_the_cohort_log_says_when_to_whom_what_and_how_it_went(client, db, setting):
    anna, ben, cohort = setting["anna"], setting["ben"], setting["cohort"]
    sent_at = datetime(2027, 2, 16, 9, 30, tzinfo=UTC)
    note(anna, 1, cohort=cohort, state=Delivery.SENT, sent_at=sent_at, subject="Einladung: Tag 1")
    note(
        ben,
        2,
        cohort=cohort,
        state=Delivery.FAILED,
        attempts=1,
        answer="550 5.1.1 mailbox unavailable",
    )
    next_try = datetime.now(UTC) + timedelta(minutes=20)
    note(
        anna,
        3,
        cohort=cohort,
        attempts=2,
        due_at=next_try,
        answer="421 try again later",
        kind="text",
    )
    db.session.commit()
    log_in(client, "staff@example.org")

    page = client.get(f"/cohorts/{cohort.id}/notifications").get_data(as_text=True)
    shown = rows_of(page)
    assert len(shown) == 3
    newest, failed, sent = shown
    assert "Anna Albers" in sent
    assert anna.email in sent
    assert "Einladung: Tag 1" in sent
    assert ">gesendet<" in sent  # Berlin time
    assert "Di. 16.02.2027 10:30" in sent
    assert ">fehlgeschlagen<" in failed
    assert "550 5.1.1 mailbox unavailable" in failed
    assert "Erneut senden" in failed
    assert "Erneut senden" not in sent
    local = next_try.astimezone(ZoneInfo("Europe/Berlin"))
    assert ">in Warteschlange<" in newest
    assert "Nächster Versuch: " in newest
    assert local.strftime("%d.%m.%Y %H:%M") in newest
    assert "421 try again later" in newest
    assert "Alle (3)" in page
    assert "Fehlgeschlagen (1)" in page


def test_kinds_are_told_in_words(client, db, setting, monkeypatch):
    from app import notices

    anna, cohort = setting["anna"], setting["cohort"]
    words = {
        ("invitation", None): "Einladung",
        ("cancellation", None): "Absage",
        ("invitation", "moved"): "Änderung",
        ("cancellation", "feed_chosen"): "Kalenderwahl geändert",
        ("cancellation", "withdrawn"): "Austragung",
        ("text", "change"): "Änderung",
        ("reminder", None): "Erinnerung",
        ("digest", None): "Wochenübersicht",
        ("text", None): "Nachricht",
    }
    for kind, _ in words:  # the producers' renderers, registered elsewhere or not yet
        if kind not in notices.kinds():
            monkeypatch.setitem(notices._RENDERERS, kind, notices._RENDERERS["text"])
    for number, (kind, what) in enumerate(words):
        if kind == "text" and what:
            notifications.record(
                kind="text",
                key=f"text:change:{cohort.id}:abc:p{anna.id}",
                address=anna.email,
                organisation_id=anna.organisation_id,
                cohort_id=cohort.id,
                participant_id=anna.id,
                payload={"subject": f"Nachricht {number}", "body": "Verschoben"},
            )
        else:
            sent = note(anna, number, cohort=cohort, kind=kind)
            if what:
                row = db.session.get(Notification, sent.id)
                row.payload = {**row.payload, "change": {"what": what, "before": None}}
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get(f"/cohorts/{cohort.id}/notifications").get_data(as_text=True)
    for row, expected in zip(rows_of(page), reversed(list(words.values())), strict=True):
        assert f"{expected}: Nachricht" in row


def test_the_cohort_page_shows_the_newest_and_links_to_all(client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    for number in range(7):
        note(anna, number, cohort=cohort)
    note(anna, 99, cohort=cohort, state=Delivery.FAILED, answer="550 no such user")
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    section = page.split('id="deliveries-heading"')[1].split("</section>")[0]
    assert "Benachrichtigungen" in page.split('id="deliveries-heading"')[1][:40]
    assert len(rows_of(section)) == 5
    assert "Nachricht 99" in section  # the newest first
    assert f'href="/cohorts/{cohort.id}/notifications"' in section
    assert "Alle 8 Benachrichtigungen" in section
    assert "1 fehlgeschlagen" in section
    assert "Erneut senden" not in section  # that is on the log itself


def test_the_person_page_shows_their_messages_only(client, db, setting):
    anna, ben, cohort = setting["anna"], setting["ben"], setting["cohort"]
    note(anna, 1, cohort=cohort)
    note(ben, 2, cohort=cohort)
    note(anna, 3)  # not about a cohort: a personal link, say
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get(f"/participants/{anna.id}").get_data(as_text=True)
    assert "Nachricht 1" in page
    assert "Nachricht 3" in page
    assert "Nachricht 2" not in page
    assert f'href="/participants/{anna.id}/notifications"' in page
    log = client.get(f"/participants/{anna.id}/notifications").get_data(as_text=True)
    assert [re.search(r"Nachricht \d+", r).group(0) for r in rows_of(log)] == [
        "Nachricht 3",
        "Nachricht 1",
    ]
    assert "Benachrichtigungen an Anna Albers" in log


def test_filters_and_pages(client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    for number in range(60):
        note(anna, number, cohort=cohort, state=Delivery.SENT if number % 2 else Delivery.QUEUED)
    for number in range(100, 103):
        note(anna, number, cohort=cohort, state=Delivery.FAILED, answer="550 gone")
    db.session.commit()
    log_in(client, "staff@example.org")
    url = f"/cohorts/{cohort.id}/notifications"

    first = client.get(url).get_data(as_text=True)
    assert len(rows_of(first)) == 50
    assert 'rel="next"' in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert len(rows_of(second)) == 13
    assert 'rel="prev"' in second

    failed = client.get(f"{url}?state=failed").get_data(as_text=True)
    assert len(rows_of(failed)) == 3
    assert all(">fehlgeschlagen<" in row for row in rows_of(failed))
    waiting = client.get(f"{url}?state=waiting").get_data(as_text=True)
    assert len(rows_of(waiting)) == 30
    assert all(">in Warteschlange<" in row for row in rows_of(waiting))
    sent = client.get(f"{url}?state=sent&page=1").get_data(as_text=True)
    assert len(rows_of(sent)) == 30


@pytest.mark.parametrize(
    "query",
    ["state=bogus", "page=abc", "page=-3", "page=99999", "page=" + "9" * 40],
)
def test_odd_addresses_show_a_page_not_an_error(client, db, setting, query):
    anna, cohort = setting["anna"], setting["cohort"]
    note(anna, 1, cohort=cohort)
    db.session.commit()
    log_in(client, "staff@example.org")
    for url in (f"/cohorts/{cohort.id}/notifications", f"/participants/{anna.id}/notifications"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, url
        assert len(rows_of(response.get_data(as_text=True))) == 1


def test_staff_of_another_organisation_find_nothing(client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    failed = note(anna, 1, cohort=cohort, state=Delivery.FAILED, answer="550 gone")
    db.session.commit()
    log_in(client, "outsider@example.org")
    assert client.get(f"/cohorts/{cohort.id}/notifications").status_code == 404
    assert client.get(f"/participants/{anna.id}/notifications").status_code == 404
    token = csrf_token(client, "/dashboard")
    response = client.post(f"/notifications/{failed.id}/again", data={"csrf_token": token})
    assert response.status_code == 404
    assert count(db) == 1


def count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notification))


def send_again(client, notification, where: str, scope: str = "cohort"):
    token = csrf_token(client, where)
    return client.post(
        f"/notifications/{notification.id}/again",
        data={"csrf_token": token, "from": scope},
        headers={"Referer": f"http://localhost{where}"},
    )


def test_sending_a_failed_one_again_queues_exactly_one_copy(app, client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    failed = note(anna, 1, cohort=cohort, state=Delivery.FAILED, answer="550 mailbox full")
    db.session.commit()
    log_in(client, "staff@example.org")
    where = f"/cohorts/{cohort.id}/notifications"

    with mail_server(app) as server:
        response = send_again(client, failed, where)
        assert response.status_code == 302
        assert response.headers["Location"] == where
        db.session.expire_all()
        copies = db.session.scalars(select(Notification).where(Notification.id != failed.id)).all()
        assert len(copies) == 1
        [copy] = copies
        assert copy.key == f"{failed.key}:again:1"
        assert copy.address == anna.email
        assert copy.cohort_id == cohort.id
        assert copy.participant_id == anna.id
        assert copy.kind == "text"
        assert copy.state is Delivery.QUEUED or copy.state is Delivery.SENT
        queue.run_pending()
        assert [m["Subject"] for m in server.inbox.messages] == ["Nachricht 1"]
        assert server.inbox.messages[0]["To"] == f"Anna Albers <{anna.email}>"

        page = client.get(where).get_data(as_text=True)
        assert "ist erneut für" in page  # the confirmation
        old = next(r for r in rows_of(page) if f'notification-{failed.id}"' in r)
        assert "Erneut senden" not in old
        assert "Erneut gesendet" in old
        # A second click (an old page, a double click) sends nothing twice.
        again = send_again(client, failed, where)
        assert again.status_code == 303
        assert count(db) == 2
        assert "wurde bereits erneut gesendet" in client.get(where).get_data(as_text=True)
        queue.run_pending()
        assert len(server.inbox.messages) == 1
    db.session.expire_all()
    assert db.session.get(Notification, failed.id).state is Delivery.FAILED  # kept as it was


def test_a_copy_that_failed_too_can_be_sent_again(client, db, setting):
    anna = setting["anna"]
    failed = note(anna, 1, state=Delivery.FAILED, answer="550 gone")
    copy = notifications.record(
        kind="text",
        key=f"{failed.key}:again:1",
        address=anna.email,
        organisation_id=anna.organisation_id,
        participant_id=anna.id,
        payload=failed.payload,
    )
    copy.state, copy.answer = Delivery.FAILED, "550 still gone"
    db.session.commit()
    copy = Sent(copy.id, copy.key, {})
    queue.huey.flush()
    log_in(client, "staff@example.org")
    where = f"/participants/{anna.id}/notifications"
    page = client.get(where).get_data(as_text=True)
    assert sum("Erneut senden</button>" in row for row in rows_of(page)) == 1
    response = send_again(client, copy, where, "person")
    assert response.headers["Location"] == where
    db.session.expire_all()
    keys = set(db.session.scalars(select(Notification.key)))
    assert keys == {failed.key, copy.key, f"{copy.key}:again:1"}


def test_only_a_failed_message_is_sent_again(client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    sent = note(anna, 1, cohort=cohort, state=Delivery.SENT)
    waiting = note(anna, 2, cohort=cohort)
    db.session.commit()
    queue.huey.flush()
    log_in(client, "staff@example.org")
    where = f"/cohorts/{cohort.id}/notifications"
    for message in (sent, waiting):
        response = send_again(client, message, where)
        assert response.status_code == 303
        assert response.headers["Location"] == where
    page = client.get(where).get_data(as_text=True)
    assert "Nur eine fehlgeschlagene Nachricht kann erneut gesendet werden." in page
    assert count(db) == 2


def test_sending_again_needs_the_form_token(client, db, setting):
    anna = setting["anna"]
    failed = note(anna, 1, state=Delivery.FAILED, answer="550 gone")
    db.session.commit()
    log_in(client, "staff@example.org")
    assert client.post(f"/notifications/{failed.id}/again").status_code == 400
    assert count(db) == 1


def test_the_log_is_escaped(client, db, setting):
    anna, cohort = setting["anna"], setting["cohort"]
    note(
        anna,
        1,
        cohort=cohort,
        state=Delivery.FAILED,
        answer="550 <script>alert(1)</script>",
        subject="<b>fett</b>",
    )
    db.session.commit()
    log_in(client, "staff@example.org")
    page = client.get(f"/cohorts/{cohort.id}/notifications").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>fett</b>" not in page


def test_a_trainer_of_the_organisation_sees_the_log_of_its_cohorts(client, db, make, setting):
    # Staff see every cohort of their organisation (app.services.policy); the log follows.
    from app.models import Organisation

    org = db.session.get(Organisation, setting["org"])
    make.user(Role.TRAINER, [org], email="trainer@example.org")
    note(setting["anna"], 1, cohort=setting["cohort"])
    db.session.commit()
    log_in(client, "trainer@example.org")
    assert client.get(f"/cohorts/{setting['cohort'].id}/notifications").status_code == 200


def test_a_page_of_the_log_costs_two_statements(app, client, db, setting):
    from sqlalchemy import event

    anna, ben, cohort = setting["anna"], setting["ben"], setting["cohort"]
    for number in range(40):
        note(anna if number % 2 else ben, number, cohort=cohort, state=Delivery.FAILED)
    db.session.commit()
    log_in(client, "staff@example.org")
    url = f"/cohorts/{cohort.id}/notifications"
    client.get(url)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    about = [s for s in statements if "notifications" in s]
    assert len(about) == 2, about


# A staff member's messages (invitations to what they train, the weekly digest).


def staff_note(user_id: int, organisation_id: int, number: int, **fields) -> Sent:
    recorded = notifications.record(
        kind="text",
        key=f"log-test:u{user_id}:{number}",
        address=f"u{user_id}@example.org",
        organisation_id=organisation_id,
        user_id=user_id,
        payload={"subject": f"Wochenübersicht {number}", "body": "Hallo"},
    )
    for name, value in fields.items():
        setattr(recorded, name, value)
    db.session.flush()
    return Sent(recorded.id, recorded.key, dict(recorded.payload))


@pytest.fixture
def staff_setting(make):
    queue.huey.flush()
    ours, theirs = make.organisation("Eigene GmbH"), make.organisation("Fremde AG")
    make.user(Role.ADMIN, [ours], email="admin@example.org")
    make.user(Role.CONSULTANT, [ours], email="consultant@example.org")
    make.user(Role.ADMIN, [theirs], email="their-admin@example.org")
    # Tina worked for the other organisation before; its messages to her stay its own.
    both = make.user(Role.TRAINER, [ours], email="tina@example.org", name="Tina")
    db.session.commit()
    yield {"ours": ours.id, "theirs": theirs.id, "tina": both.id}
    queue.huey.flush()


def test_an_admin_sees_a_staff_members_messages_of_their_organisations(client, staff_setting):
    tina, ours, theirs = staff_setting["tina"], staff_setting["ours"], staff_setting["theirs"]
    staff_note(tina, ours, 1, state=Delivery.FAILED, answer="550 gone")
    staff_note(tina, theirs, 2)
    db.session.commit()
    log_in(client, "admin@example.org")
    assert 'href="/settings/users/' in client.get(f"/settings/users/{tina}").get_data(as_text=True)
    page = client.get(f"/settings/users/{tina}/notifications").get_data(as_text=True)
    assert "Benachrichtigungen an Tina" in page
    assert "Wochenübersicht 1" in page
    assert "Wochenübersicht 2" not in page  # another organisation's
    assert "Erneut senden</button>" in page


def test_a_staff_members_log_is_for_who_manages_accounts(client, staff_setting):
    tina, ours = staff_setting["tina"], staff_setting["ours"]
    failed = staff_note(tina, ours, 1, state=Delivery.FAILED, answer="550 gone")
    db.session.commit()
    log_in(client, "consultant@example.org")
    assert client.get(f"/settings/users/{tina}/notifications").status_code in (403, 404)
    token = csrf_token(client, "/dashboard")
    response = client.post(f"/notifications/{failed.id}/again", data={"csrf_token": token})
    assert response.status_code == 403
    assert count(db) == 1


def test_sending_a_staff_members_message_again_returns_to_their_log(client, staff_setting):
    tina, ours = staff_setting["tina"], staff_setting["ours"]
    failed = staff_note(tina, ours, 1, state=Delivery.FAILED, answer="550 gone")
    db.session.commit()
    log_in(client, "admin@example.org")
    where = f"/settings/users/{tina}/notifications"
    response = send_again(client, failed, where, "account")
    assert response.headers["Location"] == where
    assert count(db) == 2


def test_another_organisations_admin_finds_no_staff_log(client, staff_setting):
    tina, ours = staff_setting["tina"], staff_setting["ours"]
    staff_note(tina, ours, 1)
    db.session.commit()
    log_in(client, "their-admin@example.org")
    assert client.get(f"/settings/users/{tina}/notifications").status_code == 404
    assert client.get("/settings/users/999999/notifications").status_code == 404
