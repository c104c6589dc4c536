"""People choose how their dates reach them: a participant on their
personal page (invitations, the feed or both; reminders; the language of
their messages), a staff member on "My notifications" (the same calendar
choice and the weekly digest). Anything not offered is refused with a
message and changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.extensions import db
from app.models import Participant, Purpose, Role, User
from app.services import tokens
from tests.web.helpers import csrf_token, log_in, post_form


@pytest.fixture
def person(make):
    org = make.organisation("Eigene GmbH")
    cohort = make.cohort(org, name="Gruppe Nord", start=date(2027, 3, 1))
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Brandt")
    anna_token = tokens.issue(Purpose.PERSONAL_PAGE, anna.id, org.id, None)
    ben_token = tokens.issue(Purpose.PERSONAL_PAGE, ben.id, org.id, None)
    db.session.commit()
    return {"anna": anna.id, "ben": ben.id, "token": anna_token, "ben_token": ben_token}


NOTHING_SAVED = "Es wurde nichts gespeichert."


def stored(participant_id: int) -> tuple[str, bool, str]:
    db.session.expire_all()
    found = db.session.get(Participant, participant_id)
    return found.calendar_choice, found.reminders, found.language


def choose(client, token: str, **data):
    return post_form(client, f"/p/{token}/choices", data, form_url=f"/p/{token}")


def test_the_personal_page_offers_the_choices_with_what_each_means(client, person):
    page = client.get(f"/p/{person['token']}").get_data(as_text=True)
    section = page.split('id="choices-title"')[1].split("</section>")[0]
    assert "Ihre Benachrichtigungen" in section
    for label in ("Einladungen per E-Mail", "Kalender-Abo", "Beides"):
        assert label in section
    assert "Jeder Termin kommt als Einladung per E-Mail" in section
    assert "Einladungen bekommen Sie keine" in section
    assert "doppelt" in section
    assert "Änderungen und Absagen Ihrer Termine bekommen Sie immer" in section
    assert re.search(r'value="invitations" checked', section)  # the default
    assert re.search(r'name="reminders" value="1" checked', section)
    assert re.search(r'<option value="de" lang="de" selected>Deutsch</option>', section)
    assert 'name="csrf_token"' in section


def test_a_participant_chooses_the_feed_no_reminders_and_english(client, person):
    response = choose(client, person["token"], calendar="feed", language="en")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/p/{person['token']}")
    assert stored(person["anna"]) == ("feed", False, "en")
    assert stored(person["ben"]) == ("invitations", True, "de")  # only hers
    page = client.get(f"/p/{person['token']}").get_data(as_text=True)
    assert "Ihre Auswahl ist gespeichert." in page
    assert re.search(r'value="feed" checked', page)
    assert not re.search(r'name="reminders" value="1" checked', page)
    assert re.search(r'<option value="en" lang="en" selected>', page)
    # Without a subscription address yet the page says where to get one.
    assert "Sie haben noch keine Abo-Adresse" in page

    choose(client, person["token"], calendar="both", reminders="1", language="de")
    assert stored(person["anna"]) == ("both", True, "de")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"calendar": "fax", "language": "de"},
            "Bitte wählen Sie Einladungen per E-Mail, das Kalender-Abo oder beides.",
        ),
        ({"language": "de"}, "Bitte wählen Sie Einladungen per E-Mail"),
        ({"calendar": "feed", "language": "fr"}, "Bitte wählen Sie Deutsch oder Englisch."),
        ({"calendar": "feed", "language": "de", "reminders": "sometimes"}, "Häkchen"),
        ({"calendar": "feed" * 500, "language": "de"}, "Bitte wählen Sie Einladungen"),
    ],
)
def test_a_choice_not_offered_is_refused_and_changes_nothing(client, person, data, message):
    response = choose(client, person["token"], **data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/{person['token']}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page
    assert NOTHING_SAVED in page
    assert stored(person["anna"]) == ("invitations", True, "de")


def test_the_choices_need_the_form_token_and_a_working_link(client, person):
    # Without the form's token (the page left open overnight): back to the
    # page, which says so; nothing changed.
    response = client.post(f"/p/{person['token']}/choices", data={"calendar": "feed"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/{person['token']}"
    assert "Das Formular war abgelaufen" in client.get(f"/p/{person['token']}").get_data(
        as_text=True
    )
    assert stored(person["anna"]) == ("invitations", True, "de")
    token = csrf_token(client, f"/p/{person['token']}")
    guessed = client.post(
        "/p/not-a-token/choices",
        data={"csrf_token": token, "calendar": "feed", "language": "de"},
    )
    assert guessed.status_code == 404
    assert stored(person["anna"]) == ("invitations", True, "de")


def test_one_participants_link_cannot_change_anothers_choices(client, person):
    # Ben's link is the only key to Ben's choices: Anna's form changes Anna's.
    choose(client, person["token"], calendar="feed", language="en")
    assert stored(person["ben"]) == ("invitations", True, "de")
    page = client.get(f"/p/{person['ben_token']}").get_data(as_text=True)
    assert re.search(r'value="invitations" checked', page)
    assert "Albers" not in page


def test_an_ended_link_changes_nothing(client, person):
    token = csrf_token(client, f"/p/{person['token']}")
    assert tokens.revoke(Purpose.PERSONAL_PAGE, person["anna"])
    db.session.commit()
    response = client.post(
        f"/p/{person['token']}/choices",
        data={"csrf_token": token, "calendar": "feed", "language": "de"},
    )
    assert response.status_code == 404
    assert stored(person["anna"]) == ("invitations", True, "de")


def test_the_feed_shows_every_session_whatever_the_choice(client, person):
    # The choice decides only the invitations: a subscription keeps every session.
    from app.services import calendars

    anna = db.session.get(Participant, person["anna"])
    feed_token = calendars.subscribe_participant(anna)
    db.session.commit()
    before = client.get(f"/feeds/{feed_token}.ics").get_data(as_text=True)
    choose(client, person["token"], calendar="invitations", language="de")
    after = client.get(f"/feeds/{feed_token}.ics").get_data(as_text=True)
    assert before.count("BEGIN:VEVENT") == after.count("BEGIN:VEVENT") > 0


# Staff: "My notifications", reached from the account menu.


@pytest.fixture
def trainer(make):
    org = make.organisation("Eigene GmbH")
    user = make.user(Role.TRAINER, [org], email="tina@example.org", name="Tina Trainerin")
    return user.id


def user_choices(user_id: int) -> tuple[str, bool]:
    db.session.expire_all()
    found = db.session.get(User, user_id)
    return found.calendar_choice, found.digest


def test_a_trainer_finds_the_page_in_the_account_menu(client, trainer):
    log_in(client, "tina@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/me/notifications">Meine Benachrichtigungen</a>' in page
    mine = client.get("/me/notifications").get_data(as_text=True)
    assert "<h1>Meine Benachrichtigungen</h1>" in mine
    assert "Wochenübersicht" in mine
    assert re.search(r'value="invitations" checked', mine)
    assert re.search(r'name="digest" value="1" checked', mine)


def test_a_trainer_chooses_the_feed_and_no_digest(client, trainer):
    log_in(client, "tina@example.org")
    response = post_form(client, "/me/notifications", {"calendar": "feed"})
    assert response.status_code == 302
    assert user_choices(trainer) == ("feed", False)
    page = client.get("/me/notifications").get_data(as_text=True)
    assert "Ihre Auswahl ist gespeichert." in page
    assert re.search(r'value="feed" checked', page)
    post_form(client, "/me/notifications", {"calendar": "both", "digest": "1"})
    assert user_choices(trainer) == ("both", True)


def test_a_trainers_choice_not_offered_is_refused(client, trainer):
    log_in(client, "tina@example.org")
    response = post_form(
        client,
        "/me/notifications",
        {"calendar": "pigeon", "digest": "1"},
        form_url="/me/notifications",
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bitte wählen Sie Einladungen per E-Mail, das Kalender-Abo oder beides." in page
    assert user_choices(trainer) == ("invitations", True)


def test_the_page_needs_a_login(client, trainer):
    assert client.get("/me/notifications").status_code == 302
    assert client.post("/me/notifications", data={"calendar": "feed"}).status_code in (302, 400)
    assert user_choices(trainer) == ("invitations", True)


def test_staff_see_what_the_person_chose(client, make, person):
    # "I never got a reminder" is answered on the person's page.
    from app.models import Organisation

    org = db.session.get(Participant, person["anna"]).organisation_id
    make.user(Role.CONSULTANT, [db.session.get(Organisation, org)], email="staff@example.org")
    choose(client, person["token"], calendar="feed", language="en")
    log_in(client, "staff@example.org")
    page = client.get(f"/participants/{person['anna']}").get_data(as_text=True)
    facts = page.split("Wie die Termine ankommen")[1].split("</dl>")[0]
    assert "Kalender-Abo" in facts
    assert "ausgeschaltet" in facts
    assert "English" in facts


def test_switching_to_the_feed_cancels_the_invited_copies_and_back(client, person):
    # docs/calendar-invitations.md: "invitations → feed" sends a CANCEL per
    # session to come, "feed → invitations" an invitation; invitations ↔ both nothing.
    from sqlalchemy import select

    from app import queue
    from app.models import Notification, Session

    queue.huey.flush()
    coming = {s.id for s in db.session.scalars(select(Session)) if s.cohort_id is not None}
    assert coming

    def messages() -> list[tuple[str, str, int]]:
        db.session.expire_all()
        return sorted(
            (n.kind, n.payload["change"]["what"], n.session_id)
            for n in db.session.scalars(
                select(Notification).where(Notification.participant_id == person["anna"])
            )
        )

    choose(client, person["token"], calendar="both", reminders="1", language="de")
    assert messages() == []
    choose(client, person["token"], calendar="feed", reminders="1", language="en")
    cancelled = messages()
    assert {(kind, what) for kind, what, _ in cancelled} == {("cancellation", "feed_chosen")}
    assert {session for _, _, session in cancelled} == coming
    db.session.expire_all()
    assert {
        n.language
        for n in db.session.scalars(
            select(Notification).where(Notification.participant_id == person["anna"])
        )
    } == {"en"}
    choose(client, person["token"], calendar="feed", language="en")  # reminders only
    assert messages() == cancelled
    choose(client, person["token"], calendar="invitations", reminders="1", language="de")
    invited = [m for m in messages() if m[0] == "invitation"]
    assert {what for _, what, _ in invited} == {"invitations_chosen"}
    assert len(invited) == len(coming)
    queue.huey.flush()


def test_a_trainer_switching_to_the_feed_is_told_per_session(client, make):
    from sqlalchemy import select

    from app import queue
    from app.models import Notification, Organisation

    queue.huey.flush()
    org = make.organisation("Eigene GmbH")
    tina = make.user(Role.TRAINER, [org], email="tina@example.org")
    cohort = make.cohort(db.session.get(Organisation, org.id), trainers=[tina])
    trained = {s.id for s in cohort.sessions if tina in s.trainers}
    tina_id = tina.id
    assert trained
    log_in(client, "tina@example.org")
    post_form(client, "/me/notifications", {"calendar": "feed", "digest": "1"})
    db.session.expire_all()
    told = db.session.scalars(select(Notification).where(Notification.user_id == tina_id)).all()
    assert {n.kind for n in told} == {"cancellation"}
    assert {n.session_id for n in told} == trained
    queue.huey.flush()
