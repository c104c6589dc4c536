"""An admin deactivates and reactivates accounts of their organisations, and
gives a one-time link to set a new password (by e-mail, or shown once)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import throttle
from app.models import Change, Purpose, Role, User
from app.services import api_tokens, tokens
from tests.conftest import PASSWORD
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in, post_form

NEW = "a new and long passphrase"
REFUSED = "E-Mail-Adresse oder Passwort ist falsch, oder die Anmeldung ist nach"


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def team(make, db):
    org = make.organisation()
    other = make.organisation("Andere GmbH")
    admin = make.user(Role.ADMIN, [org], email="admin@example.org", name="Ada Admin")
    trainer = make.user(Role.TRAINER, [org], email="t@example.org", name="Tom Trainer")
    stranger = make.user(Role.TRAINER, [other], email="s@example.org", name="Sara Fremd")
    return SimpleNamespace(org=org.id, admin=admin.id, trainer=trainer.id, stranger=stranger.id)


def press(client, action: str, page: str = "/settings/users", **kwargs):
    # A deactivation is asked first; "confirmed" is the answer of that page.
    data = {"csrf_token": csrf_token(client, page), "confirmed": "yes"}
    return client.post(action, data=data, **kwargs)


def test_only_admins_see_the_accounts_of_their_organisations(client, team):
    log_in(client, "t@example.org")
    assert 'href="/settings"' not in client.get("/dashboard").get_data(as_text=True)
    assert client.get("/settings/users").status_code == 403
    assert client.get("/accounts", follow_redirects=True).status_code == 403
    assert client.post(f"/settings/users/{team.admin}/deactivate", data={}).status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    log_in(client, "admin@example.org")
    assert 'href="/settings"' in client.get("/dashboard").get_data(as_text=True)
    moved = client.get("/accounts")  # the old address of the list
    assert (moved.status_code, moved.headers["Location"]) == (301, "/settings/users")
    page = client.get("/settings/users").get_data(as_text=True)
    assert "<h1>Konten</h1>" in page
    assert "Tom Trainer" in page
    assert "Sara Fremd" not in page  # another organisation's
    assert press(client, f"/settings/users/{team.stranger}/deactivate").status_code == 404


def test_a_trainer_cannot_deactivate_anyone(client, team):
    log_in(client, "t@example.org")
    token = csrf_token(client, "/dashboard")
    response = client.post(f"/settings/users/{team.admin}/deactivate", data={"csrf_token": token})
    assert response.status_code == 403


def test_deactivating_ends_sessions_api_tokens_and_feeds_at_once(app, client, team, db):
    trainer = db.session.get(User, team.trainer)
    api_token = api_tokens.issue(trainer, team.org)
    feed = tokens.issue(Purpose.TRAINER_FEED, team.trainer, team.org, trainer)
    db.session.commit()
    api = {"Authorization": f"Bearer {api_token}"}
    theirs = app.test_client()
    log_in(theirs, "t@example.org")
    assert theirs.get("/dashboard").status_code == 200
    assert theirs.get("/api/v1/cohorts", headers=api).status_code == 200
    assert theirs.get(f"/feeds/{feed}.ics").status_code == 200

    log_in(client, "admin@example.org")
    done = press(client, f"/settings/users/{team.trainer}/deactivate", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Tom Trainer kann sich nicht mehr anmelden" in text
    assert "deaktiviert" in text

    page = theirs.get("/dashboard")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert theirs.get("/api/v1/cohorts", headers=api).status_code == 401
    assert theirs.get(f"/feeds/{feed}.ics").status_code == 404
    refused = post_form(theirs, "/login", {"email": "t@example.org", "password": PASSWORD})
    assert refused.status_code == 200
    assert REFUSED in refused.get_data(as_text=True)
    db.session.expire_all()
    entries = db.session.scalars(select(Change).where(Change.subject == "user")).all()
    assert [(e.subject_id, e.action) for e in entries] == [(team.trainer, "account_deactivated")]
    assert entries[0].after == {"ended": ["trainer_feed", "api"]}

    # Reactivated, the password works again; tokens and feeds stay ended.
    press(client, f"/settings/users/{team.trainer}/reactivate")
    assert log_in(theirs, "t@example.org").status_code == 302
    assert theirs.get("/api/v1/cohorts", headers=api).status_code == 401
    assert theirs.get(f"/feeds/{feed}.ics").status_code == 404


def test_an_admin_cannot_deactivate_their_own_account(client, team):
    log_in(client, "admin@example.org")
    own_page = client.get(f"/settings/users/{team.admin}").get_data(as_text=True)
    assert f"/settings/users/{team.admin}/deactivate" not in own_page
    response = press(client, f"/settings/users/{team.admin}/deactivate", follow_redirects=True)
    assert "Ihr eigenes Konto können Sie nicht deaktivieren." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200


def _shown_link(client, user_id: int) -> str:
    shown = press(client, f"/settings/users/{user_id}/reset-link").get_data(as_text=True)
    assert "Er wird nur jetzt angezeigt" in shown
    return re.search(r'value="http://localhost(/reset/[A-Za-z0-9_-]+)"', shown).group(1)


def _set(client, link: str, password: str = NEW, **kwargs):
    data = {"new_password": password, "confirm": password}
    return post_form(client, link, data, **kwargs)


def test_a_reset_link_shown_once_sets_a_new_password_once(app, client, team, db):
    theirs = app.test_client()
    log_in(theirs, "t@example.org")
    outsider = app.test_client()
    outsider.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    for _ in range(6):  # someone keeps the account paused meanwhile
        post_form(outsider, "/login", {"email": "t@example.org", "password": "guess"})
    log_in(client, "admin@example.org")
    link = _shown_link(client, team.trainer)
    user = db.session.get(User, team.trainer)
    assert link.removeprefix("/reset/") not in (user.reset_token_hash or "")  # only a hash

    person = app.test_client()  # the trainer's new computer, never used before
    page = person.get(link)
    assert page.status_code == 200
    assert "Neues Passwort festlegen" in page.get_data(as_text=True)
    refused = _set(person, link, "short", follow_redirects=True)
    assert "Das Passwort braucht mindestens 12 Zeichen." in refused.get_data(as_text=True)
    assert person.get(link).status_code == 200  # still usable
    done = _set(person, link)
    assert done.status_code == 303
    assert done.headers["Location"] == "/login"
    assert person.get(link).status_code == 404  # used up
    assert "funktioniert nicht mehr" in person.get(link).get_data(as_text=True)
    assert theirs.get("/dashboard").status_code == 302  # old sessions ended
    # The new password works at once, even from this new browser.
    assert log_in(person, "t@example.org", NEW).status_code == 302


def test_a_new_link_replaces_the_earlier_and_links_expire(client, team, db):
    log_in(client, "admin@example.org")
    first = _shown_link(client, team.trainer)
    second = _shown_link(client, team.trainer)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    user = db.session.get(User, team.trainer)
    user.reset_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert client.get(second).status_code == 404
    assert _set(client, second).status_code == 404


def test_a_deactivated_account_gets_no_link_and_loses_one_in_flight(client, team):
    log_in(client, "admin@example.org")
    link = _shown_link(client, team.trainer)
    press(client, f"/settings/users/{team.trainer}/deactivate")
    assert client.get(link).status_code == 404
    response = press(client, f"/settings/users/{team.trainer}/reset-link", follow_redirects=True)
    assert "Das Konto ist deaktiviert; aktivieren Sie es zuerst wieder." in response.get_data(
        as_text=True
    )


@pytest.fixture
def inbox(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://qualiplan.example.org")
    with mail_server(app) as server:
        yield server.inbox


def test_a_reset_link_is_sent_by_email_on_the_public_address(app, client, team, inbox):
    log_in(client, "admin@example.org")
    page = client.get(f"/settings/users/{team.trainer}").get_data(as_text=True)
    assert "Link per E-Mail schicken" in page
    sent = press(client, f"/settings/users/{team.trainer}/reset-link/send", follow_redirects=True)
    assert "wurde an t@example.org geschickt" in sent.get_data(as_text=True)
    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == "t@example.org"
    assert str(message["Subject"]) == "Neues Passwort für Qualiplan festlegen"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hallo Tom Trainer,")
    link = re.search(r"https://qualiplan\.example\.org(/reset/[A-Za-z0-9_-]+)", body).group(1)
    person = app.test_client()
    assert _set(person, link).status_code == 303
    assert log_in(person, "t@example.org", NEW).status_code == 302


def test_without_a_mail_server_sending_changes_nothing(client, team):
    log_in(client, "admin@example.org")
    page = client.get(f"/settings/users/{team.trainer}").get_data(as_text=True)
    assert "Link per E-Mail schicken" not in page
    link = _shown_link(client, team.trainer)
    response = press(
        client, f"/settings/users/{team.trainer}/reset-link/send", follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "E-Mail-Versand ist auf diesem Server nicht eingerichtet" in text
    assert client.get(link).status_code == 200  # the earlier link still works
